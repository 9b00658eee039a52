"""Published revisions of an agenda, and the working copy the clerk edits.

Publishing stores a snapshot of the agenda as published (`snapshot_of`, kept on the
publication). The public and members read the latest snapshot on every surface; staff read
the working copy unless they ask for a revision (`agenda_for`). A snapshot's items and papers
answer the same predicates as the working copy's (agenda.models.ItemRules and PaperRules), so
what a reader may see is decided in one place whichever copy is read.

One exception to "a change shows only once published": a visibility made stricter on the
working copy applies to the published revisions at once, because withdrawing something that
should never have been public cannot wait for a supplement.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.agenda.models import (
    AgendaItem,
    AgendaItemParagraph,
    Document,
    DocumentParagraph,
    ItemKind,
    ItemRules,
    PaperRules,
    RevisionPaper,
    Visibility,
)
from app.core.permissions import is_staff
from app.core.web import format_local_datetime
from app.extensions import db
from app.meetings.models import AgendaPublication, Meeting

DRAFT = "draft"


class NoSuchRevision(LookupError):
    """The revision asked for does not exist, or is not this reader's to see (a 404)."""


# --- taking a snapshot ---------------------------------------------------------------------


def _paper_facts(doc: Document) -> dict:
    return {
        "id": doc.id,
        "position": doc.position,
        "title": doc.title,
        "filename": doc.filename,
        "content_type": doc.content_type,
        "sha256": doc.sha256,
        "size_bytes": doc.size_bytes,
        "page_count": doc.page_count,
        "visibility": doc.visibility.value,
        "exempt_paragraphs": list(doc.exempt_paragraphs),
        "public_interest_reason": doc.public_interest_reason,
        "uploaded_at": doc.uploaded_at.isoformat() if doc.uploaded_at else None,
    }


def _utc(moment: datetime) -> datetime:
    # The same instant, however it is held: in UTC from the database, perhaps with the
    # committee's offset (or naive, UTC) before.
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def snapshot_of(meeting: Meeting) -> dict:
    """The working copy as plain data: what a publication keeps."""
    items = []
    for item, number in meeting.numbered_items():
        items.append(
            {
                "id": item.id,
                "parent_id": item.parent_id,
                "position": item.position,
                "number": number,
                "section": item.section,
                "kind": item.kind.value,
                "title": item.title,
                "purpose": item.purpose,
                "presenter_id": item.presenter_id,
                "presenter_name": item.presenter_name,
                "visibility": item.visibility.value,
                "exempt_paragraphs": list(item.exempt_paragraphs),
                "public_interest_reason": item.public_interest_reason,
                "urgent": bool(item.urgent),
                "urgent_reason": item.urgent_reason,
                "documents": [_paper_facts(d) for d in item.documents],
            }
        )
    return {
        "starts_at": _utc(meeting.starts_at).isoformat(),
        "venue": meeting.venue,
        "items": items,
    }


def keep_snapshot(publication: AgendaPublication, snapshot: dict) -> None:
    """Store a snapshot of the working copy on a new publication, with the index of its
    papers."""
    publication.snapshot = snapshot
    for entry in snapshot["items"]:
        for paper in entry["documents"]:
            db.session.add(
                RevisionPaper(
                    publication=publication,
                    document_id=paper["id"],
                    meeting_id=publication.meeting.id,
                    revision=publication.revision,
                )
            )


# --- reading a snapshot --------------------------------------------------------------------


def _stricter_of(published, live) -> None:
    """A visibility made stricter on the working copy since applies at once (see the module),
    with the grounds that go with it."""
    if live is not None and live.visibility.rank > published.visibility.rank:
        published.visibility = live.visibility
        published.exempt_paragraphs = list(live.exempt_paragraphs)
        published.public_interest_reason = live.public_interest_reason


class PublishedPaper(PaperRules):
    """A paper as a revision published it."""

    def __init__(self, item: PublishedItem, facts: dict, live: Document | None):
        self.item = item
        self.agenda_item_id = item.id
        self.id: int = facts["id"]
        self.position: int = facts["position"]
        self.title: str = facts["title"]
        self.filename: str = facts["filename"]
        self.content_type: str = facts["content_type"]
        self.sha256: str = facts["sha256"]
        self.size_bytes: int = facts["size_bytes"]
        self.page_count: int = facts["page_count"]
        self.visibility = Visibility(facts["visibility"])
        self.exempt_paragraphs: list[int] = list(facts["exempt_paragraphs"])
        self.public_interest_reason: str | None = facts["public_interest_reason"]
        uploaded = facts.get("uploaded_at")
        self.uploaded_at = datetime.fromisoformat(uploaded) if uploaded else None
        _stricter_of(self, live)

    @property
    def text_content(self) -> str | None:
        # The text of the same file, wherever it is still on the working copy.
        return db.session.scalar(
            select(Document.text_content).where(Document.sha256 == self.sha256).limit(1)
        )


class PublishedItem(ItemRules):
    """An agenda item as a revision published it."""

    def __init__(self, meeting: Meeting, facts: dict, live: AgendaItem | None, parent):
        self.meeting = meeting
        self.meeting_id = meeting.id
        self.parent = parent
        self.children: list[PublishedItem] = []
        self.id: int = facts["id"]
        self.parent_id: int | None = facts["parent_id"]
        self.position: int = facts["position"]
        self.number: str = facts["number"]
        self.section: str | None = facts["section"]
        self.kind = ItemKind(facts["kind"])
        self.title: str = facts["title"]
        self.purpose: str | None = facts["purpose"]
        self.presenter_id: int | None = facts["presenter_id"]
        self.presenter_name: str | None = facts["presenter_name"]
        self.visibility = Visibility(facts["visibility"])
        self.exempt_paragraphs: list[int] = list(facts["exempt_paragraphs"])
        self.public_interest_reason: str | None = facts["public_interest_reason"]
        self.urgent: bool = facts["urgent"]
        self.urgent_reason: str | None = facts["urgent_reason"]
        _stricter_of(self, live)
        live_papers = {d.id: d for d in live.documents} if live is not None else {}
        self.documents = [
            PublishedPaper(self, paper, live_papers.get(paper["id"]))
            for paper in facts["documents"]
        ]


class Agenda:
    """One copy of a meeting's agenda: a published revision, or the working copy (revision
    None). `numbered_items()` gives (item, number) in agenda order, as Meeting's does."""

    def __init__(self, meeting: Meeting, revision: int | None, publication=None, rows=None):
        self.meeting = meeting
        self.revision = revision
        self.publication = publication
        if self.reads_live:
            self._numbered = meeting.numbered_items()
        else:
            self._numbered = self._read(publication.snapshot, rows)

    @property
    def is_working_copy(self) -> bool:
        return self.revision is None

    @property
    def reads_live(self) -> bool:
        """Whether this copy is the working copy's rows themselves (the working copy, or a
        revision published before snapshots were kept)."""
        return self.revision is None or unsnapshotted(self.publication)

    def _read(self, snapshot: dict, rows=None) -> list[tuple[PublishedItem, str]]:
        # The working copy's rows, in one go: their visibility may be stricter by now.
        if rows is None:
            rows = db.session.scalars(
                _with_papers(select(AgendaItem).where(AgendaItem.meeting_id == self.meeting.id))
            ).all()
        live = {i.id: i for i in rows}
        made: dict[int, PublishedItem] = {}
        out = []
        for facts in snapshot["items"]:
            parent = made.get(facts["parent_id"]) if facts["parent_id"] else None
            item = PublishedItem(self.meeting, facts, live.get(facts["id"]), parent)
            item.revision = self.revision
            for paper in item.documents:
                paper.revision = self.revision
            if parent is not None:
                parent.children.append(item)
            made[item.id] = item
            out.append((item, item.number))
        return out

    def numbered_items(self):
        return list(self._numbered)

    @property
    def items(self):
        return [item for item, _ in self._numbered]

    def papers(self):
        return [d for item in self.items for d in item.documents]

    def item(self, item_id: int):
        return next((i for i in self.items if i.id == item_id), None)

    def paper(self, document_id: int):
        return next((d for d in self.papers() if d.id == document_id), None)


def parse_revision(value) -> int | str | None:
    """`?revision=` as given: None, "draft" or a number; anything else is no such revision."""
    if value in (None, ""):
        return None
    if value == DRAFT:
        return DRAFT
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NoSuchRevision(value) from None
    if number < 1:
        raise NoSuchRevision(value)
    return number


def unsnapshotted(publication: AgendaPublication | None) -> bool:
    """A revision with no snapshot (published before they were kept) reads as the working
    copy."""
    return publication is None or publication.snapshot is None


def publication_of(meeting: Meeting, revision: int) -> AgendaPublication | None:
    return next((p for p in meeting.publications if p.revision == revision), None)


def published(meeting: Meeting, revision: int | None = None) -> Agenda:
    """Revision N as published (the latest by default). Empty before the first publication."""
    revision = meeting.agenda_revision if revision is None else revision
    if revision < 1:
        agenda = Agenda(meeting, 0)
        agenda._numbered = []
        return agenda
    publication = publication_of(meeting, revision)
    if publication is None and revision != meeting.agenda_revision:
        raise NoSuchRevision(revision)
    # A publication without a snapshot (made before they were kept) reads as the working copy.
    return Agenda(meeting, revision, publication)


def _with_papers(query):
    return query.options(
        selectinload(AgendaItem.paragraph_rows),
        selectinload(AgendaItem.documents).selectinload(Document.paragraph_rows),
    )


def load_working_copies(meeting_ids) -> None:
    """Loads these meetings' working-copy rows (items with their children, paragraphs,
    presenters and papers) in a few queries, for a reader of every row: not row by row."""
    if not meeting_ids:
        return
    items = selectinload(Meeting.items)
    db.session.scalars(
        select(Meeting)
        .where(Meeting.id.in_(list(meeting_ids)))
        .options(
            items.selectinload(AgendaItem.children),
            items.selectinload(AgendaItem.paragraph_rows),
            items.selectinload(AgendaItem.presenter),
            items.selectinload(AgendaItem.documents).selectinload(Document.paragraph_rows),
        )
    ).all()


@dataclass
class _Live:
    """What a snapshot asks of a working-copy row (its visibility may be stricter by now):
    read as plain columns for many meetings at once, not as whole rows with their papers."""

    id: int
    visibility: Visibility
    public_interest_reason: str | None
    exempt_paragraphs: list[int] = field(default_factory=list)
    documents: list[_Live] = field(default_factory=list)


def _live_facts(meeting_ids: list[int]) -> dict[int, list[_Live]]:
    rows: dict[int, list[_Live]] = {mid: [] for mid in meeting_ids}
    if not meeting_ids:
        return rows
    items: dict[int, _Live] = {}
    for item_id, meeting_id, visibility, reason in db.session.execute(
        select(
            AgendaItem.id,
            AgendaItem.meeting_id,
            AgendaItem.visibility,
            AgendaItem.public_interest_reason,
        ).where(AgendaItem.meeting_id.in_(meeting_ids))
    ):
        items[item_id] = _Live(item_id, visibility, reason)
        rows[meeting_id].append(items[item_id])
    # By subquery, not a list of ids: a search batch may touch thousands of items.
    item_ids = select(AgendaItem.id).where(AgendaItem.meeting_id.in_(meeting_ids))
    paper_ids = select(Document.id).where(Document.agenda_item_id.in_(item_ids))
    papers: dict[int, _Live] = {}
    for paper_id, item_id, visibility, reason in db.session.execute(
        select(
            Document.id,
            Document.agenda_item_id,
            Document.visibility,
            Document.public_interest_reason,
        ).where(Document.id.in_(paper_ids))
    ):
        papers[paper_id] = _Live(paper_id, visibility, reason)
        items[item_id].documents.append(papers[paper_id])
    for owner, ids, into in (
        (AgendaItemParagraph.agenda_item_id, item_ids, items),
        (DocumentParagraph.document_id, paper_ids, papers),
    ):
        paragraph = owner.class_.paragraph
        for owner_id, number in db.session.execute(
            select(owner, paragraph).where(owner.in_(ids)).order_by(paragraph)
        ):
            into[owner_id].exempt_paragraphs.append(number)
    return rows


def latest_published(meetings) -> dict[int, Agenda]:
    """`published(meeting)` for each of several published meetings (by id), the working-copy
    rows their snapshots are read against loaded for all of them at once rather than a meeting
    at a time (for search, whose hits may come from any number of meetings)."""
    meetings = [m for m in meetings if m.agenda_revision]
    publications = {m.id: publication_of(m, m.agenda_revision) for m in meetings}
    snapshotted = [m.id for m in meetings if not unsnapshotted(publications[m.id])]
    rows = _live_facts(snapshotted)
    # Revisions published before snapshots were kept read the working copy itself.
    load_working_copies([m.id for m in meetings if m.id not in rows])
    return {
        m.id: Agenda(m, m.agenda_revision, publications[m.id], rows=rows[m.id])
        if m.id in rows
        else published(m)
        for m in meetings
    }


def working_copy(meeting: Meeting) -> Agenda:
    return Agenda(meeting, None)


def reads_working_copy(user) -> bool:
    """Whether this reader's agenda is the working copy by default: those who edit it."""
    return is_staff(user)


def agenda_for(meeting: Meeting, user, revision=None) -> Agenda:
    """The agenda this reader reads: `revision` as parsed by parse_revision. Raises
    NoSuchRevision for a revision that does not exist, or the draft to anyone but staff."""
    if revision == DRAFT or (revision is None and reads_working_copy(user)):
        if not reads_working_copy(user):
            raise NoSuchRevision(revision)
        return working_copy(meeting)
    if isinstance(revision, int) and revision > meeting.agenda_revision:
        raise NoSuchRevision(revision)
    return published(meeting, revision)


def published_paper(document_id: int, user, revision=None):
    """A paper as this reader may have it, in the agenda they read (agenda_for): the working
    copy for staff, the latest revision (or the one asked for) for everyone else. Staff also
    get a paper gone from the working copy, as the last revision that carried it published
    it. None when there is no such paper for this reader."""
    live = db.session.get(Document, document_id)
    carried = db.session.execute(
        select(RevisionPaper.meeting_id, RevisionPaper.revision).where(
            RevisionPaper.document_id == document_id
        )
    ).all()
    if live is not None:
        meeting = live.item.meeting
    elif carried:
        meeting = db.session.get(Meeting, carried[0].meeting_id)
    else:
        return None
    if meeting is None:
        return None
    try:
        paper = agenda_for(meeting, user, revision).paper(document_id)
    except NoSuchRevision:
        return None
    if paper is None and revision is None and reads_working_copy(user):
        last = max((r.revision for r in carried if r.meeting_id == meeting.id), default=None)
        if last is not None:
            paper = published(meeting, last).paper(document_id)
    return paper


# --- what changed ----------------------------------------------------------------------------

_FIELD_WORDS = {
    "section": "section heading",
    "purpose": "purpose",
    "presenter_name": "presenter",
    "kind": "kind of item",
    "visibility": "visibility",
    "exempt_paragraphs": "exemption paragraphs",
    "public_interest_reason": "public interest statement",
    "urgent_reason": "special circumstances",
}


_PAPER_WORDS = {
    "title": "title",
    "visibility": "visibility",
    "exempt_paragraphs": "exemption paragraphs",
    "public_interest_reason": "public interest statement",
}


def _words(names) -> str:
    names = list(dict.fromkeys(names))
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _restricted(entry: dict, parent: dict | None) -> bool:
    return entry["visibility"] != "public" or (
        parent is not None and parent["visibility"] != "public"
    )


def changes_between(meeting: Meeting, old: dict, new: dict) -> list[str]:
    """What changed from one snapshot to another, a line for each change, in words fit for
    the public revision history (nothing of restricted papers but that they exist)."""
    old_items = {e["id"]: e for e in old["items"]}
    new_items = {e["id"]: e for e in new["items"]}
    order = [e["id"] for e in new["items"]]
    lines: list[tuple[tuple, str]] = []

    def place(item_id) -> tuple:
        return (0, order.index(item_id))

    if (old.get("starts_at"), old.get("venue")) != (new.get("starts_at"), new.get("venue")):
        when = format_local_datetime(datetime.fromisoformat(new["starts_at"]), meeting.timezone)
        where = f", {new['venue']}" if new.get("venue") else ""
        lines.append(((-1, 0), f"The meeting is now on {when}{where}"))

    # An item moved when it is not in the longest runs the two orders share.
    kept_old = [i for i in (e["id"] for e in old["items"]) if i in new_items]
    kept_new = [i for i in order if i in old_items]
    matcher = difflib.SequenceMatcher(None, kept_old, kept_new, autojunk=False)
    in_place = {kept_new[b.b + k] for b in matcher.get_matching_blocks() for k in range(b.size)}

    for entry in new["items"]:
        n, title, at = entry["number"], entry["title"], place(entry["id"])
        before = old_items.get(entry["id"])
        if before is None:
            urgent = "urgent " if entry["urgent"] else ""
            lines.append((at, f"Added {urgent}item {n}: {title}"))
        else:
            if before["title"] != title:
                lines.append(
                    (
                        at,
                        f"Item {n} renamed from \u201c{before['title']}\u201d to "
                        f"\u201c{title}\u201d",
                    )
                )
            fields = [w for f, w in _FIELD_WORDS.items() if before.get(f) != entry.get(f)]
            if fields:
                lines.append((at, f"Item {n} ({title}): {_words(fields)} changed"))
            if entry["id"] not in in_place or before["parent_id"] != entry["parent_id"]:
                lines.append((at, f"{title} moved: now item {n}"))
        parent = new_items.get(entry["parent_id"]) if entry["parent_id"] else None
        old_papers = {p["id"]: p for p in (before or {}).get("documents", [])}
        for paper in entry["documents"]:
            if paper["id"] in old_papers:
                continue
            if paper["visibility"] != "public" or _restricted(entry, parent):
                lines.append((at, f"Paper added to item {n} (not for publication)"))
            else:
                lines.append((at, f"Paper added to item {n}: {paper['title']}"))
        if before is None:
            continue
        new_papers = {p["id"]: p for p in entry["documents"]}
        old_parent = old_items.get(before["parent_id"]) if before["parent_id"] else None
        for paper in before["documents"]:
            if paper["id"] in new_papers:
                now = new_papers[paper["id"]]
                # Named only if public before and after: a paper withdrawn may be withdrawn
                # for what its title says.
                public = not _restricted(before, old_parent) and not _restricted(entry, parent)
                public = public and paper["visibility"] == now["visibility"] == "public"
                changed = [w for f, w in _PAPER_WORDS.items() if paper.get(f) != now.get(f)]
                if changed:
                    name = f": {paper['title']}" if public else ""
                    lines.append((at, f"Paper on item {n}{name}: {_words(changed)} changed"))
                continue
            public = paper["visibility"] == "public" and not _restricted(before, old_parent)
            if public:
                lines.append((at, f"Paper removed from item {n}: {paper['title']}"))
            else:
                lines.append((at, f"Paper removed from item {n}"))
    for entry in old["items"]:
        if entry["id"] not in new_items:
            lines.append(((2, 0), f"Removed item: {entry['title']}"))
    return [text for _, text in sorted(lines, key=lambda pair: pair[0])]


def unpublished_changes(meeting: Meeting, current: dict | None = None) -> list[str]:
    """What changed on a published agenda since its latest revision: the difference between
    that revision's snapshot and the working copy. Empty when unpublished or unchanged."""
    if meeting.agenda_revision == 0:
        return []
    publication = publication_of(meeting, meeting.agenda_revision)
    if unsnapshotted(publication):
        return []  # published before snapshots were kept: nothing to compare with
    return changes_between(meeting, publication.snapshot, current or snapshot_of(meeting))
