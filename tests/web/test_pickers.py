"""Person pickers through the pages: a Canterbury committee's pickers list its own people in
groups, never Rotherham's unless searched for by name; and the attendance page adds a
substitute or guest who is not yet anyone in the system."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.agenda import services as agenda
from app.models import Action, Attendance, AttendanceStatus, MembershipRole, Person, Role


@pytest.fixture
def setup(db, f):
    c = f.committee("Canterbury Health and Wellbeing Board")
    people = {}
    for name, role in [
        ("Carol Chair", MembershipRole.CHAIR),
        ("Mo Member", MembershipRole.MEMBER),
        ("Sid Substitute", MembershipRole.SUBSTITUTE),
        ("Olive Officer", MembershipRole.OFFICER),
    ]:
        people[name] = f.person(name)
        f.membership(c, people[name], role)
    rotherham = f.committee("Rotherham Health Select Commission")
    people["Rita Rotherham"] = f.person("Rita Rotherham")
    f.membership(rotherham, people["Rita Rotherham"])
    may = f.published_meeting(c, starts_at=datetime(2026, 5, 20, 13, tzinfo=UTC))
    item = agenda.add_item(may, title="Better Care Fund")
    minute = f.minute(may, 1, title="Better Care Fund", item=item)
    res = f.resolution(minute, "That the plan be approved.")
    clerk = f.user(Role.CLERK)
    db.session.commit()
    return {
        "c": c,
        "may": may,
        "item": item,
        "minute": minute,
        "res": res,
        "clerk": clerk,
        **people,
    }


def _select(html: str, name: str) -> str:
    match = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert match, f"no select {name}"
    return match.group(1)


def _groups(select_html: str) -> list[tuple[str, list[str]]]:
    return [
        (label, [n.strip() for n in re.findall(r"<option[^>]*>([^<]*)</option>", body)])
        for label, body in re.findall(
            r'<optgroup label="([^"]*)">(.*?)</optgroup>', select_html, re.S
        )
    ]


COMMITTEE_GROUPS = [
    ("Members", ["Carol Chair", "Mo Member"]),
    ("Substitutes", ["Sid Substitute"]),
    ("Officers and observers", ["Olive Officer"]),
]


def test_minute_pickers_offer_the_committee_in_groups(client, setup, sign_in):
    s = setup
    sign_in(s["clerk"])
    html = client.get(f"/minutes/{s['minute'].id}/edit").get_data(as_text=True)
    for name in ("action-owner_id", "declaration-person_id"):
        assert _groups(_select(html, name)) == COMMITTEE_GROUPS
    assert "Rita Rotherham" not in html
    # Searched for by name, she is offered after the committee's people, in both pickers.
    html = client.get(f"/minutes/{s['minute'].id}/edit?q=rother").get_data(as_text=True)
    for name in ("action-owner_id", "declaration-person_id"):
        assert _groups(_select(html, name)) == [
            *COMMITTEE_GROUPS,
            ("Someone else", ["Rita Rotherham"]),
        ]
    assert 'id="find-owner-' in html and 'id="find-declarer"' in html


def test_someone_found_can_be_chosen(client, db, setup, sign_in):
    """The POST does not carry the search, so the chosen person must still be a valid choice."""
    s = setup
    sign_in(s["clerk"])
    r = client.post(
        f"/resolutions/{s['res'].id}/actions",
        data={"action-title": "Report back", "action-owner_id": s["Rita Rotherham"].id},
    )
    assert r.status_code == 302
    assert db.session.scalar(select(Action.owner_id)) == s["Rita Rotherham"].id


def test_presenter_and_new_action_pickers(client, setup, sign_in):
    s = setup
    sign_in(s["clerk"])
    html = client.get(f"/agenda-items/{s['item'].id}/edit").get_data(as_text=True)
    assert _groups(_select(html, "presenter_id")) == COMMITTEE_GROUPS
    assert "Rita Rotherham" not in html
    html = client.get(f"/meetings/{s['may'].id}/agenda/items/new?q=rita").get_data(as_text=True)
    assert _groups(_select(html, "presenter_id"))[-1] == ("Someone else", ["Rita Rotherham"])
    # Adding an action elsewhere: no one is listed until a committee is chosen or a name found.
    html = client.get("/actions/new").get_data(as_text=True)
    assert _groups(_select(html, "owner_id")) == []
    html = client.get(f"/actions/new?committee={s['c'].id}").get_data(as_text=True)
    assert _groups(_select(html, "owner_id")) == COMMITTEE_GROUPS
    assert "Rita Rotherham" not in _select(html, "owner_id")


def test_attendance_add_person_picker(client, setup, sign_in):
    s = setup
    sign_in(s["clerk"])
    url = f"/meetings/{s['may'].id}/attendance"
    html = client.get(url).get_data(as_text=True)
    # The committee's people all have their row in the register already, so only someone
    # found by name is offered to add; a search finds no one twice.
    assert _groups(_select(html, "add_person")) == []
    html = client.get(url + "?q=o").get_data(as_text=True)
    assert _groups(_select(html, "add_person")) == [("Someone else", ["Rita Rotherham"])]
    html = client.get(url + "?q=Rotherham").get_data(as_text=True)
    assert _groups(_select(html, "add_person"))[-1] == ("Someone else", ["Rita Rotherham"])


def _count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_new_substitute_from_the_attendance_page(client, db, setup, sign_in):
    s = setup
    sign_in(s["clerk"])
    url = f"/meetings/{s['may'].id}/attendance"
    r = client.post(
        url,
        data={
            "new_name": "Nadia New",
            "new_organisation": "Kent County Council",
            "add_status": "substitute",
            "add_substitute_for": s["Mo Member"].id,
            "add_capacity": "Cabinet Member",
        },
    )
    assert r.status_code == 302
    row = db.session.scalar(select(Attendance))
    assert row.person.name == "Nadia New" and row.person.organisation == "Kent County Council"
    assert row.status == AttendanceStatus.SUBSTITUTE and row.substitute_for == s["Mo Member"]
    assert "Nadia New" in client.get(url).get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"new_organisation": "Kent County Council"}, "new_name", "Enter a name."),
        (
            {"new_name": "Nadia New", "add_status": "substitute"},
            "add_substitute_for",
            "standing in for",
        ),
        ({"new_name": "N" * 201}, "new_name", "at most 200 characters"),
        ({"new_name": "Nadia New", "add_person": "PERSON"}, "new_name", "not both"),
    ],
)
def test_bad_new_person_keeps_neither(client, db, setup, sign_in, data, field, message):
    s = setup
    sign_in(s["clerk"])
    people = _count(db, Person)
    if data.get("add_person") == "PERSON":
        data = {**data, "add_person": s["Rita Rotherham"].id}
    # A valid row change in the same submission is not kept either: one save, all or nothing.
    data = {**data, f"status-{s['Carol Chair'].id}": "present"}
    r = client.post(f"/meetings/{s['may'].id}/attendance", data=data)
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert f'href="#{field}"' in html and f'id="{field}-error"' in html and message in html
    assert _count(db, Person) == people and _count(db, Attendance) == 0
    # What was typed is kept for the clerk to correct.
    if data.get("new_name"):
        assert f'value="{data["new_name"]}"' in html
