"""Full-text search over agendas, papers, minutes and resolutions, respecting visibility.

The index is rebuilt per meeting whenever something that feeds it changes (collected from the
session at flush time and applied before commit), so no service has to remember to reindex.
Matching uses SQLite FTS5 or PostgreSQL full-text search; whether a hit may be shown is decided
by the same permission predicates the pages use.

A paper's text is stored and indexed once per file (SearchText, by sha256), however many papers
in however many meetings and copies are that file; each paper's entry keeps its title and names
the text. A query finds a paper by its entry or by its text, and either way the hit is the
paper's entry, shown only if the reader may see that paper."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, event, exists, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, object_session, selectinload

from app.agenda import revisions
from app.agenda import signals as agenda_signals
from app.agenda.models import AgendaItem, Document
from app.core.db import before_commit, meeting_id_of
from app.core.permissions import is_staff
from app.extensions import db
from app.meetings.models import Meeting
from app.minutes.models import Minute, Resolution
from app.search.models import (
    FULLTEXT_COLUMN,
    PUBLISHED,
    RECORD,
    TEXT_FTS,
    WORKING,
    SearchEntry,
    SearchText,
)

MAX_CANDIDATES = 400  # matches read per batch
# A query matching mostly what the reader may not see is read no further than this many
# batches, so one search cannot walk the whole index.
MAX_BATCHES = 10
RANKED = MAX_CANDIDATES * MAX_BATCHES  # the newest matches of each index that are ranked
WORD_RE = re.compile(r"\w+", re.UNICODE)


# --- keeping the index up to date -----------------------------------------------------------


# What each kind of record is indexed as.
_KINDS = {
    AgendaItem: ("item", "purpose"),
    Document: ("document",),
    Minute: ("minute",),
    Resolution: ("resolution",),
}


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _flush_context) -> None:
    """Changed records are re-indexed one by one (saving a minute must not re-read eighty
    papers' text); a removal re-indexes its meeting (see _removed). Indexed in the same
    transaction: the index never shows what was not kept."""
    for obj in (*session.new, *session.dirty):
        if type(obj) in _KINDS and obj.id is not None:
            before_commit(
                session,
                lambda o=obj: _reindex_record(o, session),
                key=("search", *_record_key(obj)),
            )


def _removed(_mapper, _connection, target) -> None:
    # A mapper event, as the session's own list misses rows removed as orphans (an item
    # taken off the agenda takes its papers) and by the database's cascades.
    session = object_session(target)
    meeting_id = meeting_id_of(target)
    if session is None or not meeting_id:
        return
    before_commit(
        session,
        lambda: reindex_meeting(meeting_id, session.get(Meeting, meeting_id), session),
        key=("search", "meetings", meeting_id),
    )


for _kind in _KINDS:
    event.listen(_kind, "after_delete", _removed)


def _record_key(obj) -> tuple[str, int]:
    return (type(obj).__tablename__, obj.id)


def _entries_of(obj, meeting: Meeting, copy: str) -> list[SearchEntry]:
    def entry(kind, title, body="", sha256=None):
        return SearchEntry(
            kind=kind,
            ref_id=obj.id,
            meeting_id=meeting.id,
            committee_id=meeting.committee_id,
            title=title or "",
            body=body or "",
            copy=copy,
            sha256=sha256,
        )

    if isinstance(obj, AgendaItem | revisions.PublishedItem):
        # The purpose is kept apart from the title: an exempt item's title is public, its
        # purpose not.
        purpose = [entry("purpose", "", obj.purpose)] if obj.purpose else []
        return [entry("item", obj.title), *purpose]
    if isinstance(obj, Document | revisions.PublishedPaper):
        # The text is the file's, stored once (see _keep_texts).
        return [entry("document", obj.title, sha256=obj.sha256)]
    if isinstance(obj, Minute):
        return [entry("minute", f"{obj.display_number} {obj.title}", obj.text)]
    return [entry("resolution", "", obj.text)]


def _copy_of(obj) -> str:
    return WORKING if isinstance(obj, AgendaItem | Document) else RECORD


def _published_reads_live(meeting: Meeting) -> bool:
    """Whether the published agenda is the working copy itself: a publication made before
    snapshots were kept. Its items and papers are then indexed as published as they change."""
    if not meeting.agenda_revision:
        return False
    return revisions.unsnapshotted(revisions.publication_of(meeting, meeting.agenda_revision))


def _reindex_record(obj, session: Session) -> None:
    copies = [_copy_of(obj)]
    meeting_id = meeting_id_of(obj)
    meeting = session.get(Meeting, meeting_id) if meeting_id else None
    if meeting is not None and copies == [WORKING] and _published_reads_live(meeting):
        copies.append(PUBLISHED)
    old = (
        SearchEntry.kind.in_(_KINDS[type(obj)]),
        SearchEntry.ref_id == obj.id,
        SearchEntry.copy.in_(copies),
    )
    # Only a paper's entries name a text (a minute's save asks nothing more).
    named = set(session.scalars(select(SearchEntry.sha256).where(*old))) if _is_paper(obj) else ()
    session.execute(delete(SearchEntry).where(*old))
    if meeting is not None and _kept(obj):
        if _is_paper(obj):
            _keep_texts(session, [obj])
        for copy in copies:
            session.add_all(_entries_of(obj, meeting, copy))
    _free_texts(session, named)


def _is_paper(obj) -> bool:
    return isinstance(obj, Document | revisions.PublishedPaper)


def _keep_texts(session: Session, papers) -> None:
    """Store the text of each paper's file, unless it is stored already: a file's text is read
    and indexed once, whichever paper brings it first."""
    by_sha = {}
    for paper in papers:
        # A working copy's paper has its text at hand; a published one would read it again.
        if paper.sha256 not in by_sha or isinstance(paper, Document):
            by_sha[paper.sha256] = paper
    if not by_sha:
        return
    stored = set(
        session.scalars(select(SearchText.sha256).where(SearchText.sha256.in_(list(by_sha))))
    )
    missing = [
        {"sha256": sha, "body": paper.text_content or ""}
        for sha, paper in by_sha.items()
        if sha not in stored
    ]
    if missing:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        # Another transaction may store the same file's text first: that text will do.
        session.execute(
            dialect.insert(SearchText)
            .values(missing)
            .on_conflict_do_nothing(index_elements=["sha256"])
        )


def _free_texts(session: Session, named=None) -> None:
    """Remove the texts (of those `named` by removed entries, or all) no entry names any more."""
    if named is not None:
        named = {sha for sha in named if sha}
        if not named:
            return
    session.flush()  # entries added since name their texts too
    unnamed = delete(SearchText).where(~exists().where(SearchEntry.sha256 == SearchText.sha256))
    if named is not None:
        unnamed = unnamed.where(SearchText.sha256.in_(named))
    session.execute(unnamed.execution_options(synchronize_session=False))


def _kept(obj) -> bool:
    # Removed in this transaction: the meeting's loaded collections may still hold it.
    state = inspect(obj)
    return not (state.deleted or state.was_deleted)


def _agenda_entries(agenda, meeting: Meeting, copy: str) -> list[SearchEntry]:
    out = []
    for item in filter(_kept_or_published, agenda.items):
        out += _entries_of(item, meeting, copy)
        for doc in filter(_kept_or_published, item.documents):
            out += _entries_of(doc, meeting, copy)
    return out


def _kept_or_published(obj) -> bool:
    return _kept(obj) if isinstance(obj, AgendaItem | Document) else True


def _agenda_papers(agenda) -> list:
    return [
        doc
        for item in filter(_kept_or_published, agenda.items)
        for doc in filter(_kept_or_published, item.documents)
    ]


def entries_for(meeting: Meeting) -> list[SearchEntry]:
    return _meeting_index(meeting)[0]


def _meeting_index(meeting: Meeting) -> tuple[list[SearchEntry], list]:
    """A meeting's entries, and the papers whose texts they name."""
    agendas = [(revisions.working_copy(meeting), WORKING)]
    if meeting.agenda_revision:
        agendas.append((revisions.published(meeting), PUBLISHED))
    out, papers = [], []
    for agenda, copy in agendas:
        out += _agenda_entries(agenda, meeting, copy)
        papers += _agenda_papers(agenda)
    minutes = db.session.scalars(select(Minute).where(Minute.meeting_id == meeting.id)).all()
    for minute in filter(_kept, minutes):
        out += _entries_of(minute, meeting, RECORD)
        for resolution in filter(_kept, minute.resolutions):
            out += _entries_of(resolution, meeting, RECORD)
    return out, papers


def _reindex_published(meeting: Meeting, session: Session) -> None:
    """The published copy's entries after a new revision. A paper already indexed under the
    same title and file keeps its entry; a file's text is stored once anyway, so a supplement
    reads and indexes the text of no file already indexed, only of the papers it brings."""
    agenda = revisions.published(meeting)
    wanted = _agenda_entries(agenda, meeting, PUBLISHED)
    have = {
        (kind, ref_id): (entry_id, title, sha256)
        for entry_id, kind, ref_id, title, sha256 in session.execute(
            select(
                SearchEntry.id,
                SearchEntry.kind,
                SearchEntry.ref_id,
                SearchEntry.title,
                SearchEntry.sha256,
            ).where(SearchEntry.meeting_id == meeting.id, SearchEntry.copy == PUBLISHED)
        )
    }

    def kept(e) -> bool:
        _entry_id, title, sha256 = have.get((e.kind, e.ref_id), (None, None, None))
        return e.kind == "document" and (title, sha256) == (e.title, e.sha256)

    keep = {have[(e.kind, e.ref_id)][0] for e in wanted if kept(e)}
    stale = [entry_id for entry_id, _title, _sha in have.values() if entry_id not in keep]
    if stale:
        session.execute(delete(SearchEntry).where(SearchEntry.id.in_(stale)))
    _keep_texts(session, _agenda_papers(agenda))
    session.add_all(e for e in wanted if not kept(e))
    _free_texts(session, {sha for entry_id, _title, sha in have.values() if entry_id in stale})


@agenda_signals.agenda_published.connect
def _published(meeting: Meeting, **_kw) -> None:
    """A new revision replaces the published copy in the index, with the publication."""
    session = db.session()
    before_commit(
        session,
        lambda: _reindex_published(meeting, session),
        key=("search", "published", meeting.id),
    )


def reindex_meeting(meeting_id: int, meeting: Meeting | None, session: Session) -> None:
    of_meeting = SearchEntry.meeting_id == meeting_id
    named = set(session.scalars(select(SearchEntry.sha256).where(of_meeting).distinct()))
    session.execute(delete(SearchEntry).where(of_meeting))
    if meeting is None:
        # A meeting deleted may have taken its entries with it (the database's cascade)
        # before they could be asked which texts they named: any text left unnamed goes.
        _free_texts(session)
        return
    entries, papers = _meeting_index(meeting)
    _keep_texts(session, papers)
    session.add_all(entries)
    _free_texts(session, named)


def reindex_all() -> int:
    """Every meeting's entries made again from the records. A file's stored text is kept while
    a paper names it (it may be the only copy left of a published paper's text, once the
    working copy's paper is gone); texts no paper names are removed."""
    count = 0
    for meeting in db.session.scalars(select(Meeting)):
        reindex_meeting(meeting.id, meeting, db.session)
        count += 1
    _free_texts(db.session)
    db.session.flush()
    return count


# --- querying --------------------------------------------------------------------------------


@dataclass
class Hit:
    kind: str
    obj: object
    meeting: Meeting
    title: str
    excerpt: str


def _fts5_query(query: str) -> str | None:
    """A user's words as an FTS5 query: every word must appear; "quoted phrases" stay
    phrases. Everything is quoted, so FTS5 operators typed by users are just words."""
    parts = []
    for phrase, word in re.findall(r'"([^"]+)"|(\S+)', query):
        words = WORD_RE.findall(phrase or word)
        if words:
            parts.append('"' + " ".join(words) + '"')
    return " ".join(parts) or None


def _candidate_ids(
    query: str, copies: tuple[str, ...], offset: int = 0, size: int = MAX_CANDIDATES
) -> list[int]:
    """One batch of matching entries of the `copies` this reader reads, best first (ties
    broken by id so batches are stable). An entry matches by its own text or, a paper's, by
    its file's text: a text found is ranked once, and stands for every entry naming it at its
    rank. (Entries of other copies are left out here, not after: a public reader's batches
    were a third working-copy entries, read and dropped.)

    Only the texts that can reach this batch are followed to their entries: those ranked at
    least as well as the (offset + batch)-th best text that an entry of these copies names;
    the entries of the texts ranked above it already fill the batch."""
    dialect = db.session.get_bind().dialect.name
    reach = offset + size - 1
    params = {"n": size, "o": offset, "reach": reach, "cap": RANKED}
    params |= {f"c{n}": copy for n, copy in enumerate(copies)}
    in_copies = "e.copy IN (" + ", ".join(f":c{n}" for n in range(len(copies))) + ")"
    named = (
        "EXISTS (SELECT 1 FROM search_texts t JOIN search_entries e ON e.sha256 = t.sha256"
        f" WHERE t.id = m.text_id AND {in_copies})"
    )
    if dialect == "sqlite":
        match = _fts5_query(query)
        if not match:
            return []
        # Only the newest RANKED matches of each index are ranked: FTS5 finds a common
        # word's every match at once, but ranking them all (bm25 of a quarter of a million
        # minutes on a council's ten years) was what cost a third of a second. Newest is
        # by rowid, which FTS5 walks from the top and bounds cheaply.
        newest = (
            "(SELECT min(rowid) FROM (SELECT rowid FROM {0} WHERE {0} MATCH :q"
            " ORDER BY rowid DESC LIMIT :cap))"
        )
        rows = db.session.execute(
            text(
                "WITH texts AS ("
                f"  SELECT rowid AS text_id, rank AS r FROM {TEXT_FTS} WHERE {TEXT_FTS} MATCH :q"
                f"  AND rowid >= {newest.format(TEXT_FTS)}"
                f"), cut AS (SELECT r FROM texts AS m WHERE {named}"
                "  ORDER BY r LIMIT 1 OFFSET :reach) "
                "SELECT id FROM ("
                "  SELECT m.id, m.r FROM ("
                "    SELECT rowid AS id, rank AS r FROM search_fts WHERE search_fts MATCH :q"
                f"    AND rowid >= {newest.format('search_fts')}"
                f"  ) AS m JOIN search_entries e ON e.id = m.id WHERE {in_copies}"
                "  UNION ALL"
                "  SELECT e.id, m.r FROM texts AS m JOIN search_texts t ON t.id = m.text_id"
                f"  JOIN search_entries e ON e.sha256 = t.sha256 WHERE {in_copies}"
                "  AND (NOT EXISTS (SELECT 1 FROM cut) OR m.r <= (SELECT r FROM cut))"
                ") GROUP BY id ORDER BY min(r), id LIMIT :n OFFSET :o"
            ),
            params | {"q": match},
        )
    else:
        # Only a bounded set of matches is ranked (the index finds them all at once; ranking
        # a common word's every match was what cost seconds), each by its stored tsvector:
        # the newest RANKED entries and RANKED texts, as on SQLite. (For a common word the
        # planner walks the primary key backwards and stops at RANKED; for a rare one it
        # reads the GIN index and sorts the few.)
        tsquery = "websearch_to_tsquery('english', :q)"
        rows = db.session.execute(
            text(
                "WITH texts AS ("
                f"  SELECT c.id AS text_id, ts_rank(c.v, {tsquery}) AS r FROM ("
                f"    SELECT id, {FULLTEXT_COLUMN} AS v FROM {TEXT_FTS}"
                f"    WHERE {FULLTEXT_COLUMN} @@ {tsquery} ORDER BY id DESC LIMIT :cap"
                "  ) AS c"
                f"), cut AS (SELECT r FROM texts AS m WHERE {named}"
                "  ORDER BY r DESC LIMIT 1 OFFSET :reach) "
                "SELECT id FROM ("
                f"  SELECT c.id, ts_rank(c.v, {tsquery}) AS r FROM ("
                f"    SELECT e.id, e.{FULLTEXT_COLUMN} AS v FROM search_entries AS e"
                f"    WHERE e.{FULLTEXT_COLUMN} @@ {tsquery} AND {in_copies}"
                "    ORDER BY e.id DESC LIMIT :cap"
                "  ) AS c"
                "  UNION ALL"
                "  SELECT e.id, m.r FROM texts AS m JOIN search_texts t ON t.id = m.text_id"
                f"  JOIN search_entries e ON e.sha256 = t.sha256 WHERE {in_copies}"
                "  AND (NOT EXISTS (SELECT 1 FROM cut) OR m.r >= (SELECT r FROM cut))"
                ") AS matched GROUP BY id ORDER BY max(r) DESC, id LIMIT :n OFFSET :o"
            ),
            params | {"q": query},
        )
    return [r[0] for r in rows]


_LOADERS = {
    "item": AgendaItem,
    "purpose": AgendaItem,
    "document": Document,
    "minute": Minute,
    "resolution": Resolution,
}

# What a record's visibility (and its hit's title) asks of next: a paper its item, a minute
# its item (restricted with it), a resolution its minute and that minute's other
# resolutions, and an item its parent (a sub-item is as restricted as its parent).
_RELATED = {
    AgendaItem: (selectinload(AgendaItem.parent),),
    Document: (selectinload(Document.item).selectinload(AgendaItem.parent),),
    Minute: (selectinload(Minute.item).selectinload(AgendaItem.parent),),
    Resolution: (
        selectinload(Resolution.minute).options(
            selectinload(Minute.item).selectinload(AgendaItem.parent),
            selectinload(Minute.resolutions),  # its reference: "211(1)", or a lone one's "211"
        ),
    ),
}


def _visible(kind: str, obj, user) -> bool:
    if kind == "item":
        return obj.can_view(user)
    if kind == "purpose":
        return obj.can_see_papers(user)
    return obj.can_view(user)


def _excerpt(body: str, query: str, width: int = 220) -> str:
    words = [w.lower() for w in WORD_RE.findall(query)]
    lower = body.lower()
    positions = [lower.find(w) for w in words if lower.find(w) >= 0]
    start = max(0, min(positions) - 60) if positions else 0
    snippet = " ".join(body[start : start + width].split())
    return ("…" if start else "") + snippet + ("…" if start + width < len(body) else "")


def search(query: str, user, limit: int = 50) -> list[Hit]:
    query = (query or "").strip()[:200]
    if not query:
        return []
    hits: list[Hit] = []
    offset = 0
    # The copy of each agenda this reader reads (revisions.agenda_for): staff the working
    # copy, everyone else the latest published revision.
    copies = (WORKING, RECORD) if is_staff(user) else (PUBLISHED, RECORD)
    agendas: dict[int, revisions.Agenda] = {}
    from_texts: list[tuple[Hit, str]] = []  # papers' hits, whose excerpts come from their text
    # Matches are read in batches until enough visible ones are found, so matches the
    # reader may not see (up to MAX_BATCHES of them) never push visible ones out.
    # The first batch is twice the hits wanted: most matches are usually visible, and every
    # meeting a batch touches has its agenda read (a council's common word touched 134
    # meetings in a batch of 400, for 50 hits).
    size = min(2 * limit, MAX_CANDIDATES)
    for _ in range(MAX_BATCHES):
        if len(hits) >= limit:
            break
        ids = _candidate_ids(query, copies, offset, size)
        if not ids:
            break
        offset += len(ids)
        entries = {
            e.id: e for e in db.session.scalars(select(SearchEntry).where(SearchEntry.id.in_(ids)))
        }
        held = _prefetch([e for e in entries.values() if e.copy in copies], agendas)
        for entry_id in ids:
            entry = entries.get(entry_id)
            if entry is None or entry.copy not in copies:
                continue
            meeting = db.session.get(Meeting, entry.meeting_id)
            obj = _source(entry, meeting, agendas)
            if obj is None or not _visible(entry.kind, obj, user):
                continue
            hit = Hit(
                entry.kind,
                obj,
                meeting,
                entry.title or _title_of(entry.kind, obj),
                _excerpt(entry.body or entry.title, query),
            )
            hits.append(hit)
            if entry.sha256:
                from_texts.append((hit, entry.sha256))
            if len(hits) >= limit:
                break
        del held
        if len(ids) < size:
            break
        size = MAX_CANDIDATES
    _excerpts_from_texts(from_texts, query)
    return hits


def _excerpts_from_texts(hits: list[tuple[Hit, str]], query: str) -> None:
    """A paper's excerpt comes from its file's text, read in one query for the hits shown."""
    if not hits:
        return
    named = {sha for _hit, sha in hits}
    bodies = dict(
        db.session.execute(
            select(SearchText.sha256, SearchText.body).where(SearchText.sha256.in_(named))
        ).all()
    )
    for hit, sha in hits:
        if bodies.get(sha):
            hit.excerpt = _excerpt(bodies[sha], query)


def _prefetch(entries: list[SearchEntry], agendas: dict) -> list:
    """Load a batch's meetings, records and published agendas in a few queries, not some per
    hit or per meeting: the lookups that follow find them in the session (and in `agendas`).
    Returns what was loaded, for the caller to hold: the session keeps only what is held."""
    held: list = []
    meeting_ids = {e.meeting_id for e in entries}
    if not meeting_ids:
        return held
    held += db.session.scalars(
        select(Meeting)
        .where(Meeting.id.in_(meeting_ids))
        .options(selectinload(Meeting.committee), selectinload(Meeting.publications))
    ).all()
    published = {e.meeting_id for e in entries if e.copy == PUBLISHED} - set(agendas)
    agendas.update(revisions.latest_published(db.session.get(Meeting, mid) for mid in published))
    wanted: dict[type, set[int]] = {}
    for e in entries:
        if e.copy != PUBLISHED:
            wanted.setdefault(_LOADERS[e.kind], set()).add(e.ref_id)
    for model, ids in wanted.items():
        query = select(model).where(model.id.in_(ids)).options(*_RELATED[model])
        held += db.session.scalars(query).all()
    return held


def _source(entry: SearchEntry, meeting: Meeting | None, agendas: dict):
    """What an entry was made from, as this reader's copy of the agenda has it."""
    if meeting is None:
        return None
    if entry.copy != PUBLISHED:
        return db.session.get(_LOADERS[entry.kind], entry.ref_id)
    agenda = agendas.get(meeting.id)
    if agenda is None:
        agenda = agendas[meeting.id] = revisions.published(meeting)
    if entry.kind == "document":
        return agenda.paper(entry.ref_id)
    return agenda.item(entry.ref_id)


def _title_of(kind: str, obj) -> str:
    if kind == "purpose":
        return obj.title
    if kind == "resolution":
        return f"Resolution {obj.reference}: {obj.minute.title}"
    return getattr(obj, "title", "")
