"""The open data validates against its own formats: every OCD event against the Event schema
shipped in `pupa` (validated the way pupa validates), and the Popolo export field by field
against what the Popolo specification asks of each (dates, date-times, no empty strings, ids
that resolve within the document)."""

import importlib
import importlib.util
import json
import re
import sys
import types
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask_login import AnonymousUserMixin
from jsonschema import Draft3Validator, FormatChecker
from jsonschema.validators import extend

from app.agenda import services as agenda
from app.auth.services import issue_token
from app.meetings import services as meetings
from app.models import (
    AttendanceStatus,
    MinutesState,
    ResolutionKind,
    ResolutionVote,
    Role,
    Visibility,
    VoteChoice,
)
from app.opendata.builders import meeting_to_ocd_event, popolo_export

CANARY = "CANARY-EXEMPT-c41e"
ANON = AnonymousUserMixin()
BASE = "https://minutes.example.org"
OCD_PERSON = re.compile(r"^ocd-person/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")


# --- pupa's Event schema, validated as pupa validates -------------------------------------


def _pupa_event_schema() -> dict:
    """The schema module from the installed pupa, loaded on its own: importing it through
    `pupa.scrape` would run pupa's settings (which put the working directory on sys.path) and
    register pupa's "uri" rule on jsonschema's FormatChecker class for the whole process,
    changing what other tests' validators accept."""
    pupa = importlib.util.find_spec("pupa")
    assert pupa is not None and pupa.origin, "pupa (a test dependency) is not installed"
    package = types.ModuleType("_pupa_schemas")
    package.__path__ = [str(Path(pupa.origin).parent / "scrape" / "schemas")]
    sys.modules["_pupa_schemas"] = package
    try:
        return importlib.import_module("_pupa_schemas.event").schema
    finally:
        sys.modules.pop("_pupa_schemas.event", None)
        sys.modules.pop("_pupa_schemas.common", None)
        sys.modules.pop("_pupa_schemas", None)


def _pupa_validator():
    # As pupa.scrape.base.BaseModel.validate: JSON Schema draft 3, with "date" and "datetime"
    # types for Python objects, and pupa's own rule for "uri" (an absolute http, https or ftp
    # URL without spaces; so neither "" nor null passes).
    type_checker = Draft3Validator.TYPE_CHECKER.redefine_many(
        {
            "datetime": lambda _c, d: isinstance(d, date),
            "date": lambda _c, d: isinstance(d, date) and not isinstance(d, datetime),
        }
    )
    formats = FormatChecker()
    formats.checks("uri")(
        lambda v: (
            isinstance(v, str) and v.startswith(("http://", "https://", "ftp://")) and " " not in v
        )
    )
    return extend(Draft3Validator, type_checker=type_checker)(
        _pupa_event_schema(), format_checker=formats
    )


EVENT = _pupa_validator()


def assert_valid_event(event: dict) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in EVENT.iter_errors(event)]
    assert errors == [], "\n".join(errors)
    # Draft 3 makes every property optional; these are what a consumer relies on.
    assert event["name"] and event["start_date"] and event["sources"]
    for participant in event["participants"]:
        assert participant["entity_type"] in ("organization", "person")
        assert participant["id"].startswith(f"ocd-{participant['entity_type']}/")
        if participant["entity_type"] == "person":
            assert OCD_PERSON.match(participant["id"]), participant
    assert '""' not in json.dumps({k: v for k, v in event.items() if k != "description"})


@pytest.fixture
def partnership(db, f):
    c = f.committee("Children, Young People and Families Partnership")
    chair = f.person("Lakin", honorific="Councillor")
    member = f.person("Sue Wilson")
    absent = f.person("Ann Absent")
    f.membership(c, chair, "chair")
    f.membership(c, member, "member")
    f.membership(c, absent, "member")
    substitute = f.person("Sam Substitute")  # not a member of the committee
    officer = f.person("Joyce Thacker", job_title="Strategic Director")

    start = datetime(2026, 5, 22, 9, 30, tzinfo=UTC)
    held = f.published_meeting(
        c, starts_at=start, ends_at=start + timedelta(hours=2), venue="Town Hall, Rotherham"
    )
    agenda.add_item(held, title="Apologies for absence", kind="apologies")
    issues = agenda.add_item(held, title="Issues and concerns")
    youth = agenda.add_item(
        held,
        parent=issues,
        title="Youth Cabinet",
        presenter_text="Joyce Thacker",
        purpose="To receive the Youth Cabinet's manifesto.",
    )
    f.document(youth, "Youth Cabinet manifesto", filename="manifesto.pdf")
    budget = agenda.add_item(held, title="Budget monitoring")
    f.document(budget, "Budget report", filename="budget.pdf")
    f.document(
        budget,
        f"Appendix B {CANARY}",
        filename="appendix-b.pdf",
        visibility=Visibility.EXEMPT,
        public_interest_reason="Commercial terms.",
    )
    exempt = agenda.add_item(
        held,
        title="Placement costs",
        visibility="exempt",
        exempt_paragraphs=[1, 3],
        public_interest_reason="Personal data.",
        purpose=f"Purpose {CANARY}",
        presenter_text=f"Presenter {CANARY}",
    )
    f.document(exempt, f"Placement report {CANARY}", filename="placements.pdf")
    f.attendance(held, chair, AttendanceStatus.PRESENT, in_chair=True)
    f.attendance(held, member, AttendanceStatus.APOLOGIES)
    f.attendance(held, substitute, AttendanceStatus.SUBSTITUTE, substitute_for_id=member.id)
    f.attendance(held, absent, AttendanceStatus.ABSENT)
    f.attendance(held, officer, AttendanceStatus.IN_ATTENDANCE)
    f.with_minutes_state(held, MinutesState.APPROVED)

    cancelled = f.published_meeting(c, starts_at=start + timedelta(days=60), venue="Town Hall")
    agenda.add_item(cancelled, title="Apologies for absence", kind="apologies")
    meetings.set_status(cancelled, "cancelled", "Not enough business.")

    no_venue = f.meeting(c, starts_at=start + timedelta(days=120))
    agenda.add_item(no_venue, title="Draft business")
    return {
        "committee": c,
        "held": held,
        "cancelled": cancelled,
        "no_venue": no_venue,
        "people": {"chair": chair, "member": member, "substitute": substitute},
    }


def _readers(f, committee):
    return {
        "anonymous": ANON,
        "member": f.member_user(committee),
        "outsider": f.member_user(f.committee("Another Committee")),
        "clerk": f.user(Role.CLERK),
    }


def test_every_event_validates_against_pupas_event_schema(partnership, f):
    readers = _readers(f, partnership["committee"])
    for key in ("held", "cancelled", "no_venue"):
        for reader_name, reader in readers.items():
            event = meeting_to_ocd_event(partnership[key], reader, BASE)
            try:
                assert_valid_event(event)
            except AssertionError as e:
                raise AssertionError(f"{key} meeting as {reader_name}: {e}") from None


def test_event_shapes_the_schema_leaves_open(partnership, f):
    held = meeting_to_ocd_event(partnership["held"], ANON, BASE)
    assert held["location"] == {"name": "Town Hall, Rotherham"}
    assert held["end_date"] == "2026-05-22T12:30:00+01:00"
    people = {p["name"]: p for p in held["participants"] if p["entity_type"] == "person"}
    assert set(people) == {
        "Councillor Lakin",
        "Sue Wilson",
        "Sam Substitute",
        "Ann Absent",
        "Joyce Thacker",
    }
    assert people["Councillor Lakin"]["note"] == "present (in the chair)"
    # One person, one id, in every event, stable between exports.
    chair = partnership["people"]["chair"]
    later = f.published_meeting(partnership["committee"])
    f.attendance(later, chair, AttendanceStatus.PRESENT)
    f.with_minutes_state(later, MinutesState.APPROVED)
    again = meeting_to_ocd_event(later, ANON, BASE)
    assert [p["id"] for p in again["participants"] if p["name"] == "Councillor Lakin"] == [
        people["Councillor Lakin"]["id"]
    ]
    # Public business with its papers; exempt business only as its title, no papers.
    public = json.dumps(held)
    assert "Budget report" in public and "Youth Cabinet manifesto" in public
    assert CANARY not in public
    youth = next(a for a in held["agenda"] if a["description"] == "Youth Cabinet")
    assert youth["related_entities"] == [
        {"name": "Joyce Thacker", "entity_type": "person", "note": "presenter"}
    ]
    placement = next(a for a in held["agenda"] if a["description"] == "Placement costs")
    assert placement["notes"] == ["NOT FOR PUBLICATION"] and placement["media"] == []
    assert CANARY in json.dumps(
        meeting_to_ocd_event(partnership["held"], f.member_user(partnership["committee"]), BASE)
    )

    cancelled = meeting_to_ocd_event(partnership["cancelled"], ANON, BASE)
    assert cancelled["status"] == "cancelled"
    assert cancelled["description"] == "Not enough business."
    assert "end_date" not in cancelled

    no_venue = meeting_to_ocd_event(partnership["no_venue"], ANON, BASE)
    assert no_venue["location"] is None and no_venue["agenda"] == []


def test_the_validator_rejects_what_the_schema_rejects(partnership):
    """The validation above can fail: the shapes issue 14 reported are refused."""
    event = meeting_to_ocd_event(partnership["held"], ANON, BASE)
    assert_valid_event(event)
    for broken in (
        {**event, "location": {"name": "Town Hall", "url": ""}},
        {**event, "location": {"name": "", "coordinates": None}},
        {**event, "start_date": "22 May 2026"},
        {**event, "status": "held"},
        {**event, "links": [{"note": "page", "url": "/meetings/1/"}]},
        {**event, "sources": []},
    ):
        assert list(EVENT.iter_errors(broken)), broken


def test_events_the_api_serves_validate(client, db, f, partnership):
    member = f.member_user(partnership["committee"])
    token = issue_token(member)
    db.session.commit()
    for key in ("held", "cancelled", "no_venue"):
        url = f"/api/v1/meetings/{partnership[key].id}/ocd-event"
        for headers in ({}, {"Authorization": f"Bearer {token}"}):
            response = client.get(url, headers=headers)
            assert response.status_code == 200
            assert_valid_event(response.get_json())
    public = client.get(f"/api/v1/meetings/{partnership['held'].id}/ocd-event")
    assert CANARY not in public.get_data(as_text=True)


# --- Popolo, field by field ---------------------------------------------------------------

# A date in Popolo is ISO 8601 at day, month or year precision; a date-time is a full ISO 8601
# date and time. "" is neither: an unknown value is left out.
POPOLO_DATE = re.compile(r"^[0-9]{4}(-[0-9]{2}){0,2}$")
OPTIONS = {"yes", "no", "abstain", "absent", "not voting", "paired"}  # Popolo's code list

# The fields Popolo defines for each class that this export may carry, and their form.
FIELDS = {
    "persons": {
        "id": "string",
        "name": "string",
        "honorific_prefix": "string",
        "honorific_suffix": "string",
        "email": "email",
        "birth_date": "date",
        "death_date": "date",
        "identifiers": "identifiers",
        "links": "links",
        "sources": "links",
        "created_at": "date-time",
        "updated_at": "date-time",
    },
    "organizations": {
        "id": "string",
        "name": "string",
        "classification": "string",
        "parent_id": "organizations",
        "identifiers": "identifiers",
        "founding_date": "date",
        "dissolution_date": "date",
        "links": "links",
        "sources": "links",
        "created_at": "date-time",
        "updated_at": "date-time",
    },
    "memberships": {
        "id": "string",
        "label": "string",
        "role": "string",
        "person_id": "persons",
        "organization_id": "organizations",
        "post_id": "posts",
        "on_behalf_of_id": "organizations",
        "on_behalf_of": "organization",
        "start_date": "date",
        "end_date": "date",
        "links": "links",
        "sources": "links",
        "created_at": "date-time",
        "updated_at": "date-time",
    },
    "motions": {
        "id": "string",
        "organization_id": "organizations",
        "legislative_session_id": "events",
        "creator_id": "persons",
        "text": "string",
        "classification": "string",
        "date": "date-time",
        "requirement": "string",
        "result": "string",
        "sources": "links",
        "created_at": "date-time",
        "updated_at": "date-time",
        # Not a Popolo motion field (Popolo gives `identifier` to vote events): the minute
        # reference ("211(1)"), an extension that JSON Schema's open objects allow.
        "identifier": "string",
    },
    "vote_events": {
        "id": "string",
        "identifier": "string",
        "organization_id": "organizations",
        "legislative_session_id": "events",
        "motion_id": "motions",
        "start_date": "date-time",
        "end_date": "date-time",
        "result": "string",
        "counts": "counts",
        "votes": "votes",
        "sources": "links",
        "created_at": "date-time",
        "updated_at": "date-time",
    },
}
VOTE_FIELDS = {"voter_id": "persons", "option": "option", "group_id": "organizations"}


def _is_date(value) -> bool:
    if not isinstance(value, str) or not POPOLO_DATE.match(value):
        return False
    parts = [int(p) for p in value.split("-")]
    try:
        date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError:
        return False
    return True


def _is_date_time(value) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return False
    return parsed.tzinfo is not None  # an offset, or the time is ambiguous


def _empty_strings(value, path="$"):
    if value == "":
        yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _empty_strings(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _empty_strings(v, f"{path}[{i}]")


def popolo_problems(doc: dict) -> list[str]:
    problems = [f"empty string at {p}" for p in _empty_strings(doc)]
    ids = {}
    for collection in (*FIELDS, "posts", "events"):
        seen = [obj.get("id") for obj in doc.get(collection, [])]
        if len(seen) != len(set(seen)):
            problems.append(f"{collection}: ids not unique")
        ids[collection] = set(seen)

    def check(where, key, form, value):
        ok = {
            "string": lambda v: isinstance(v, str),
            "email": lambda v: isinstance(v, str) and re.fullmatch(r"[^@\s]+@[^@\s]+", v),
            "date": _is_date,
            "date-time": _is_date_time,
            "option": lambda v: v in OPTIONS,
            "organization": lambda v: (
                isinstance(v, dict) and isinstance(v.get("name"), str) and "id" not in v
            ),
            "identifiers": lambda v: (
                isinstance(v, list) and all(isinstance(i.get("identifier"), str) for i in v)
            ),
            "links": lambda v: (
                isinstance(v, list)
                and all(str(link.get("url", "")).startswith(("http://", "https://")) for link in v)
            ),
        }.get(form)
        if ok is not None:
            if not ok(value):
                problems.append(f"{where}.{key}: {value!r} is not a Popolo {form}")
        elif form in ids:
            if value not in ids[form]:
                problems.append(f"{where}.{key}: {value!r} is no id in {form}")
        elif form == "counts":
            for i, count in enumerate(value):
                if set(count) - {"option", "value", "group_id"}:
                    problems.append(f"{where}.counts[{i}]: unknown fields {sorted(count)}")
                if count.get("option") not in OPTIONS:
                    problems.append(f"{where}.counts[{i}]: option {count.get('option')!r}")
                v = count.get("value")
                if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                    problems.append(f"{where}.counts[{i}]: value {v!r} is not a count")
        elif form == "votes":
            for i, vote in enumerate(value):
                for k, v in vote.items():
                    if k not in VOTE_FIELDS:
                        problems.append(f"{where}.votes[{i}].{k}: not a Popolo vote field")
                    else:
                        check(f"{where}.votes[{i}]", k, VOTE_FIELDS[k], v)
        else:
            raise AssertionError(form)

    for collection, fields in FIELDS.items():
        for n, obj in enumerate(doc.get(collection, [])):
            where = f"{collection}[{n}]"
            if not obj.get("id"):
                problems.append(f"{where}: no id")
            for key, value in obj.items():
                if key not in fields:
                    problems.append(f"{where}.{key}: not a field this check knows")
                else:
                    check(where, key, fields[key], value)
    for n, ve in enumerate(doc.get("vote_events", [])):
        # Popolo: the totals should agree with the individual votes.
        for count in ve.get("counts", []):
            named = sum(v.get("option") == count.get("option") for v in ve.get("votes", []))
            if isinstance(count.get("value"), int) and named > count["value"]:
                problems.append(
                    f"vote_events[{n}]: more named {count['option']} votes than counted"
                )
    return problems


@pytest.fixture
def record(db, f, partnership):
    c = partnership["committee"]
    people = partnership["people"]
    for membership in c.memberships:
        if membership.person is people["chair"]:
            membership.start_date = date(2013, 5, 22)
        if membership.person is people["member"]:
            membership.start_date = date(2012, 5, 1)
            membership.end_date = date(2026, 4, 30)
            membership.organisation = "Rotherham Parent and Carers Forum"
    held = partnership["held"]
    budget = f.resolution(
        f.minute(held, 208, "Budget monitoring"),
        "That the budget monitoring report be approved.",
        votes_for=3,
        votes_against=1,
        abstentions=0,
    )
    for person, vote in ((people["chair"], VoteChoice.FOR), (people["substitute"], VoteChoice.FOR)):
        db.session.add(ResolutionVote(resolution=budget, person=person, vote=vote))
    f.resolution(
        f.minute(held, 209, "Youth Cabinet"),
        "That the manifesto be noted.",
        kind=ResolutionKind.NOTED,
    )
    draft = f.meeting(c, starts_at=datetime(2026, 7, 1, 9, 30, tzinfo=UTC))
    f.resolution(f.minute(draft, 210, "Draft"), f"That {CANARY} be kept back.")
    db.session.flush()
    return partnership


def test_popolo_export_meets_the_popolo_spec_field_by_field(record, f, db):
    from app.minutes.models import Resolution

    resolutions = db.session.query(Resolution).all()
    committees = [record["committee"], f.committee("Health and Wellbeing Board")]
    for reader in (ANON, f.user(Role.CLERK)):
        doc = popolo_export(committees, resolutions, reader, include_email=True)
        assert popolo_problems(doc) == []

    doc = popolo_export(committees, resolutions, ANON)
    members = {m["person_id"]: m for m in doc["memberships"]}
    names = {p["id"]: p["name"] for p in doc["persons"]}
    by_name = {names[k]: m for k, m in members.items()}
    assert by_name["Sue Wilson"]["start_date"] == "2012-05-01"
    assert by_name["Sue Wilson"]["end_date"] == "2026-04-30"
    assert by_name["Sue Wilson"]["on_behalf_of"] == {"name": "Rotherham Parent and Carers Forum"}
    assert "start_date" not in by_name["Ann Absent"] and "end_date" not in by_name["Ann Absent"]
    assert [m["date"] for m in doc["motions"]] == ["2026-05-22T10:30:00+01:00"] * 2
    assert CANARY not in json.dumps(doc)
    # The substitute who voted is no member, yet is among the persons the vote points to.
    (event,) = doc["vote_events"]
    voters = {names[v["voter_id"]] for v in event["votes"]}
    assert voters == {"Lakin", "Sam Substitute"}
    # The people are the participants of the OCD events: the same OCD id in both.
    ocd = meeting_to_ocd_event(record["held"], ANON, BASE)
    participant_ids = {p["name"]: p["id"] for p in ocd["participants"]}
    substitute = next(p for p in doc["persons"] if p["name"] == "Sam Substitute")
    assert substitute["identifiers"] == [
        {"scheme": "ocd-person", "identifier": participant_ids["Sam Substitute"]}
    ]


def test_the_popolo_check_fails_on_the_shapes_issue_14_reported(record, f, db):
    from app.minutes.models import Resolution

    doc = popolo_export([record["committee"]], db.session.query(Resolution).all(), ANON)
    assert popolo_problems(doc) == []
    membership, motion, ve = doc["memberships"][0], doc["motions"][0], doc["vote_events"][0]
    cases = [
        ("memberships", {**membership, "end_date": ""}),
        ("memberships", {**membership, "start_date": "2013-02-30"}),
        ("memberships", {**membership, "person_id": "person-0"}),
        ("motions", {**motion, "date": "2026-05-22"}),
        ("motions", {**motion, "date": "2026-05-22T09:30:00"}),
        ("vote_events", {**ve, "motion_id": "resolution-0"}),
        ("vote_events", {**ve, "counts": [{"option": "yes", "value": "3"}]}),
        ("vote_events", {**ve, "votes": [{"voter_id": "person-0", "option": "yes"}]}),
    ]
    for collection, broken in cases:
        copy = {**doc, collection: [broken, *doc[collection][1:]]}
        assert popolo_problems(copy), (collection, broken)


def test_popolo_the_api_serves_meets_the_spec(client, db, f, record):
    clerk = f.user(Role.CLERK)
    token = issue_token(clerk)
    db.session.commit()
    slug = record["committee"].slug
    for url in ("/api/v1/popolo", f"/api/v1/popolo?committee={slug}"):
        for headers in ({}, {"Authorization": f"Bearer {token}"}):
            response = client.get(url, headers=headers)
            assert response.status_code == 200
            doc = response.get_json()
            assert popolo_problems(doc) == [] and doc["motions"], url
