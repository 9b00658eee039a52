"""Full-text search over agendas, papers, minutes and resolutions, respecting visibility.

The index is rebuilt per meeting whenever something that feeds it changes (collected from the
session at flush time and applied before commit), so no service has to remember to reindex.
Matching uses SQLite FTS5 or PostgreSQL full-text search; whether a hit may be shown is decided
by the same permission predicates the pages use."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, event, inspect, select, text
from sqlalchemy.orm import Session, object_session

from app.agenda import revisions
from app.agenda import signals as agenda_signals
from app.agenda.models import AgendaItem, Document
from app.core.db import before_commit, meeting_id_of
from app.core.permissions import is_staff
from app.extensions import db
from app.meetings.models import Meeting
from app.minutes.models import Minute, Resolution
from app.search.models import FULLTEXT_COLUMN, PUBLISHED, RECORD, WORKING, SearchEntry

MAX_CANDIDATES = 400  # matches read per batch
# A query matching mostly what the reader may not see is read no further than this many
# batches, so one search cannot walk the whole index.
MAX_BATCHES = 10
RANKED = MAX_CANDIDATES * MAX_BATCHES  # PostgreSQL ranks at most this many matches
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
    def entry(kind, title, body=""):
        return SearchEntry(
            kind=kind,
            ref_id=obj.id,
            meeting_id=meeting.id,
            committee_id=meeting.committee_id,
            title=title or "",
            body=body or "",
            copy=copy,
        )

    if isinstance(obj, AgendaItem | revisions.PublishedItem):
        # The purpose is kept apart from the title: an exempt item's title is public, its
        # purpose not.
        purpose = [entry("purpose", "", obj.purpose)] if obj.purpose else []
        return [entry("item", obj.title), *purpose]
    if isinstance(obj, Document | revisions.PublishedPaper):
        return [entry("document", obj.title, obj.text_content)]
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
    session.execute(
        delete(SearchEntry).where(
            SearchEntry.kind.in_(_KINDS[type(obj)]),
            SearchEntry.ref_id == obj.id,
            SearchEntry.copy.in_(copies),
        )
    )
    if meeting is not None and _kept(obj):
        for copy in copies:
            session.add_all(_entries_of(obj, meeting, copy))


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


def entries_for(meeting: Meeting) -> list[SearchEntry]:
    out = _agenda_entries(revisions.working_copy(meeting), meeting, WORKING)
    if meeting.agenda_revision:
        out += _agenda_entries(revisions.published(meeting), meeting, PUBLISHED)
    minutes = db.session.scalars(select(Minute).where(Minute.meeting_id == meeting.id)).all()
    for minute in filter(_kept, minutes):
        out += _entries_of(minute, meeting, RECORD)
        for resolution in filter(_kept, minute.resolutions):
            out += _entries_of(resolution, meeting, RECORD)
    return out


def _reindex_published(meeting: Meeting, session: Session) -> None:
    """The published copy's entries after a new revision. A paper already indexed under the
    same title keeps its entry: its text is the same file's, so a supplement does not index
    every paper's text again, only the papers it brings."""
    wanted = _agenda_entries(revisions.published(meeting), meeting, PUBLISHED)
    have = {
        (kind, ref_id): (entry_id, title)
        for entry_id, kind, ref_id, title in session.execute(
            select(SearchEntry.id, SearchEntry.kind, SearchEntry.ref_id, SearchEntry.title).where(
                SearchEntry.meeting_id == meeting.id, SearchEntry.copy == PUBLISHED
            )
        )
    }
    keep = {
        have[(e.kind, e.ref_id)][0]
        for e in wanted
        if e.kind == "document" and have.get((e.kind, e.ref_id), (None, None))[1] == e.title
    }
    stale = [entry_id for entry_id, _title in have.values() if entry_id not in keep]
    if stale:
        session.execute(delete(SearchEntry).where(SearchEntry.id.in_(stale)))
    session.add_all(
        e
        for e in wanted
        if not (e.kind == "document" and have.get((e.kind, e.ref_id), (None, None))[0] in keep)
    )


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
    session.execute(delete(SearchEntry).where(SearchEntry.meeting_id == meeting_id))
    if meeting is not None:
        session.add_all(entries_for(meeting))


def reindex_all() -> int:
    count = 0
    for meeting in db.session.scalars(select(Meeting)):
        reindex_meeting(meeting.id, meeting, db.session)
        count += 1
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


def _candidate_ids(query: str, offset: int = 0) -> list[int]:
    """One batch of matching entries, best first (ties broken by id so batches are stable)."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        match = _fts5_query(query)
        if not match:
            return []
        rows = db.session.execute(
            text(
                "SELECT rowid FROM search_fts WHERE search_fts MATCH :q "
                "ORDER BY rank, rowid LIMIT :n OFFSET :o"
            ),
            {"q": match, "n": MAX_CANDIDATES, "o": offset},
        )
    else:
        # Only a bounded set of matches is ranked (the index finds them all at once; ranking
        # a common word's every match was what cost seconds), each by its stored tsvector.
        rows = db.session.execute(
            text(
                f"SELECT c.id FROM ("
                f"  SELECT id, {FULLTEXT_COLUMN} AS v FROM search_entries "
                f"  WHERE {FULLTEXT_COLUMN} @@ websearch_to_tsquery('english', :q) LIMIT :cap"
                f") AS c ORDER BY ts_rank(c.v, websearch_to_tsquery('english', :q)) DESC, c.id "
                f"LIMIT :n OFFSET :o"
            ),
            {"q": query, "cap": RANKED, "n": MAX_CANDIDATES, "o": offset},
        )
    return [r[0] for r in rows]


_LOADERS = {
    "item": AgendaItem,
    "purpose": AgendaItem,
    "document": Document,
    "minute": Minute,
    "resolution": Resolution,
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
    # Matches are read in batches until enough visible ones are found, so matches the
    # reader may not see (up to MAX_BATCHES of them) never push visible ones out.
    for _ in range(MAX_BATCHES):
        if len(hits) >= limit:
            break
        ids = _candidate_ids(query, offset)
        if not ids:
            break
        offset += len(ids)
        entries = {
            e.id: e for e in db.session.scalars(select(SearchEntry).where(SearchEntry.id.in_(ids)))
        }
        _prefetch([e for e in entries.values() if e.copy in copies])
        for entry_id in ids:
            entry = entries.get(entry_id)
            if entry is None or entry.copy not in copies:
                continue
            meeting = db.session.get(Meeting, entry.meeting_id)
            obj = _source(entry, meeting, agendas)
            if obj is None or not _visible(entry.kind, obj, user):
                continue
            hits.append(
                Hit(
                    entry.kind,
                    obj,
                    meeting,
                    entry.title or _title_of(entry.kind, obj),
                    _excerpt(entry.body or entry.title, query),
                )
            )
            if len(hits) >= limit:
                break
        if len(ids) < MAX_CANDIDATES:
            break
    return hits


def _prefetch(entries: list[SearchEntry]) -> None:
    """Load a batch's meetings and records in a query per kind, not one per hit: the lookups
    that follow find them in the session."""
    meeting_ids = {e.meeting_id for e in entries}
    if meeting_ids:
        db.session.scalars(select(Meeting).where(Meeting.id.in_(meeting_ids))).all()
    wanted: dict[type, set[int]] = {}
    for e in entries:
        if e.copy != PUBLISHED:
            wanted.setdefault(_LOADERS[e.kind], set()).add(e.ref_id)
    for model, ids in wanted.items():
        db.session.scalars(select(model).where(model.id.in_(ids))).all()


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
