"""Agenda packs and minutes as PDF. Pure builders: they take a meeting and a variant, never
the request, so a view, the CLI or a worker can call them alike.

A pack is: front sheet and agenda (pages i, ii, ...), then every paper in agenda order, pages
numbered from 1 and stamped "Page N" by a light overlay. The agenda's "(Pages 11 - 16)" come
from the same page counts the stamps use, so they always agree. The public variant replaces
each exempt paper with one NOT FOR PUBLICATION page and carries nothing else of it.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pikepdf
import weasyprint
from flask import render_template
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased
from weasyprint import HTML

from app.actions.models import Action, ActionUpdate
from app.actions.services import OPEN_STATUSES, actions_by_minute, tracker_query
from app.agenda.documents import document_path
from app.agenda.models import (
    SCHEDULE_12A,
    AgendaItem,
    AgendaItemParagraph,
    Document,
    DocumentParagraph,
    ItemKind,
)
from app.committees.models import Membership
from app.core.markdown import render as render_markdown
from app.core.permissions import CommitteeReader
from app.extensions import db
from app.meetings import attendance as attendance_services
from app.meetings.models import (
    AgendaPublication,
    Attendance,
    AttendanceStatus,
    Declaration,
    Meeting,
    MinutesState,
)
from app.meetings.services import previous_meeting
from app.minutes.models import Minute, Resolution, ResolutionVote
from app.packs import merge
from app.people.models import Person

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _templates_digest(root: Path = TEMPLATES) -> str:
    """A hash of the page templates (the PDF ones and the macros they share with the pages),
    so a changed template changes every content key without anyone remembering to."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.html")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


TEMPLATE_VERSION = _templates_digest()
PUBLIC, MEMBERS = "public", "members"
VARIANTS = (PUBLIC, MEMBERS)


class PackError(Exception):
    """The pack cannot be built (e.g. a stored paper is missing)."""


@dataclass
class Paper:
    """One run of pages in the pack, attached to an agenda item."""

    item: AgendaItem
    number: str
    title: str
    kind: str  # "minutes", "actions", "document", "withheld"
    pdf: bytes = b""
    pages: int = 0
    restricted: bool = False
    first_page: int = 0
    document: Document | None = None

    @property
    def last_page(self) -> int:
        return self.first_page + self.pages - 1


@dataclass
class Pack:
    pdf: bytes
    pages: int
    agenda_pages: int
    papers: list[Paper] = field(default_factory=list)


def _render(template: str, tagged: bool = True, **context) -> bytes:
    """A generated part as PDF. The HTML is everything WeasyPrint is given (styles are
    inline), so parts are cached by its hash and an unchanged part is never rendered twice."""
    from app.packs import cache  # cache builds packs with this module

    html = render_template(template, **context)
    options = {"pdf_variant": "pdf/ua-1", "pdf_tags": True} if tagged else {}
    return cache.rendered_part(
        template,
        [weasyprint.__version__, sorted(options.items()), html],
        lambda: HTML(string=html, base_url=".").write_pdf(custom_metadata=True, **options),
    )


def _parts_dir():
    from app.packs import cache

    return cache.parts_dir()


def _strips_dir():
    from app.packs import cache

    return cache.strips_dir()


def _count(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


def reader_for(meeting: Meeting, variant: str):
    """Who a variant is for, as the permission predicates understand it: the public pack is
    what an anonymous visitor may see, the members' pack what any member may see."""
    return CommitteeReader(meeting.committee_id) if variant == MEMBERS else None


def _minutes_context(meeting: Meeting, include_restricted: bool) -> dict:
    minutes = db.session.scalars(
        select(Minute).where(Minute.meeting_id == meeting.id).order_by(Minute.number)
    ).all()
    # A restricted minute this audience may not see keeps its place as a heading only (its
    # number and grounds, see withheld_heading): nothing else of it reaches the PDF.
    withheld = set() if include_restricted else {m.id for m in minutes if m.restricted}
    shown = [m for m in minutes if m.id not in withheld]
    by_status = {s: meeting.attendance_by_status(s) for s in AttendanceStatus}
    # The same helpers as the meeting page, so the PDF records what the page shows. Actions
    # are those of the minutes shown: whoever may see a minute may see its actions.
    return {
        "meeting": meeting,
        "minutes": minutes,
        "withheld": withheld,
        "schedule_12a": SCHEDULE_12A,
        "attendance": by_status,
        "quorum": attendance_services.quorum(meeting),
        "declarations": attendance_services.declarations_by_item(meeting, include_restricted),
        "actions": actions_by_minute(shown),
        "item_numbers": {i.id: n for i, n in meeting.numbered_items()},
        "render_markdown": render_markdown,
        "draft": meeting.minutes_state != MinutesState.APPROVED,
    }


def minutes_pdf(meeting: Meeting, include_restricted: bool, standalone: bool = True) -> bytes:
    """The minutes; standalone ones number their own pages, those in a pack are stamped."""
    return _render(
        "packs/pdf/minutes.html",
        **_minutes_context(meeting, include_restricted),
        standalone=standalone,
    )


def _papers(meeting: Meeting, variant: str) -> list[Paper]:
    members = variant == MEMBERS
    reader = reader_for(meeting, variant)
    papers: list[Paper] = []
    previous = previous_meeting(meeting)
    for item, number in meeting.numbered_items():
        if item.kind == ItemKind.PREVIOUS_MINUTES and previous is not None:
            title = f"Minutes of the meeting held on {_long_date(previous)}"
            if previous.can_see_minutes(reader):
                pdf = minutes_pdf(
                    previous,
                    include_restricted=previous.can_see_restricted(reader),
                    standalone=False,
                )
                papers.append(Paper(item, number, title, "minutes", pdf, _count(pdf)))
            else:
                # Draft minutes this audience may not see yet: say so rather than leave a gap.
                pdf = _render(
                    "packs/pdf/to_follow.html",
                    previous=previous,
                    long_date=_long_date(previous),
                    public=not members,
                )
                papers.append(Paper(item, number, f"{title} (to follow)", "to_follow", pdf, 1))
        if item.kind == ItemKind.MATTERS_ARISING:
            actions = action_log(meeting, reader)
            pdf = _render(
                "packs/pdf/actions.html",
                meeting=meeting,
                actions=actions,
                as_at=_as_at(meeting, actions),
            )
            papers.append(Paper(item, number, "Action log", "actions", pdf, _count(pdf)))
        withheld_item = False
        for doc in item.documents:
            restricted = doc.visibility.restricted or item.restricted
            if restricted and not members and item.restricted and withheld_item:
                continue  # one page stands for all of a restricted item's papers
            if restricted and not members:
                withheld_item = True
                paragraphs = doc.exempt_paragraphs or item.exempt_paragraphs
                reason = doc.public_interest_reason or item.public_interest_reason
                pdf = _render(
                    "packs/pdf/withheld.html",
                    item=item,
                    number=number,
                    paragraphs=[(p, SCHEDULE_12A[p]) for p in paragraphs],
                    reason=reason,
                    visibility=(
                        doc.visibility if doc.visibility.restricted else item.visibility
                    ).value,
                )
                # The paper's own title may itself say too much: the public sees the item's.
                papers.append(
                    Paper(
                        item,
                        number,
                        f"Item {number}: not for publication",
                        "withheld",
                        pdf,
                        1,
                        restricted=True,
                    )
                )
                continue  # a confidential paper in an open item hides only itself
            path = document_path(doc)
            if not path.exists():
                raise PackError(f"The stored file of paper {doc.id} ({doc.title}) is missing.")
            papers.append(
                Paper(
                    item,
                    number,
                    doc.title,
                    "document",
                    b"",
                    doc.page_count,
                    restricted=restricted,
                    document=doc,
                )
            )
    page = 1
    for paper in papers:
        paper.first_page = page
        page += paper.pages
    return papers


# What a pack shows in full, by kind; see shown().
SHOWN_KINDS = ("items", "documents", "minutes", "declarations", "actions")


def shown(meeting: Meeting, variant: str) -> dict[str, list[int]]:
    """Everything the pack shows this audience in full, by identity: the items whose purpose
    it prints, the uploaded papers it carries, the previous meeting's minutes, declarations and
    actions in its minutes, and the action log's rows. The manifest kept with a built pack is
    this, and an older pack may be served while a rebuild fails only if all of it is still
    shown now (packs.cache). It asks the predicates that _papers and the templates ask."""
    members = variant == MEMBERS
    reader = reader_for(meeting, variant)
    items = [i for i, _ in meeting.numbered_items()]
    out: dict[str, set[int]] = {kind: set() for kind in SHOWN_KINDS}
    out["items"] = {i.id for i in items if members or not i.restricted}
    out["documents"] = {d.id for i in items for d in i.documents if members or not d.restricted}
    previous = previous_meeting(meeting)
    kinds = {i.kind for i in items}
    if (
        ItemKind.PREVIOUS_MINUTES in kinds
        and previous is not None
        and previous.can_see_minutes(reader)
    ):
        include_restricted = previous.can_see_restricted(reader)
        minutes = [
            m
            for m in db.session.scalars(select(Minute).where(Minute.meeting_id == previous.id))
            if include_restricted or not m.restricted
        ]
        out["minutes"] = {m.id for m in minutes}
        declared = attendance_services.declarations_by_item(previous, include_restricted)
        out["declarations"] = {d.id for ds in declared.values() for d in ds}
        out["actions"] = {a.id for acts in actions_by_minute(minutes).values() for a in acts}
    if ItemKind.MATTERS_ARISING in kinds:
        out["actions"] |= {a.id for a in action_log(meeting, reader)}
    return {kind: sorted(ids) for kind, ids in out.items()}


def _action_log_query(meeting: Meeting, reader):
    return tracker_query(meeting.committee_id, user=reader, for_reader=True).where(
        Action.status.in_(OPEN_STATUSES)
    )


def action_log(meeting: Meeting, reader) -> list:
    """Open actions as the action tracker shows them to this reader (the same query)."""
    return list(db.session.scalars(_action_log_query(meeting, reader)))


def _as_at(meeting: Meeting, actions: list) -> date:
    """The date the action log speaks for ("overdue" is judged on it): the later of the
    agenda's publication and the last progress reported on a listed action. Taken from the
    data, not the clock, so an unchanged pack stays the same from one day to the next."""
    moments = [a.latest_update.created_at for a in actions if a.latest_update]
    published = [p.published_at for p in meeting.publications]
    moments.append(
        max(published) if published else (meeting.agenda_published_at or meeting.created_at)
    )
    return max(m.astimezone(meeting.tz) for m in moments if m is not None).date()


def _long_date(meeting: Meeting) -> str:
    local = meeting.local_start
    return f"{local:%A} {local.day} {local:%B %Y}"


def _page_range(papers: list[Paper]) -> dict[int, str]:
    """Item id -> "(Pages 11 - 16)" or "(Page 17)" over all its papers."""
    spans: dict[int, list[int]] = {}
    for p in papers:
        spans.setdefault(p.item.id, []).extend([p.first_page, p.last_page])
    out = {}
    for item_id, pages in spans.items():
        first, last = min(pages), max(pages)
        out[item_id] = f"(Page {first})" if first == last else f"(Pages {first} - {last})"
    return out


def build_pack(meeting: Meeting, variant: str = PUBLIC) -> Pack:
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    # Each upload's bottom strips were looked at when it was uploaded; a file from before
    # that (or whose answer was lost) is looked at by poppler while the generated parts
    # render (all the meeting's papers: which ones this variant includes is known only later).
    check = merge.StripCheck(
        [(document_path(d), d.page_count) for item in meeting.items for d in item.documents],
        _strips_dir(),
    )
    papers = _papers(meeting, variant)
    ranges = _page_range(papers)
    rows = []
    section = None
    for item, number in meeting.numbered_items():
        heading = None
        if item.parent_id is None and item.section != section:
            section = heading = item.section
        rows.append(
            {
                "item": item,
                "number": number,
                "heading": heading,
                "pages": ranges.get(item.id, ""),
                "show_purpose": variant == MEMBERS or not item.restricted,
                "paragraphs": [(p, SCHEDULE_12A[p]) for p in item.exempt_paragraphs],
            }
        )
    committee = meeting.committee
    front = _render(
        "packs/pdf/agenda.html",
        meeting=meeting,
        committee=committee,
        rows=rows,
        members=committee.current_memberships(meeting.local_start.date()),
        variant=variant,
        long_date=_long_date(meeting),
    )
    return _assemble(meeting, variant, front, papers, check)


def _assemble(
    meeting: Meeting, variant: str, front: bytes, papers: list[Paper], check: merge.StripCheck
) -> Pack:
    out = pikepdf.open(io.BytesIO(front))
    agenda_pages = len(out.pages)
    title = f"{meeting.committee.name}: agenda pack, {_long_date(meeting)}"
    if variant == MEMBERS:
        title += " (members' version)"
    opened = []
    paper_pages = sum(p.pages for p in papers)
    outline_entries = []
    try:
        stamps = _stamps(variant, papers, paper_pages, opened)
        tree = merge.StructureTree(out)
        for paper in papers:
            src = _open_paper(paper)
            opened.append(src)
            start_index = len(out.pages)
            out.pages.extend(src.pages)
            pages = list(out.pages[start_index:])
            tree.add(src, pages, _paper_label(paper, variant))
            crowded = (
                check.results(document_path(paper.document), paper.pages)
                if paper.kind == "document"
                else [False] * paper.pages
            )
            for offset, target in enumerate(pages):
                if crowded[offset]:
                    merge.pad_visual_bottom(target)
                merge.add_stamp(out, target, stamps[paper.first_page - 1 + offset])
            outline_entries.append((paper, start_index))
        tree.finish()
        _outline(out, meeting, variant, outline_entries)
        _labels(out, agenda_pages)
        _metadata(out, title)
        buffer = io.BytesIO()
        out.save(
            buffer,
            deterministic_id=True,
            compress_streams=True,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
        )
    finally:
        check.close()
        for doc in opened:
            doc.close()
        out.close()
    pdf = buffer.getvalue()
    return Pack(pdf, agenda_pages + paper_pages, agenda_pages, papers)


def _stamps(variant: str, papers: list[Paper], count: int, opened: list) -> list:
    """The "Page N" stamps, one Form XObject (or page) per numbered page. Rendered untagged:
    they are drawn as artifacts, outside the structure tree."""
    if not count:
        return []
    restricted = {n for p in papers if p.restricted for n in range(p.first_page, p.last_page + 1)}
    exempt = restricted if variant == MEMBERS else set()
    lines = merge.specimen_lines(count, bool(exempt))
    # The specimen depends only on the number of digits, so it is nearly always cached.
    stamps = pikepdf.open(
        io.BytesIO(_render("packs/pdf/stamps.html", tagged=False, lines=lines, paged=False))
    )
    opened.append(stamps)
    try:
        return merge.stamp_forms(stamps, lines, count, exempt)
    except ValueError:
        # Should WeasyPrint ever write the specimen differently: one page each (slower).
        paged = _render(
            "packs/pdf/stamps.html",
            tagged=False,
            paged=True,
            count=count,
            members=variant == MEMBERS,
            restricted=restricted,
        )
        stamps = pikepdf.open(io.BytesIO(paged))
        opened.append(stamps)
        return list(stamps.pages)


def _open_paper(paper: Paper) -> pikepdf.Pdf:
    if paper.kind != "document":
        return pikepdf.open(io.BytesIO(paper.pdf))
    doc = paper.document
    try:
        src = pikepdf.open(document_path(doc))
    except (pikepdf.PdfError, OSError) as exc:
        raise PackError(
            f"The stored file of paper {doc.id} ({doc.title}) cannot be read as a PDF; "
            "upload it again."
        ) from exc
    if len(src.pages) != paper.pages:
        src.close()
        # The agenda's page ranges were worked out from the page count recorded on upload.
        raise PackError(
            f"The stored file of paper {doc.id} ({doc.title}) has changed: it has a "
            f"different number of pages from the one uploaded; upload it again."
        )
    return src


def _paper_label(paper: Paper, variant: str) -> str:
    """A paper's name in the bookmarks and the structure tree. In the members' version an
    exempt paper says so there too: its pages' NOT FOR PUBLICATION mark is part of the page
    stamp, an artifact that screen readers skip."""
    if variant == MEMBERS and paper.restricted:
        return f"NOT FOR PUBLICATION: {paper.title}"
    return paper.title


def _outline(out, meeting, variant, entries) -> None:
    first_paper = {}
    for paper, index in entries:
        first_paper.setdefault(paper.item.id, index)
    with out.open_outline() as outline:
        outline.root.append(pikepdf.OutlineItem("Agenda", 0))
        for item, number in meeting.numbered_items():
            target = first_paper.get(item.id, 0)
            node = pikepdf.OutlineItem(f"{number}. {item.title}", target)
            for paper, index in entries:
                if paper.item.id == item.id:
                    node.children.append(pikepdf.OutlineItem(_paper_label(paper, variant), index))
            outline.root.append(node)


def _labels(out, agenda_pages: int) -> None:
    nums = [0, pikepdf.Dictionary(S=pikepdf.Name.r)]
    if len(out.pages) > agenda_pages:
        nums += [agenda_pages, pikepdf.Dictionary(S=pikepdf.Name.D, St=1)]
    out.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array(nums))


def _metadata(out, title: str) -> None:
    # Uploaded papers bring their own metadata; the pack keeps only its own.
    with out.open_metadata(set_pikepdf_as_editor=False) as meta:
        for key in list(meta.keys()):
            del meta[key]
        meta["dc:title"] = title
        meta["dc:language"] = ["en-GB"]
        meta["pdf:Producer"] = "Minutebook"
        meta["dc:creator"] = ["Minutebook"]
    out.docinfo = out.make_indirect(
        pikepdf.Dictionary(Title=title, Creator="Minutebook", Producer="Minutebook")
    )
    out.Root.Lang = "en-GB"
    out.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
    if "/Names" in out.Root:
        # The pack's own name tree (from the agenda) is not needed; dropping it also makes
        # sure no embedded files are carried.
        del out.Root.Names


# --- content keys ----------------------------------------------------------------------
# Read as plain rows (no ORM objects, a query per kind of thing, whatever the meeting's size),
# because a key is worked out on every request for a pack, cached or not.


def _rows(stmt) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(stmt)]


def _membership_parts(committee_id: int) -> list:
    # Names are in the key because people carry no timestamp of their own.
    return _rows(
        select(
            Membership.id,
            Membership.person_id,
            Person.name,
            Person.honorific,
            Membership.role,
            Membership.organisation,
            Membership.start_date,
            Membership.end_date,
        )
        .join(Person, Person.id == Membership.person_id)
        .where(Membership.committee_id == committee_id)
        .order_by(Membership.id)
    )


def _record_parts(meeting: Meeting) -> list:
    """Everything the minutes of a meeting show (see _minutes_context and minutes.html):
    attendance, quorum, declarations, minutes, resolutions and votes, actions, approval."""
    committee = meeting.committee
    minute_ids = select(Minute.id).where(Minute.meeting_id == meeting.id)
    resolution_ids = select(Resolution.id).where(Resolution.minute_id.in_(minute_ids))
    substitute = aliased(Person)
    return [
        meeting.id,
        meeting.version,
        meeting.updated_at,
        meeting.minutes_state.value,
        meeting.starts_at,
        meeting.timezone,
        meeting.approval_amendments,
        meeting.chair_signed_name,
        meeting.chair_signed_on,
        _rows(select(Meeting.starts_at).where(Meeting.id == meeting.approved_at_meeting_id)),
        committee.name,
        committee.minute_prefix,
        committee.quorum_count,
        committee.quorum_fraction,
        _membership_parts(committee.id),  # the quorum on the day
        # Item numbers ("arrived during item 3"), parents and visibility (whose declarations
        # on a sub-item are shown), and the paragraphs an exempt minute is marked with.
        _rows(
            select(AgendaItem.id, AgendaItem.parent_id, AgendaItem.position, AgendaItem.visibility)
            .where(AgendaItem.meeting_id == meeting.id)
            .order_by(AgendaItem.id)
        ),
        _rows(
            select(AgendaItemParagraph.agenda_item_id, AgendaItemParagraph.paragraph)
            .join(AgendaItem, AgendaItem.id == AgendaItemParagraph.agenda_item_id)
            .where(AgendaItem.meeting_id == meeting.id)
            .order_by(AgendaItemParagraph.agenda_item_id, AgendaItemParagraph.paragraph)
        ),
        _rows(
            select(
                Minute.id,
                Minute.number,
                Minute.title,
                Minute.text,
                Minute.version,
                Minute.agenda_item_id,
                AgendaItem.visibility,
            )
            .outerjoin(AgendaItem, AgendaItem.id == Minute.agenda_item_id)
            .where(Minute.meeting_id == meeting.id)
            .order_by(Minute.id)
        ),
        _rows(
            select(
                Resolution.id,
                Resolution.minute_id,
                Resolution.ordinal,
                Resolution.kind,
                Resolution.text,
                Resolution.recommended_to,
                Resolution.votes_for,
                Resolution.votes_against,
                Resolution.abstentions,
            )
            .where(Resolution.id.in_(resolution_ids))
            .order_by(Resolution.id)
        ),
        _rows(
            select(
                ResolutionVote.resolution_id,
                ResolutionVote.vote,
                Person.id,
                Person.name,
                Person.honorific,
            )
            .join(Person, Person.id == ResolutionVote.person_id)
            .where(ResolutionVote.resolution_id.in_(resolution_ids))
            .order_by(ResolutionVote.id)
        ),
        _rows(
            select(
                Action.id,
                Action.minute_id,
                Action.resolution_id,
                Action.title,
                Action.due_date,
                Person.name,
                Person.honorific,
            )
            .outerjoin(Person, Person.id == Action.owner_id)
            .where(or_(Action.minute_id.in_(minute_ids), Action.resolution_id.in_(resolution_ids)))
            .order_by(Action.id)
        ),
        _rows(
            select(
                Declaration.id,
                Declaration.agenda_item_id,
                Declaration.kind,
                Declaration.nature,
                Declaration.withdrew,
                Person.name,
                Person.honorific,
            )
            .join(Person, Person.id == Declaration.person_id)
            .where(Declaration.meeting_id == meeting.id)
            .order_by(Declaration.id)
        ),
        _rows(
            select(
                Attendance.person_id,
                Person.name,
                Person.honorific,
                Attendance.status,
                Attendance.in_chair,
                Attendance.capacity,
                substitute.name,
                substitute.honorific,
                Attendance.arrived_at_item_id,
                Attendance.left_at_item_id,
            )
            .join(Person, Person.id == Attendance.person_id)
            .outerjoin(substitute, substitute.id == Attendance.substitute_for_id)
            .where(Attendance.meeting_id == meeting.id)
            .order_by(Attendance.id)
        ),
    ]


def _action_log_parts(meeting: Meeting, reader) -> list:
    """The action log's rows as the reader sees them (the same query as action_log)."""
    resolution_minute = aliased(Minute)
    narrative_minute = aliased(Minute)
    sibling = aliased(Resolution)  # how a resolution is cited depends on its minute's count
    siblings = (
        select(func.count(sibling.id))
        .where(sibling.minute_id == resolution_minute.id)
        .scalar_subquery()
    )
    shown = _action_log_query(meeting, reader).subquery()
    return _rows(
        select(
            Action.id,
            Action.version,
            Action.updated_at,
            Action.reference,
            Action.title,
            Action.due_date,
            Action.status,
            Action.rag,
            Person.name,
            Person.honorific,
            Resolution.ordinal,
            resolution_minute.number,
            siblings,
            narrative_minute.number,
        )
        .join(shown, shown.c.id == Action.id)
        .outerjoin(Person, Person.id == Action.owner_id)
        .outerjoin(Resolution, Resolution.id == Action.resolution_id)
        .outerjoin(resolution_minute, resolution_minute.id == Resolution.minute_id)
        .outerjoin(narrative_minute, narrative_minute.id == Action.minute_id)
        .order_by(Action.id)
    ) + _rows(
        select(ActionUpdate.id, ActionUpdate.action_id, ActionUpdate.note)
        .join(shown, shown.c.id == ActionUpdate.action_id)
        .order_by(ActionUpdate.id)
    )


def _hash(parts: list) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def content_key(meeting: Meeting, variant: str) -> str:
    """A hash of everything that feeds the pack: it changes exactly when the pack would, and
    never with the clock alone (the action log is dated by its data, see _as_at)."""
    reader = reader_for(meeting, variant)
    committee = meeting.committee
    items = select(AgendaItem.id).where(AgendaItem.meeting_id == meeting.id)
    documents = select(Document.id).where(Document.agenda_item_id.in_(items))
    parts: list = [
        TEMPLATE_VERSION,
        variant,
        meeting.id,
        meeting.version,
        meeting.updated_at,
        meeting.title,
        meeting.starts_at,
        meeting.ends_at,
        meeting.timezone,
        meeting.venue,
        meeting.status.value,
        meeting.status_reason,
        meeting.agenda_state.value,
        meeting.agenda_revision,
        meeting.agenda_published_at,
        meeting.created_at,
        _rows(
            select(AgendaPublication.revision, AgendaPublication.published_at)
            .where(AgendaPublication.meeting_id == meeting.id)
            .order_by(AgendaPublication.revision)
        ),
        committee.updated_at,
        committee.name,
        committee.clerk_name,
        committee.clerk_email,
        committee.clerk_phone,
        committee.publish_draft_minutes,
        _membership_parts(committee.id),  # the front sheet's membership
        _rows(
            select(
                AgendaItem.id,
                AgendaItem.parent_id,
                AgendaItem.position,
                AgendaItem.version,
                AgendaItem.updated_at,
                AgendaItem.kind,
                AgendaItem.section,
                AgendaItem.title,
                AgendaItem.purpose,
                AgendaItem.presenter_text,
                Person.name,
                AgendaItem.urgent,
                AgendaItem.urgent_reason,
                AgendaItem.visibility,
                AgendaItem.public_interest_reason,
            )
            .outerjoin(Person, Person.id == AgendaItem.presenter_id)
            .where(AgendaItem.id.in_(items))
            .order_by(AgendaItem.id)
        ),
        _rows(
            select(AgendaItemParagraph.agenda_item_id, AgendaItemParagraph.paragraph)
            .where(AgendaItemParagraph.agenda_item_id.in_(items))
            .order_by(AgendaItemParagraph.agenda_item_id, AgendaItemParagraph.paragraph)
        ),
        _rows(
            select(
                Document.id,
                Document.agenda_item_id,
                Document.position,
                Document.sha256,
                Document.page_count,
                Document.title,
                Document.visibility,
                Document.public_interest_reason,
            )
            .where(Document.id.in_(documents))
            .order_by(Document.id)
        ),
        _rows(
            select(DocumentParagraph.document_id, DocumentParagraph.paragraph)
            .where(DocumentParagraph.document_id.in_(documents))
            .order_by(DocumentParagraph.document_id, DocumentParagraph.paragraph)
        ),
    ]
    previous = previous_meeting(meeting)
    if previous is not None:
        # Whether this audience may see them (and their exempt minutes) decides what is shown.
        parts += ["previous", previous.can_see_minutes(reader), previous.can_see_restricted(reader)]
        parts += _record_parts(previous)
    parts += _action_log_parts(meeting, reader)
    return _hash(parts)


def minutes_key(meeting: Meeting, include_restricted: bool) -> str:
    return _hash([TEMPLATE_VERSION, "minutes", include_restricted, *_record_parts(meeting)])
