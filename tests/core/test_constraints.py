"""The schema itself refuses records that break the domain's invariants."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError

from app.core.errors import ValidationError, integrity_to_validation
from app.models import (
    AgendaItem,
    AttendanceStatus,
    Meeting,
    MeetingStatus,
    Resolution,
    Visibility,
)


def test_minute_number_is_unique_within_a_committee(db, f):
    c = f.committee()
    m1, m2 = f.meeting(c), f.meeting(c)
    f.minute(m1, 208)
    with pytest.raises(IntegrityError) as info:
        f.minute(m2, 208)
    db.session.rollback()
    error = integrity_to_validation(info.value)
    assert isinstance(error, ValidationError)
    assert error.errors == {"number": ["That minute number is already used."]}


def test_same_minute_number_is_fine_in_another_committee(db, f):
    f.minute(f.meeting(f.committee()), 208)
    f.minute(f.meeting(f.committee()), 208)
    db.session.commit()


def test_one_attendance_row_per_person_per_meeting(db, f):
    m = f.meeting(f.committee())
    p = f.person()
    f.attendance(m, p)
    with pytest.raises(IntegrityError) as info:
        f.attendance(m, p, AttendanceStatus.APOLOGIES)
    db.session.rollback()
    assert "person_id" in integrity_to_validation(info.value).errors


def test_substitute_must_name_whom_they_replace(db, f):
    m = f.meeting(f.committee())
    with pytest.raises(IntegrityError):
        f.attendance(m, f.person(), AttendanceStatus.SUBSTITUTE)
    db.session.rollback()


def test_chair_must_be_present(db, f):
    m = f.meeting(f.committee())
    with pytest.raises(IntegrityError):
        f.attendance(m, f.person(), AttendanceStatus.APOLOGIES, in_chair=True)
    db.session.rollback()


def test_top_level_item_positions_are_unique_within_a_meeting(db, f):
    m = f.meeting(f.committee())
    f.item(m, "Apologies", position=0)
    with pytest.raises(IntegrityError):
        f.item(m, "Minutes", position=0)
    db.session.rollback()


def test_sub_item_positions_are_unique_within_their_parent(db, f):
    m = f.meeting(f.committee())
    parent = f.item(m, "Issues and concerns", position=0)
    f.item(m, "Youth Cabinet", position=0, parent_id=parent.id)
    # The same position under a different parent, or at top level, is fine.
    other = f.item(m, "Other", position=1)
    f.item(m, "Sub of other", position=0, parent_id=other.id)
    with pytest.raises(IntegrityError):
        f.item(m, "Looked After Children Council", position=0, parent_id=parent.id)
    db.session.rollback()


def test_exempt_item_needs_public_interest_reason(db, f):
    m = f.meeting(f.committee())
    db.session.add(
        AgendaItem(meeting=m, title="Land sale", position=0, visibility=Visibility.EXEMPT)
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_schedule_12a_paragraph_must_be_1_to_7(db, f):
    item = f.exempt_item(f.meeting(f.committee()), paragraphs=[3])
    assert item.exempt_paragraphs == [3]
    item.exempt_paragraphs = [8]
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_cancelled_meeting_needs_a_reason(db, f):
    m = f.meeting(f.committee())
    m.status = MeetingStatus.CANCELLED
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_meeting_cannot_end_before_it_starts(db, f):
    start = datetime(2026, 3, 4, 14, tzinfo=UTC)
    with pytest.raises(IntegrityError):
        f.meeting(f.committee(), starts_at=start, ends_at=start.replace(hour=13))
    db.session.rollback()


def test_status_values_are_checked_by_the_database(db, f):
    m = f.meeting(f.committee())
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(
            text("UPDATE meetings SET status = 'abandoned' WHERE id = :id"), {"id": m.id}
        )
    db.session.rollback()


def test_orm_refuses_unknown_enum_value(db, f):
    m = f.meeting(f.committee())
    m.status = "abandoned"
    with pytest.raises(StatementError):
        db.session.flush()
    db.session.rollback()


def test_resolution_ordinals_unique_and_vote_counts_not_negative(db, f):
    minute = f.minute(f.meeting(f.committee()), 1)
    f.resolution(minute, "That the report be noted.", ordinal=1)
    with pytest.raises(IntegrityError):
        f.resolution(minute, "That it be noted again.", ordinal=1)
    db.session.rollback()
    minute = f.minute(f.meeting(f.committee()), 1)
    db.session.add(Resolution(minute=minute, ordinal=1, text="That x.", votes_for=-1))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_foreign_keys_are_enforced(db, f):
    with pytest.raises(IntegrityError):
        db.session.add(Meeting(committee_id=999_999, starts_at=datetime.now(UTC)))
        db.session.flush()
    db.session.rollback()
