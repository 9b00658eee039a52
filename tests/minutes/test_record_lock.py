"""Once a meeting's minutes are approved, everything they show is locked: the same refusal
(409 with the reason) at the services, the pages and the API."""

from datetime import UTC, date, datetime, timedelta

import pytest

from app.actions import services as actions
from app.agenda import services as agenda
from app.auth.services import issue_token
from app.committees.services import update_committee
from app.core.errors import Conflict
from app.meetings import attendance
from app.meetings import services as meetings
from app.minutes import services as minutes
from app.models import MembershipRole, Role

LOCKED = "approved and locked"


@pytest.fixture
def approved(db, f):
    c = f.committee("Health Board", first_minute_number=208, minute_prefix="HB/")
    chair, member = f.person("Lakin"), f.person("Sue Wilson")
    f.membership(c, chair, MembershipRole.CHAIR)
    f.membership(c, member)
    may = f.published_meeting(c, starts_at=datetime(2026, 5, 20, 13, tzinfo=UTC))
    july = f.meeting(c, starts_at=datetime.now(UTC) + timedelta(days=20))
    item = agenda.add_item(may, title="Action plan")
    attendance.set_attendance(may, chair, "present", in_chair=True)
    (minute,) = minutes.draft_minutes(may)
    resolution = minutes.add_resolution(minute, "That the plan be agreed.")
    minutes.approve_minutes(may, july)
    clerk = f.user(Role.CLERK)
    db.session.commit()
    return {
        "c": c,
        "may": may,
        "july": july,
        "item": item,
        "minute": minute,
        "resolution": resolution,
        "chair": chair,
        "member": member,
        "clerk": clerk,
    }


def _refusals(s):
    m = s["may"]
    return {
        "attendance": lambda: attendance.set_attendance(m, s["member"], "present"),
        "declaration": lambda: attendance.add_declaration(
            m, s["item"].id, s["chair"], "non_registrable", "Governor of a school"
        ),
        "action arising": lambda: actions.create_from_resolution(
            s["resolution"], "Send the plan", s["member"].id, date(2026, 9, 1)
        ),
        "reschedule": lambda: meetings.reschedule(m, venue="Another room"),
        "status": lambda: meetings.set_status(m, "cancelled", "Called off"),
        "agenda": lambda: agenda.add_item(m, title="Late item"),
    }


@pytest.mark.parametrize(
    "what", ["attendance", "declaration", "action arising", "reschedule", "status", "agenda"]
)
def test_the_approved_record_refuses_change_at_the_services(db, approved, what):
    before = (approved["may"].version, approved["may"].venue, len(approved["may"].attendance))
    with pytest.raises(Conflict) as info:
        _refusals(approved)[what]()
    assert LOCKED in info.value.detail
    db.session.rollback()
    m = approved["may"]
    assert (m.version, m.venue, len(m.attendance)) == before


def test_the_approved_record_refuses_change_through_the_api(client, db, approved):
    s = approved
    headers = {"Authorization": f"Bearer {issue_token(s['clerk'])}"}
    db.session.commit()
    m = s["may"]
    for method, url, body in (
        ("put", f"/api/v1/meetings/{m.id}/attendance/{s['member'].id}", {"status": "present"}),
        (
            "post",
            f"/api/v1/meetings/{m.id}/declarations",
            {
                "person_id": s["chair"].id,
                "agenda_item_id": s["item"].id,
                "kind": "non_registrable",
                "nature": "Governor",
                "withdrew": False,
            },
        ),
        (
            "post",
            f"/api/v1/resolutions/{s['resolution'].id}/actions",
            {"title": "Send it", "owner_id": s["member"].id, "due_date": "2026-09-01"},
        ),
        ("patch", f"/api/v1/meetings/{m.id}", {"venue": "Another room"}),
    ):
        response = getattr(client, method)(url, headers=headers, json=body)
        assert response.status_code == 409, (url, response.get_data(as_text=True))
        assert LOCKED in response.get_json()["detail"], url


def test_a_new_prefix_never_renumbers_approved_minutes(db, f, approved):
    s = approved
    assert s["minute"].display_number == "HB/208"
    update_committee(s["c"], minute_prefix="HB 26/")
    db.session.commit()
    assert s["minute"].display_number == "HB/208"  # as approved
    later = f.published_meeting(s["c"], starts_at=datetime(2026, 6, 20, 13, tzinfo=UTC))
    agenda.add_item(later, title="Budget")
    (draft,) = minutes.draft_minutes(later)
    assert draft.display_number == "HB 26/209"


def test_who_may_change_the_record_is_one_predicate(db, f, approved):
    s = approved
    open_meeting = s["july"]
    member = f.user(Role.MEMBER, person=s["member"])
    assert open_meeting.can_edit_record(s["clerk"])
    assert not open_meeting.can_edit_record(member) and not open_meeting.can_edit_record(None)
    assert not s["may"].can_edit_record(s["clerk"])
    assert LOCKED in s["may"].record_refusal(s["clerk"], "its attendance cannot change")
    assert "Only clerks" in open_meeting.record_refusal(member, "its attendance cannot change")


def test_the_approved_register_is_shown_read_only(client, sign_in, approved):
    s = approved
    sign_in(s["clerk"])
    page = client.get(f"/meetings/{s['may'].id}/attendance").get_data(as_text=True)
    assert LOCKED in page and "recording a correction" in page
    assert '<fieldset class="govuk-fieldset" disabled>' in page
    assert "Save attendance" not in page and "Add an officer, guest or substitute" not in page
    assert "Lakin" in page  # the register as approved
    open_page = client.get(f"/meetings/{s['july'].id}/attendance").get_data(as_text=True)
    assert "Save attendance" in open_page and " disabled>" not in open_page
    overview = client.get(f"/meetings/{s['may'].id}/minutes/edit").get_data(as_text=True)
    assert "See the attendance register" in overview and "Approve the minutes" not in overview
