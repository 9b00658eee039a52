"""Times are stored as UTC and come back aware, on SQLite and PostgreSQL alike."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from app.models import Meeting

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("local", "utc_hour"),
    [
        (datetime(2013, 7, 17, 14, 0, tzinfo=LONDON), 13),  # BST
        (datetime(2013, 11, 20, 14, 0, tzinfo=LONDON), 14),  # GMT
    ],
)
def test_round_trip_is_aware_utc(db, f, local, utc_hour):
    meeting_id = f.meeting(f.committee(), starts_at=local).id
    db.session.commit()
    db.session.expunge_all()

    loaded = db.session.get(Meeting, meeting_id)
    assert loaded.starts_at.tzinfo is not None
    assert loaded.starts_at.utcoffset().total_seconds() == 0
    assert loaded.starts_at == local
    assert loaded.starts_at.hour == utc_hour
    assert loaded.local_start.hour == 14

    # What is in the database is the UTC wall time, whatever the driver's session zone.
    raw = db.session.execute(
        text("SELECT starts_at FROM meetings WHERE id = :id"), {"id": meeting_id}
    ).scalar_one()
    if isinstance(raw, str):  # SQLite returns text
        raw = datetime.fromisoformat(raw)
    if raw.tzinfo is not None:
        raw = raw.astimezone(UTC)
    assert (raw.hour, raw.minute) == (utc_hour, 0)


def test_naive_datetimes_are_refused(db, f):
    with pytest.raises(StatementError):
        f.meeting(f.committee(), starts_at=datetime(2013, 7, 17, 14, 0))
    db.session.rollback()


def test_filtering_compares_instants(db, f):
    c = f.committee()
    f.meeting(c, starts_at=datetime(2013, 7, 17, 14, 0, tzinfo=LONDON))
    db.session.commit()
    later = datetime(2013, 7, 17, 13, 30, tzinfo=UTC)  # 14:30 in London
    earlier = datetime(2013, 7, 17, 12, 30, tzinfo=UTC)
    assert db.session.query(Meeting).filter(Meeting.starts_at < later).count() == 1
    assert db.session.query(Meeting).filter(Meeting.starts_at < earlier).count() == 0
