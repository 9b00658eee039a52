"""Building feeds once per change.

Two layers, both keyed by content so they are right in every process:
- each meeting's serialised event is kept in the database with the key it was built from and
  rebuilt only when that key changes (app.ical.models.IcalEventCache);
- a whole feed is identified by a fingerprint computed with one aggregate query (count and
  latest change of its meetings and committees); a repeat request with that fingerprint as
  its ETag gets 304, and an unchanged feed is served from a small in-process memo.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.committees.models import Committee
from app.extensions import db
from app.ical.builder import BUILDER_VERSION, event_key, event_text
from app.ical.models import IcalEventCache
from app.meetings.models import Meeting

_MEMO_SIZE = 64
_feeds: OrderedDict[str, bytes] = OrderedDict()


@dataclass(frozen=True)
class Fingerprint:
    etag: str
    last_modified: datetime | None


def fingerprint(conditions, *extra) -> Fingerprint:
    """Three index-backed queries that change whenever anything a feed shows changes: how many
    meetings the feed has (a deletion), and the latest change to any meeting or committee
    (every edit moves updated_at). Any change anywhere renews every feed's fingerprint, which
    costs one rebuild from cached events; checking stays cheap however many meetings there
    are."""
    count = db.session.scalar(select(func.count(Meeting.id)).where(*conditions))
    latest = _aware(db.session.scalar(select(func.max(Meeting.updated_at))))
    committee_latest = _aware(db.session.scalar(select(func.max(Committee.updated_at))))
    parts = [BUILDER_VERSION, count, latest, committee_latest, *extra]
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]
    newest = max((t for t in (latest, committee_latest) if t is not None), default=None)
    return Fingerprint(digest, newest)


def _aware(value):
    # SQLite hands aggregates back as text or naive values; both mean UTC here.
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def memo_get(key: str) -> bytes | None:
    body = _feeds.get(key)
    if body is not None:
        _feeds.move_to_end(key)
    return body


def memo_put(key: str, body: bytes) -> None:
    _feeds[key] = body
    _feeds.move_to_end(key)
    while len(_feeds) > _MEMO_SIZE:
        _feeds.popitem(last=False)


def event_texts(meetings: list[Meeting], base_url: str) -> list[str]:
    """The serialised event of each meeting, rebuilding only those whose key changed."""
    if not meetings:
        return []
    ids = [m.id for m in meetings]
    cached = {}
    for start in range(0, len(ids), 5000):  # stay well inside bound-parameter limits
        chunk = ids[start : start + 5000]
        cached.update(
            (row.meeting_id, row)
            for row in db.session.scalars(
                select(IcalEventCache).where(IcalEventCache.meeting_id.in_(chunk))
            )
        )
    texts, stale = [], []
    for meeting in meetings:
        key = event_key(meeting, base_url)
        row = cached.get(meeting.id)
        if row is not None and row.key == key:
            texts.append(row.body)
            continue
        body = event_text(meeting, base_url)
        texts.append(body)
        stale.append((meeting.id, key, body, row))
    if stale:
        _store(stale)
    return texts


def _store(stale) -> None:
    savepoint = db.session.begin_nested()
    try:
        for meeting_id, key, body, row in stale:
            if row is None:
                db.session.add(IcalEventCache(meeting_id=meeting_id, key=key, body=body))
            else:
                row.key, row.body, row.built_at = key, body, datetime.now(UTC)
        savepoint.commit()
    except IntegrityError:
        # Another process cached the same events at the same moment; theirs will do.
        savepoint.rollback()
