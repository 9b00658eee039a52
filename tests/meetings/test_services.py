from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.core.errors import Conflict, ValidationError
from app.meetings import services
from app.models import AuditEvent, MeetingStatus

LONDON = ZoneInfo("Europe/London")


def test_naive_times_mean_the_committees_timezone(db, f):
    c = f.committee(default_venue="Town Hall")
    summer = services.schedule_meeting(c, datetime(2026, 7, 15, 14, 0))
    winter = services.schedule_meeting(c, datetime(2026, 12, 16, 14, 0))
    assert summer.starts_at == datetime(2026, 7, 15, 13, 0, tzinfo=UTC)
    assert winter.starts_at == datetime(2026, 12, 16, 14, 0, tzinfo=UTC)
    assert summer.venue == "Town Hall"
    assert summer.ical_uid != winter.ical_uid


def test_schedule_refuses_end_before_start(db, f):
    with pytest.raises(ValidationError) as info:
        services.schedule_meeting(
            f.committee(), datetime(2026, 7, 15, 14), datetime(2026, 7, 15, 13)
        )
    assert "ends_at" in info.value.errors


def test_reschedule_keeps_uid_and_raises_sequence(db, f):
    m = services.schedule_meeting(
        f.committee(), datetime(2026, 7, 15, 14), datetime(2026, 7, 15, 16), venue="Town Hall"
    )
    uid, seq = m.ical_uid, m.ical_sequence
    assert services.reschedule(m, starts_at=datetime(2026, 7, 22, 14, tzinfo=LONDON))
    assert m.ical_uid == uid and m.ical_sequence == seq + 1
    assert m.local_end.hour == 16  # length kept
    assert not services.reschedule(m, venue="Town Hall")  # nothing changed, no new sequence
    assert m.ical_sequence == seq + 1
    assert services.reschedule(m, venue="Committee Room 1")
    assert m.ical_sequence == seq + 2
    assert db.session.query(AuditEvent).filter_by(verb="meeting_rescheduled").count() == 2


def test_cancel_needs_reason_keeps_meeting_and_raises_sequence(db, f):
    m = services.schedule_meeting(f.committee(), datetime(2026, 7, 15, 14))
    with pytest.raises(ValidationError):
        services.set_status(m, MeetingStatus.CANCELLED, "  ")
    services.set_status(m, "cancelled", "Insufficient business")
    assert m.status == MeetingStatus.CANCELLED and m.ical_sequence == 1
    db.session.commit()
    with pytest.raises(Conflict):
        services.reschedule(m, venue="Elsewhere")
    with pytest.raises(ValidationError):
        services.set_status(m, "abandoned")


def test_stale_version_is_a_conflict(db, f):
    m = services.schedule_meeting(f.committee(), datetime(2026, 7, 15, 14))
    version = m.version
    services.reschedule(m, venue="Room 2", expected_version=version)
    with pytest.raises(Conflict) as info:
        services.reschedule(m, venue="Room 3", expected_version=version)
    assert info.value.status == 409
    assert m.venue == "Room 2"
