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
    # Changing a row updates it rather than adding another (PUT semantics). The member
    # arrives, so their substitute stands down first.
    attendance.set_attendance(m, sub, "in_attendance")
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


def test_adding_someone_already_in_the_register_is_refused(db, f, setup):
    _c, m, members, officer = setup
    attendance.add_to_register(m, officer, capacity="Director of Public Health")
    attendance.set_attendance(m, members[0], "present")
    for person in (officer, members[0]):
        with pytest.raises(ValidationError) as info:
            attendance.add_to_register(m, person, capacity="Guest")
        assert "already in the register" in info.value.detail
        assert "add_person" in info.value.errors
    # Nothing changed: one row each, as first recorded.
    rows = {a.person_id: a for a in m.attendance}
    assert len(m.attendance) == 2
    assert rows[officer.id].capacity == "Director of Public Health"
    assert rows[members[0].id].status == AttendanceStatus.PRESENT


def test_a_seat_is_counted_once(db, f, setup):
    _c, m, members, _ = setup
    first, second = f.person("First Sub"), f.person("Second Sub")
    attendance.set_attendance(m, members[0], "apologies")
    attendance.set_attendance(m, first, "substitute", substitute_for=members[0])
    # A second substitute for the same member is refused.
    with pytest.raises(ValidationError) as info:
        attendance.set_attendance(m, second, "substitute", substitute_for=members[0])
    assert "First Sub is already substituting" in info.value.detail
    # So is recording the member present while their substitute sits.
    with pytest.raises(ValidationError) as info:
        attendance.set_attendance(m, members[0], "present")
    assert "status" in info.value.errors
    # A substitute for a member who is present is refused too.
    attendance.set_attendance(m, members[1], "present")
    with pytest.raises(ValidationError) as info:
        attendance.set_attendance(m, second, "substitute", substitute_for=members[1])
    assert "recorded as present" in info.value.detail
    assert {a.person_id for a in m.attendance} == {members[0].id, members[1].id, first.id}
    assert attendance.quorum(m).present == 2
    # Changing the existing substitute's own row is allowed (it is the same seat).
    attendance.set_attendance(m, first, "substitute", substitute_for=members[0], in_chair=True)


def test_quorum_counts_seats_not_rows(db, f, setup):
    """Rows stored before double counting was refused still count each seat once."""
    from app.models import Attendance

    _c, m, members, _ = setup
    a, b = f.person("Sub A"), f.person("Sub B")
    for person, status, sub_for in (
        (members[0], AttendanceStatus.PRESENT, None),
        (a, AttendanceStatus.SUBSTITUTE, members[0]),
        (b, AttendanceStatus.SUBSTITUTE, members[1]),
        (f.person("Sub C"), AttendanceStatus.SUBSTITUTE, members[1]),
    ):
        db.session.add(Attendance(meeting=m, person=person, status=status, substitute_for=sub_for))
    db.session.flush()
    q = attendance.quorum(m)
    assert (q.present, q.quorate) == (2, True)


def test_substitute_for_someone_not_a_member_is_refused(db, f, setup):
    _c, m, _members, officer = setup
    outsider = f.person("Not A Member")
    for stands_in_for, message in (
        (outsider, "Not A Member is not a member."),
        (officer, "Officer is not a voting member, so no one substitutes for them."),
    ):
        with pytest.raises(ValidationError) as info:
            attendance.set_attendance(
                m, f.person("Would-be Sub"), "substitute", substitute_for=stands_in_for
            )
        assert info.value.errors["substitute_for"] == [message]
    assert m.attendance == []


def test_who_may_send_apologies_is_one_predicate(db, f, setup):
    _c, m, members, _ = setup
    member_user = f.user(Role.MEMBER, person=members[3])
    assert m.can_send_apologies(member_user) and m.apologies_refusal(member_user) is None
    assert "Only members" in m.apologies_refusal(f.member_user(f.committee()))
    assert "Only members" in m.apologies_refusal(f.user(Role.CLERK))
    m.status, m.status_reason = "postponed", "Awaiting the budget"
    assert "postponed" in m.apologies_refusal(member_user)
    m.status = "cancelled"
    assert "cancelled" in m.apologies_refusal(member_user)
    m.status, m.status_reason = "scheduled", None
    m.starts_at = datetime.now(UTC) - timedelta(hours=1)
    assert "already started" in m.apologies_refusal(member_user)
    assert not m.can_send_apologies(member_user)


def test_apologies_for_a_postponed_meeting_are_refused_alike_on_the_page_and_in_the_api(
    client, db, f, setup, sign_in
):
    from app.auth.services import issue_token
    from app.meetings import services
    from app.models import Attendance

    _c, m, members, _ = setup
    member_user = f.user(Role.MEMBER, person=members[3])
    services.set_status(m, "postponed", "Awaiting the budget")
    token = issue_token(member_user)
    db.session.commit()
    refusal = m.apologies_refusal(member_user)

    api = client.put(
        f"/api/v1/meetings/{m.id}/attendance/{members[3].id}",
        headers={"Authorization": f"Bearer {token}"},
        json={"status": "apologies"},
    )
    assert api.status_code == 409, api.get_data(as_text=True)
    assert api.get_json()["detail"] == refusal

    sign_in(member_user)
    page = client.get(f"/meetings/{m.id}/")
    assert "Send my apologies" not in page.get_data(as_text=True)
    posted = client.post(f"/meetings/{m.id}/apologies", data={"note": "Away"})
    assert posted.status_code == 302
    shown = client.get(posted.headers["Location"]).get_data(as_text=True)
    assert refusal.replace("'", "&#39;") in shown
    db.session.expire_all()
    assert Attendance.query.filter_by(meeting_id=m.id).count() == 0


def test_the_trail_says_what_changed_in_the_register(db, f, setup):
    from app.audit.models import AuditEvent

    _c, m, members, _ = setup
    sub = f.person("Substitute")

    def last():
        return AuditEvent.query.filter_by(verb="attendance_set").order_by(AuditEvent.id.desc())

    attendance.set_attendance(m, members[0], "present", in_chair=True)
    event = last().first()
    assert event.summary == members[0].display_name
    assert event.data["changes"] == {"status": [None, "present"], "in_chair": [False, True]}
    attendance.set_attendance(m, members[1], "apologies")
    attendance.set_attendance(m, sub, "substitute", substitute_for=members[1])
    assert last().first().data["changes"]["substitute_for"] == [None, members[1].display_name]
    count = last().count()
    attendance.set_attendance(m, members[1], "apologies")  # saved again, unchanged
    assert last().count() == count
    attendance.set_attendance(m, sub, "in_attendance")
    attendance.set_attendance(m, members[1], "present", in_chair=True)
    event = last().first()
    assert event.data["changes"] == {
        "status": ["apologies", "present"],
        "in_chair": [False, True],
        "chair": [members[0].display_name, members[1].display_name],
    }
    assert ("Status", "apologies", "present") in event.changed_values
    substitute = last().offset(1).first()
    assert substitute.data["changes"] == {
        "status": ["substitute", "in attendance"],
        "substitute_for": [members[1].display_name, None],
    }
