"""Whom a person picker offers: the committee's people first, by group, then others only when
searched for by name (app.committees.services.people_for_picker); and a substitute or guest
added to the register as someone new."""

from datetime import date

import pytest
from sqlalchemy import func, select

from app.committees.services import PICKER_LIMIT, people_for_picker
from app.core.errors import ValidationError
from app.meetings import attendance
from app.models import Attendance, AttendanceStatus, MembershipRole, Person


@pytest.fixture
def canterbury(db, f):
    c = f.committee("Canterbury Health and Wellbeing Board")
    people = {}
    for name, role in [
        ("Zoe Member", MembershipRole.MEMBER),
        ("Amy Chair", MembershipRole.CHAIR),
        ("Sam Substitute", MembershipRole.SUBSTITUTE),
        ("Olly Officer", MembershipRole.OFFICER),
        ("Oscar Observer", MembershipRole.OBSERVER),
    ]:
        people[name] = f.person(name)
        f.membership(c, people[name], role)
    # Serving twice (a member who is also the lead officer) is offered once, as a member.
    f.membership(c, people["Zoe Member"], MembershipRole.OFFICER)
    gone = f.person("Gary Gone")
    f.membership(c, gone, MembershipRole.MEMBER, end_date=date(2020, 1, 1))
    rotherham = f.committee("Rotherham Health Select Commission")
    people["Rita Rotherham"] = f.person("Rita Rotherham")
    f.membership(rotherham, people["Rita Rotherham"])
    people["Gary Gone"] = gone
    return c, people


def _names(groups):
    return [(label, [p.name for p in group]) for label, group in groups]


def test_committee_people_first_in_groups_and_no_one_else(canterbury):
    c, _ = canterbury
    assert _names(people_for_picker(c, on=date(2026, 5, 20))) == [
        ("Members", ["Amy Chair", "Zoe Member"]),
        ("Substitutes", ["Sam Substitute"]),
        ("Officers and observers", ["Olly Officer", "Oscar Observer"]),
    ]


def test_others_only_when_searched_by_name(canterbury):
    c, _ = canterbury
    groups = dict(_names(people_for_picker(c, q="rother")))
    assert groups["Someone else"] == ["Rita Rotherham"]
    # The committee's own people are not offered twice, nor a former member as one of them.
    groups = dict(_names(people_for_picker(c, q="a")))
    assert "Amy Chair" not in groups["Someone else"]
    assert groups["Someone else"] == ["Gary Gone", "Rita Rotherham"]


def test_search_is_literal_and_limited(db, f, canterbury):
    c, _ = canterbury
    f.person("100% Club")
    for n in range(PICKER_LIMIT + 5):
        f.person(f"Visitor {n:02}")
    assert _names(people_for_picker(c, q="%"))[-1] == ("Someone else", ["100% Club"])
    assert not any(label == "Someone else" for label, _ in people_for_picker(c, q="_"))
    found = dict(_names(people_for_picker(c, q="visitor")))["Someone else"]
    assert found == [f"Visitor {n:02}" for n in range(PICKER_LIMIT)]
    # A search longer than any name is cut, not refused.
    assert dict(_names(people_for_picker(c, q="x" * 5000))).get("Someone else") is None


def test_chosen_and_register_people_are_kept(db, f, canterbury):
    c, people = canterbury
    guest = f.person("Gill Guest")
    groups = _names(
        people_for_picker(
            c, keep=[str(people["Rita Rotherham"].id), "junk", "9" * 30, "-1"], also=[guest]
        )
    )
    assert groups[-2:] == [
        ("Also at this meeting", ["Gill Guest"]),
        ("Someone else", ["Rita Rotherham"]),
    ]


def test_no_committee_offers_only_the_people_searched_for(canterbury):
    assert _names(people_for_picker(None)) == []
    assert _names(people_for_picker(None, q="zoe")) == [("Someone else", ["Zoe Member"])]


def _count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_new_person_joins_the_register_as_a_substitute(db, f, canterbury):
    c, people = canterbury
    meeting = f.meeting(c)
    row = attendance.add_new_person_to_register(
        meeting,
        " Nadia  New ",
        "Kent County Council",
        "substitute",
        substitute_for=people["Zoe Member"],
        capacity="Cabinet Member",
    )
    db.session.commit()
    assert row.person.name == "Nadia New" and row.person.organisation == "Kent County Council"
    assert row.status == AttendanceStatus.SUBSTITUTE and row.substitute_for == people["Zoe Member"]
    assert row.capacity == "Cabinet Member"


@pytest.mark.parametrize(
    ("name", "status", "stands_in", "field"),
    [
        ("", "in_attendance", False, "name"),
        ("Nadia New", "present", False, "status"),
        ("Nadia New", "substitute", False, "substitute_for"),  # refused after the person exists
    ],
)
def test_bad_input_keeps_neither_person_nor_row(db, f, canterbury, name, status, stands_in, field):
    c, people = canterbury
    meeting = f.meeting(c)
    db.session.commit()
    before = _count(db, Person)
    with pytest.raises(ValidationError) as exc:
        attendance.add_new_person_to_register(
            meeting,
            name,
            None,
            status,
            substitute_for=people["Olly Officer"] if stands_in else None,
        )
    db.session.rollback()
    assert field in exc.value.errors
    assert _count(db, Person) == before and _count(db, Attendance) == 0
