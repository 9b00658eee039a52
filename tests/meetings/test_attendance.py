from datetime import UTC, datetime, timedelta

import pytest

from app.core.errors import Conflict, Forbidden, ValidationError
from app.meetings import attendance
from app.models import AttendanceStatus, MembershipRole, Role


@pytest.fixture
def setup(db, f):
    c = f.committee(quorum_fraction="1/2")
    members = [f.person(f"Member {i}") for i in range(4)]
    for p in members:
        f.membership(c, p)
    officer = f.person("Officer")
    f.membership(c, officer, MembershipRole.OFFICER)
    m = f.meeting(c)
    return c, m, members, officer


def test_register_and_quorum(db, f, setup):
    _c, m, members, officer = setup
    assert attendance.quorum(m).required == 2
    attendance.set_attendance(m, members[0], "present", in_chair=True)
    q = attendance.quorum(m)
    assert (q.voting_members, q.present, q.quorate) == (4, 1, False)
    sub = f.person("Substitute")
    attendance.set_attendance(m, members[1], "apologies")
    attendance.set_attendance(m, sub, "substitute", substitute_for=members[1])
    attendance.set_attendance(m, officer, "in_attendance", capacity="Clerk")
    assert attendance.quorum(m).present == 2 and attendance.quorum(m).quorate
    # Changing a row updates it rather than adding another.
    attendance.set_attendance(m, members[1], "present")
    assert len(m.attendance) == 4
    # A new chair replaces the old one.
    attendance.set_attendance(m, members[1], "present", in_chair=True)
    assert [a.person for a in m.attendance if a.in_chair] == [members[1]]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"status": "sleeping"}, "status"),
        ({"status": "substitute"}, "substitute_for"),
        ({"status": "apologies", "in_chair": True}, "in_chair"),
        ({"status": "present", "arrived_at_item_id": 999999}, "arrived_at_item_id"),
    ],
)
def test_bad_attendance_refused(db, f, setup, kwargs, field):
    _c, m, members, _ = setup
    with pytest.raises(ValidationError) as info:
        attendance.set_attendance(m, members[0], **kwargs)
    assert field in info.value.errors


def test_late_arrival_at_an_item(db, f, setup):
    _c, m, members, _ = setup
    item = f.item(m, "Budget")
    row = attendance.set_attendance(m, members[2], "present", arrived_at_item_id=item.id)
    assert row.arrived_at_item_id == item.id
    other = f.item(f.meeting(f.committee()), "Elsewhere")
    with pytest.raises(ValidationError):
        attendance.set_attendance(m, members[2], "present", left_at_item_id=other.id)


def test_members_send_their_own_apologies(db, f, setup):
    c, m, members, _ = setup
    member_user = f.user(Role.MEMBER, person=members[3])
    row = attendance.send_apologies(m, member_user, "On leave")
    assert row.status == AttendanceStatus.APOLOGIES and row.apologies_sent_at is not None
    with pytest.raises(Forbidden):
        attendance.send_apologies(m, f.member_user(f.committee()))
    past = f.meeting(c, starts_at=datetime.now(UTC) - timedelta(days=1))
    with pytest.raises(Conflict):
        attendance.send_apologies(past, member_user)


def test_declarations(db, f, setup):
    _c, m, members, _ = setup
    item = f.item(m, "Planning application 13/0042")
    d = attendance.add_declaration(
        m, item.id, members[0], "disclosable_pecuniary", "Owns the neighbouring land", withdrew=True
    )
    assert d.withdrew and d.item == item
    with pytest.raises(ValidationError) as info:
        attendance.add_declaration(m, item.id, members[0], "gossip", " ")
    assert {"kind", "nature"} <= set(info.value.errors)
