"""Building feeds once per change.

Two layers, both keyed by content so they are right in every process:
- each meeting's serialised event is kept in the database with the newest change stamp it
  was built from (the meeting's or its committee's updated_at), so one SQL query tells fresh
  events from stale ones and only stale ones are rebuilt (app.ical.models.IcalEventCache);
- a whole feed is identified by a fingerprint of exactly the rows it shows, computed with a few
  index-backed aggregates; a repeat request with that fingerprint as its ETag gets 304, and an
  unchanged feed is served from a small in-process memo.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.committees.models import Committee
from app.extensions import db
from app.ical.builder import BUILDER_VERSION, event_text
from app.ical.models import IcalEventCache
from app.meetings.models import Meeting

log = logging.getLogger(__name__)

_MEMO_SIZE = 64
_feeds: OrderedDict[str, bytes] = OrderedDict()
_seen: OrderedDict[str, tuple[str, datetime]] = OrderedDict()
# Threaded servers share these memos; reordering and evicting must not interleave.
_lock = threading.Lock()


@dataclass(frozen=True, eq=False)
class Shape:
    """Which meetings a kind of feed shows, as SQL with bound parameters (built once per
    kind, so its statements are built once too). The feed is the union of `branches`,
    conditions on Meeting each simple enough for one index; they do not overlap and come in
    start order (every meeting of one starts before any of the next), so reading them in turn
    keeps the feed in start order. `committees` picks the committees whose names the events
    carry."""

    branches: tuple
    committees: object = field(default_factory=true)


@dataclass(frozen=True)
class Selection:
    """A shape with the values of its parameters; `since` is when the selection last moved by
    the clock alone (a window boundary), if it can."""

    shape: Shape
    params: dict
    since: datetime | None = None

    @property
    def condition(self):
        """The whole selection as one condition (execute it with `params`)."""
        return or_(*self.shape.branches)


@dataclass(frozen=True)
class Fingerprint:
    etag: str
    last_modified: datetime | None


def fingerprint(selection: Selection, *extra) -> Fingerprint:
    """A digest of exactly what the feed shows, from index-backed aggregates, never loading
    the meetings. Per branch, the count and sum of ids pin down which meetings are in it (one
    leaving changes the count; one joining was just changed, so it also moves the newest
    stamp); the newest updated_at among the selected meetings and their committees moves on
    every edit of anything an event is built from. `extra` carries everything else the body
    depends on (name, base URL, the feed's own URL...)."""
    statement = _fingerprint_statement(selection.shape)
    row = db.session.connection().execute(statement, selection.params).one()
    *counts, latest, committee_latest = row
    latest, committee_latest = aware(latest), aware(committee_latest)
    parts = [BUILDER_VERSION, *extra, *counts, latest, committee_latest]
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]
    stamps = (latest, committee_latest, selection.since)
    newest = max((t for t in stamps if t is not None), default=None)
    return Fingerprint(digest, newest)


@lru_cache(maxsize=64)
def _fingerprint_statement(shape: Shape):
    # One round trip: on a 304 the statement overhead matters as much as the scans.
    counted = [
        select(
            func.count(Meeting.id).label("n"), func.coalesce(func.sum(Meeting.id), 0).label("ids")
        )
        .where(branch)
        .subquery()
        for branch in shape.branches
    ]
    columns = [column for sub in counted for column in (sub.c.n, sub.c.ids)]
    # Walks the updated_at index from the newest change to the first selected meeting.
    columns.append(
        select(Meeting.updated_at)
        .where(or_(*shape.branches))
        .order_by(Meeting.updated_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    columns.append(select(func.max(Committee.updated_at)).where(shape.committees).scalar_subquery())
    query = select(*columns).select_from(counted[0])
    for sub in counted[1:]:
        query = query.join(sub, true())  # one row each
    return query


def first_seen(feed: str, etag: str) -> datetime:
    """When this process first served this version of this feed. Last-Modified is never
    earlier, so If-Modified-Since stays right for changes that leave no stamp in the database
    (a membership's dates edited, a meeting deleted)."""
    with _lock:
        seen = _seen.get(feed)
        if seen is None or seen[0] != etag:
            seen = (etag, datetime.now(UTC).replace(microsecond=0))
            _seen[feed] = seen
        _seen.move_to_end(feed)
        while len(_seen) > 4096:
            _seen.popitem(last=False)
    return seen[1]


def aware(value):
    # SQLite hands aggregates back as text or naive values; both mean UTC here.
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def memo_get(key: str) -> bytes | None:
    with _lock:
        body = _feeds.get(key)
        if body is not None:
            _feeds.move_to_end(key)
    return body


def memo_put(key: str, body: bytes) -> None:
    with _lock:
        _feeds[key] = body
        _feeds.move_to_end(key)
        while len(_feeds) > _MEMO_SIZE:
            _feeds.popitem(last=False)


@dataclass
class FeedEvents:
    ids: list[int]
    texts: list[str]
    # tzid -> first and last local year of the feed's meetings, for the VTIMEZONE blocks.
    spans: dict[str, tuple[int, int]]


def cache_key(base_url: str) -> str:
    """What every cached event of a site shares besides its stamp: builder and base URL."""
    return hashlib.sha256(f"{BUILDER_VERSION}\x1f{base_url}".encode()).hexdigest()


def feed_events(selection: Selection, base_url: str) -> FeedEvents:
    """The serialised events of a selection in start order, from the cache. One query per
    branch reads every cached body, or nothing where the body is stale, so a warm feed costs
    no Meeting objects at all; only stale or missing events are loaded and rebuilt."""
    key = cache_key(base_url)
    rows = []
    # Plain Core rows on the session's connection: ORM result handling would cost more than
    # the query for ten thousand events. Branches come in start order (see Shape).
    connection = db.session.connection()
    for statement in _event_statements(selection.shape):
        rows += connection.execute(statement, {**selection.params, "cache_key": key}).all()
    if not rows:
        return FeedEvents([], [], {})
    ids, zones, texts = (list(column) for column in zip(*rows, strict=True))
    stale = [i for i, text in enumerate(texts) if text is None]
    if stale:
        built = _rebuild([ids[i] for i in stale], base_url, key)
        for i in stale:
            texts[i] = built.get(ids[i])
        # An event that cannot be built is left out, so one bad row never breaks the feed.
        kept = [i for i, text in enumerate(texts) if text is not None]
        if len(kept) < len(texts):
            ids, zones, texts = ([column[i] for i in kept] for column in (ids, zones, texts))
        if not ids:
            return FeedEvents([], [], {})
    return FeedEvents(ids, texts, _spans(ids, zones))


@lru_cache(maxsize=64)
def _event_statements(shape: Shape) -> list:
    """Per branch: each meeting's id, zone and cached body, the body only if still fresh."""
    fresh = and_(
        IcalEventCache.key == bindparam("cache_key"),
        IcalEventCache.built_at >= Meeting.updated_at,
        IcalEventCache.built_at >= Committee.updated_at,
    )
    return [
        select(Meeting.id, Meeting.timezone, case((fresh, IcalEventCache.body)))
        .join(Committee, Meeting.committee_id == Committee.id)
        .outerjoin(IcalEventCache, IcalEventCache.meeting_id == Meeting.id)
        .where(branch)
        .order_by(Meeting.starts_at, Meeting.id)
        for branch in shape.branches
    ]


def _spans(ids: list[int], zones: list[str]) -> dict[str, tuple[int, int]]:
    # Rows come in start order, so each zone's first and last rows hold its earliest and
    # latest meetings; only those few start times are read.
    edges = {}
    for tzid in set(zones):
        first = zones.index(tzid)
        last = len(zones) - 1 - zones[::-1].index(tzid)
        edges[tzid] = (ids[first], ids[last])
    wanted = {i for pair in edges.values() for i in pair}
    starts = dict(
        db.session.execute(
            select(Meeting.id, Meeting.starts_at).where(Meeting.id.in_(wanted))
        ).all()
    )
    return {
        tzid: tuple(_local_year(aware(starts[i]), tzid) for i in pair)
        for tzid, pair in edges.items()
    }


def _local_year(start: datetime, tzid: str) -> int:
    try:
        return start.astimezone(ZoneInfo(tzid)).year
    except (OverflowError, ValueError):  # at the very end of the calendar: its UTC year
        return start.year


def _rebuild(ids: list[int], base_url: str, key: str) -> dict[int, str]:
    built: dict[int, str] = {}
    for start in range(0, len(ids), 5000):  # stay well inside bound-parameter limits
        chunk = ids[start : start + 5000]
        meetings = db.session.scalars(
            select(Meeting).where(Meeting.id.in_(chunk)).options(selectinload(Meeting.committee))
        ).all()
        cached = {
            row.meeting_id: row
            for row in db.session.scalars(
                select(IcalEventCache).where(IcalEventCache.meeting_id.in_(chunk))
            )
        }
        stale = []
        for meeting in meetings:
            try:
                body = event_text(meeting, base_url)
            except Exception as exc:
                # Stored before the services checked it (a time at the end of the calendar, a
                # line break in a name): name the row and the kind of failure, never the text,
                # which may be what a feed must not show.
                log.warning(
                    "meeting %s left out of the feeds: its event cannot be built (%s)",
                    meeting.id,
                    type(exc).__name__,
                )
                continue
            built[meeting.id] = body
            # The stamp of the data the body was built from, not the clock: a change made
            # while we were building has a later stamp, so the event is rebuilt next time.
            stamp = max(meeting.updated_at, meeting.committee.updated_at)
            stale.append((meeting.id, body, stamp, cached.get(meeting.id)))
        _store(stale, key)
    return built


def _store(stale, key: str) -> None:
    savepoint = db.session.begin_nested()
    try:
        for meeting_id, body, stamp, row in stale:
            if row is None:
                db.session.add(
                    IcalEventCache(meeting_id=meeting_id, key=key, body=body, built_at=stamp)
                )
            else:
                row.key, row.body, row.built_at = key, body, stamp
        savepoint.commit()
    except IntegrityError:
        # Another process cached the same events at the same moment; theirs will do.
        savepoint.rollback()
