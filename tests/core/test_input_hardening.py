"""Bad input from an attacker or a careless user (issue 13, Input): a clear refusal, never a
500, nothing left behind, and every feed and page others read still works afterwards."""

from __future__ import annotations

import io
import logging
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import func, select, update

from app.agenda import publication as agenda_publication
from app.agenda import services as agenda_services
from app.auth.services import issue_token
from app.committees import services as committee_services
from app.committees.models import Membership
from app.core.errors import ValidationError
from app.core.text import clean_filename, clean_text, safe_next
from app.ical.services import calendar_token
from app.meetings import services as meeting_services
from app.meetings.models import AgendaPublication
from app.models import AgendaItem, Committee, Document, Meeting, Role
from app.people.models import Person
from tests.pdfs import make_pdf

UTF8_BOM = "\ufeff"
DEEP = '{"a": ' + "[" * 10_000 + "]" * 10_000 + "}"


@pytest.fixture
def clerk(db, f):
    headers = {"Authorization": f"Bearer {issue_token(f.user(Role.CLERK))}"}
    db.session.commit()
    return headers


@pytest.fixture
def world(db, f):
    """A committee with a member who has a personal feed, and a meeting in every feed."""
    committee = f.committee("Audit Committee")
    f.published_meeting(committee)
    member = f.member_user(committee)
    token = calendar_token(member)
    db.session.commit()
    return {"committee": committee, "token": token}


def feeds_work(client, world) -> None:
    """Every reader's feeds and pages still answer, and parse."""
    token, slug = world["token"], world["committee"].slug
    for url in ("/meetings.ics", f"/committees/{slug}/meetings.ics", f"/calendar/{token}.ics"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert icalendar.Calendar.from_ical(response.data).walk("VEVENT"), url
    assert client.get(f"/committees/{slug}/").status_code == 200
    assert client.get("/api/v1/meetings").status_code == 200


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def assert_problem(response, status: int, words: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert words in body["detail"], body
    return body


# --- JSON bodies and authentication -------------------------------------------------------


@pytest.mark.parametrize(
    "method,path",
    [
        ("post", "/api/v1/committees"),
        ("post", "/api/v1/people"),
        ("post", "/api/v1/meetings"),
        ("patch", "/api/v1/committees/audit-committee"),
        ("post", "/api/v1/actions"),
    ],
)
def test_deeply_nested_json_is_refused_with_a_token_and_without(
    client, db, clerk, world, method, path
):
    before = count(db, Committee), count(db, Person), count(db, Meeting)
    send = getattr(client, method)
    anonymous = send(path, data=DEEP, content_type="application/json")
    assert_problem(anonymous, 401, "needs an API token")
    refused = send(path, data=DEEP, content_type="application/json", headers=clerk)
    assert_problem(refused, 400, "nested more than 32 levels")
    assert (count(db, Committee), count(db, Person), count(db, Meeting)) == before
    feeds_work(client, world)


def test_nesting_inside_a_string_is_just_text(client, db, clerk):
    response = client.post("/api/v1/people", json={"name": "[" * 150}, headers=clerk)
    assert response.status_code == 201
    assert response.get_json()["name"] == "[" * 150


def test_an_oversized_json_body_is_refused(client, db, clerk, world):
    body = '{"name": "' + "x" * (1024 * 1024 + 10) + '"}'
    response = client.post(
        "/api/v1/committees", data=body, content_type="application/json", headers=clerk
    )
    assert_problem(response, 413, "JSON body is larger than 1024 KB")
    assert count(db, Committee) == 1
    feeds_work(client, world)


def test_anonymous_writes_are_refused_for_authentication_before_validation(client, db, world):
    # Each body is invalid: before, these were 422s that told an anonymous caller the schema.
    for method, path in [
        ("post", "/api/v1/committees"),
        ("post", "/api/v1/meetings"),
        ("post", "/api/v1/people"),
        ("put", "/api/v1/agenda-items/1/minute"),
        ("post", "/api/v1/actions/1/updates"),
        ("delete", "/api/v1/documents/1"),
    ]:
        response = getattr(client, method)(path, json={"nonsense": [1, 2, 3]})
        body = assert_problem(response, 401, "needs an API token")
        assert "errors" not in body
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert count(db, Committee) == 1


# --- ?next= ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/meetings/\r\nSet-Cookie: evil=1",
        "/\nLocation: https://evil.example/",
        "/\\evil.example",
        "//evil.example/",
        "https://evil.example/",
        "/ok\x00",
    ],
)
def test_unsafe_next_targets_are_refused(client, db, f, target):
    user = f.user(Role.CLERK)
    db.session.commit()
    response = client.post(
        "/sign-in",
        query_string={"next": target},
        data={"email": user.email, "password": f.PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Set-Cookie: evil" not in str(response.headers)
    # Signed in now: the same link while signed in is refused the same way.
    again = client.get("/sign-in", query_string={"next": target})
    assert again.status_code == 302 and again.headers["Location"] == "/"


def test_a_same_site_next_is_followed(client, db, f):
    user = f.user(Role.CLERK)
    db.session.commit()
    response = client.post(
        "/sign-in?next=/committees/audit/%3Fx%3D1",
        data={"email": user.email, "password": f.PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/committees/audit/?x=1"


# --- calendar feeds: a bad name or date at the source, and robust builders ------------------


def uids(client, url) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    cal = icalendar.Calendar.from_ical(response.data)
    return {str(e["UID"]) for e in cal.walk("VEVENT")}


def test_a_committee_name_with_line_breaks_is_cleaned_at_the_source(client, db, clerk, world):
    response = client.post(
        "/api/v1/committees", headers=clerk, json={"name": "Audit\r\nand\u202eRisk\x00 "}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["name"] == "Audit andRisk"
    slug = response.get_json()["slug"]
    client.post(
        "/api/v1/meetings",
        headers=clerk,
        json={"committee": slug, "starts_at": "2030-01-15T14:00:00"},
    )
    body = client.get(f"/committees/{slug}/meetings.ics")
    assert body.status_code == 200
    assert "NAME:Audit andRisk" in body.get_data(as_text=True)
    feeds_work(client, world)


def test_a_committee_name_stored_with_line_breaks_cannot_break_its_feed(client, db, world):
    # As a row stored before the services cleaned names would be.
    committee = world["committee"]
    db.session.execute(
        update(Committee).where(Committee.id == committee.id).values(name="Audit\r\nCommittee")
    )
    db.session.commit()
    response = client.get(f"/committees/{committee.slug}/meetings.ics")
    assert response.status_code == 200
    cal = icalendar.Calendar.from_ical(response.data)
    assert str(cal["NAME"]) == "Audit Committee" and len(cal.walk("VEVENT")) == 1
    feeds_work(client, world)


@pytest.mark.parametrize(
    "starts_at", ["9999-12-31T23:59:59", "9999-12-31T23:59:59+00:00", "1066-10-14T09:00:00"]
)
def test_a_meeting_outside_the_plausible_years_is_refused(client, db, clerk, world, starts_at):
    before = count(db, Meeting)
    response = client.post(
        "/api/v1/meetings",
        headers=clerk,
        json={"committee": world["committee"].slug, "starts_at": starts_at},
    )
    body = assert_problem(response, 422, "The meeting must be between the years 1900 and 2200.")
    assert body["errors"]["starts_at"]
    assert count(db, Meeting) == before
    meeting = db.session.scalar(select(Meeting))
    moved = client.patch(
        f"/api/v1/meetings/{meeting.id}", headers=clerk, json={"ends_at": starts_at}
    )
    assert_problem(moved, 422, "The end must be between the years 1900 and 2200.")
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).ends_at is None
    feeds_work(client, world)


def test_a_meeting_series_outside_the_plausible_years_is_refused(db, f):
    rule = meeting_services.SeriesRule(
        first=date(2199, 1, 1), until=date(2201, 1, 1), weekday=2, at=datetime.min.time(), nth=1
    )
    with pytest.raises(ValidationError) as refused:
        meeting_services.series_dates(rule, "Europe/London")
    assert refused.value.errors["until"] == ["The series must be between the years 1900 and 2200."]


@pytest.mark.parametrize(
    "starts_at",
    [
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),  # its end cannot be worked out
        datetime(9999, 12, 31, 20, 0, tzinfo=UTC),  # builds, but its year has no time zone
    ],
)
def test_one_bad_meeting_row_never_breaks_a_feed(client, db, f, world, caplog, starts_at):
    # Stored as before the services checked the years: every feed, for everyone, used to fail.
    bad = f.meeting(world["committee"], starts_at=starts_at, title="Confidential pay talks")
    db.session.commit()
    good_uid = db.session.scalar(select(Meeting.ical_uid).where(Meeting.id != bad.id))
    token, slug = world["token"], world["committee"].slug
    with caplog.at_level(logging.WARNING):
        for url in ("/meetings.ics", f"/committees/{slug}/meetings.ics", f"/calendar/{token}.ics"):
            assert good_uid in uids(client, url)
    feeds_work(client, world)
    assert "Confidential pay talks" not in caplog.text
    left_out = [r for r in caplog.records if "left out of the feeds" in r.getMessage()]
    if starts_at.hour == 23:
        assert left_out and all(f"meeting {bad.id} " in r.getMessage() for r in left_out)
        assert bad.ical_uid not in uids(client, "/meetings.ics")
    else:
        assert bad.ical_uid in uids(client, "/meetings.ics")


def test_one_bad_action_never_breaks_the_actions_feed(client, db, f, world, caplog):
    from app.actions.models import Action

    owner = db.session.scalar(select(Membership.person_id).limit(1))
    good = Action(
        committee=world["committee"],
        title="Write the report",
        owner_id=owner,
        due_date=date(2030, 1, 1),
    )
    bad = Action(
        committee=world["committee"],
        title="Secret negotiation",
        owner_id=owner,
        due_date=date(9999, 12, 31),
    )
    db.session.add_all([good, bad])
    from app.auth.models import User

    member = db.session.scalar(select(User).where(User.person_id == owner))
    member.actions_feed_enabled = True
    db.session.commit()
    with caplog.at_level(logging.WARNING):
        response = client.get(f"/calendar/{world['token']}/actions.ics?format=events")
    assert response.status_code == 200
    assert b"Write the report" in response.data and b"Secret negotiation" not in response.data
    assert f"action {bad.id} left out" in caplog.text and "Secret" not in caplog.text


# --- lengths, control characters, dates: one rule at the service layer ----------------------


@pytest.fixture
def meeting(db, f, world):
    m = db.session.scalar(select(Meeting))
    return m


def test_a_100000_character_section_name_is_refused(client, db, clerk, world, meeting):
    before = count(db, AgendaItem)
    response = client.post(
        f"/api/v1/meetings/{meeting.id}/agenda-items",
        headers=clerk,
        json={"title": "Budget", "section": "S" * 100_000},
    )
    body = assert_problem(response, 422, "Section can be at most 200 characters.")
    assert body["errors"]["section"] == ["Section can be at most 200 characters."]
    assert count(db, AgendaItem) == before
    # The same words from the service whichever door calls it.
    with pytest.raises(ValidationError) as refused:
        agenda_services.add_item(meeting, title="Budget", section="S" * 100_000)
    assert refused.value.errors["section"] == ["Section can be at most 200 characters."]
    db.session.rollback()
    assert count(db, AgendaItem) == before
    feeds_work(client, world)


def test_agenda_item_text_is_cleaned_of_controls_and_keeps_lines_where_allowed(db, world, meeting):
    item = agenda_services.add_item(
        meeting,
        title="  Budget\r\n2026\u202e/27\x07 ",
        purpose="For decision.\r\nSee the appendix.\x00",
    )
    assert item.title == "Budget 2026/27"
    assert item.purpose == "For decision.\nSee the appendix."


def test_a_megabyte_late_reason_is_refused(client, db, f, clerk, world):
    # Late: the meeting is tomorrow, and its agenda is ready to publish.
    meeting = f.meeting(world["committee"], starts_at=datetime.now(UTC) + timedelta(days=1))
    f.item(meeting, "Budget")
    db.session.commit()
    before = count(db, AgendaPublication)
    huge = client.post(
        f"/api/v1/meetings/{meeting.id}/publish",
        headers=clerk,
        json={"late_reason": "x" * (1024 * 1024)},
    )
    assert_problem(huge, 413, "JSON body is larger than 1024 KB")
    long = client.post(
        f"/api/v1/meetings/{meeting.id}/publish",
        headers=clerk,
        json={"late_reason": "x" * 500_000},
    )
    body = assert_problem(long, 422, "The reason can be at most 2,000 characters.")
    assert "late_reason" in body["errors"]
    with pytest.raises(ValidationError):
        agenda_publication.publish_agenda(meeting, late_reason="x" * (1024 * 1024))
    db.session.rollback()
    assert count(db, AgendaPublication) == before
    feeds_work(client, world)


def test_people_fields_have_maxima_and_lose_control_characters(client, db, clerk, world):
    before = count(db, Person)
    r = client.post("/api/v1/people", headers=clerk, json={"name": "Ann", "job_title": "A" * 201})
    body = assert_problem(r, 422, "Job title can be at most 200 characters.")
    assert body["errors"] == {"job_title": ["Job title can be at most 200 characters."]}
    assert count(db, Person) == before
    r = client.post(
        "/api/v1/people", headers=clerk, json={"name": "Karen\x00 Smith\u200b", "job_title": "\t"}
    )
    assert r.status_code == 201 and r.get_json()["name"] == "Karen Smith"
    feeds_work(client, world)


def csv_upload(client, slug, text: str):
    return client.post(
        f"/committees/{slug}/import",
        data={"file": (io.BytesIO(text.encode()), "members.csv")},
        content_type="multipart/form-data",
    )


def test_a_csv_with_a_nul_in_a_name_is_refused_and_imports_nothing(client, db, f, sign_in, world):
    clerk = f.user(Role.CLERK)
    db.session.commit()
    sign_in(clerk)
    people, memberships = count(db, Person), count(db, Membership)
    slug = world["committee"].slug
    response = csv_upload(client, slug, "name,role\nAnn Jones,member\nBob\x00 Evil,member\n")
    assert response.status_code == 400
    assert "Line 3 of the file holds a NUL character" in response.get_data(as_text=True)
    preview = committee_services.preview_import(world["committee"], "name,role\nA\x00,member\n")
    assert not preview.ok and "NUL character" in preview.errors[0]
    with pytest.raises(ValidationError):
        committee_services.apply_import(world["committee"], "name,role\nA\x00,member\n")
    db.session.rollback()
    assert (count(db, Person), count(db, Membership)) == (people, memberships)
    feeds_work(client, world)


def test_csv_names_over_the_maximum_and_dates_out_of_range_are_row_errors(db, world):
    preview = committee_services.preview_import(
        world["committee"],
        "name,role,start_date\n" + "N" * 201 + ",member,\nAnn Jones,member,01/01/3000\n",
    )
    errors = [r.errors for r in preview.rows]
    assert errors == [
        ["name: Name can be at most 200 characters."],
        ["The start date must be between the years 1900 and 2200."],
    ]


def test_a_filename_with_a_direction_override_is_cleaned(client, db, clerk, world, meeting):
    item = agenda_services.add_item(meeting, title="Report")
    db.session.commit()
    tricky = "report\u202efdp.exe\u2066\t.pdf"
    response = client.post(
        f"/api/v1/agenda-items/{item.id}/documents",
        headers=clerk,
        content_type="multipart/form-data",
        data={"title": "Budget\u202e report", "file": (io.BytesIO(make_pdf(1)), tricky)},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    doc = db.session.scalar(select(Document))
    assert doc.filename == "reportfdp.exe .pdf" and doc.title == "Budget report"
    download = client.get(f"/documents/{doc.id}/{doc.filename}", headers=clerk)
    assert download.status_code == 200
    assert "\u202e" not in download.headers.get("Content-Disposition", "")
    feeds_work(client, world)


def test_action_fields_and_dates_are_bounded(db, f, world):
    from app.actions import services as action_services

    owner = db.session.scalar(select(Membership.person_id).limit(1))
    with pytest.raises(ValidationError) as refused:
        action_services.create_action(
            world["committee"], "Report back", owner, due_date=date(9999, 12, 31)
        )
    assert refused.value.errors["due_date"] == [
        "The due date must be between the years 1900 and 2200."
    ]
    with pytest.raises(ValidationError) as refused:
        action_services.create_action(world["committee"], "x" * 2001, owner)
    assert refused.value.errors["title"] == ["Title can be at most 2,000 characters."]


# --- the helper itself ------------------------------------------------------------------------


def test_clean_text_rules():
    assert clean_text(" a\r\nb\tc ", 10) == "a b c"
    assert clean_text("a\r\nb\tc\x0b", 10, multiline=True) == "a\nb\tc"
    assert clean_text("\u202e\u2066\u200b\ufeff", 10) is None
    assert clean_text("\ud800x", 10) == "x"  # a lone surrogate cannot be stored
    assert clean_text("\u0646\u200c\u0627", 10) == "\u0646\u200c\u0627"  # joiners stay
    with pytest.raises(ValueError, match=r"Title can be at most 3 characters\."):
        clean_text("abcd", 3, label="Title")


def test_clean_filename_rules():
    assert clean_filename("..\\..\\etc/pass\u202ewd.pdf") == "passwd.pdf"
    assert clean_filename('"quoted".pdf') == "quoted.pdf"
    assert clean_filename("\x00") == "document.pdf"
    long = clean_filename("a" * 300 + ".pdf")
    assert len(long) == 200 and long.endswith(".pdf")


def test_safe_next_rules():
    assert safe_next("/meetings/1/?a=b", "/") == "/meetings/1/?a=b"
    for bad in ["/a\r\nb", "/\\evil", "//evil", "http://evil/", "evil", "/a\tb", None, ""]:
        assert safe_next(bad, "/") == "/"


def test_the_openapi_document_declares_the_guards_answers_on_every_write(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    writes = [
        (path, method, operation)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if method in ("post", "put", "patch", "delete")
    ]
    assert len(writes) > 15
    for path, method, operation in writes:
        for status in ("400", "401", "413"):
            content = operation["responses"][status]["content"]
            assert "application/problem+json" in content, (path, method, status)


# --- the pages say the same as the API ------------------------------------------------------


def test_the_pages_give_the_services_answers(client, db, f, sign_in, world):
    sign_in(f.user(Role.CLERK))
    db.session.commit()
    slug = world["committee"].slug
    before = count(db, Meeting)
    page = client.post(
        f"/meetings/new/{slug}", data={"day": ["31", "12", "9999"], "starts": "23:59"}
    )
    assert page.status_code == 400
    assert "The meeting must be between the years 1900 and 2200." in page.get_data(as_text=True)
    assert count(db, Meeting) == before
    created = client.post(
        "/committees/new",
        data={
            "name": "Scrutiny\r\nPanel\u202e",
            "regime": "principal",
            "first_minute_number": "1",
            "timezone": "Europe/London",
        },
    )
    assert created.status_code == 302, created.get_data(as_text=True)
    assert db.session.scalar(select(Committee.name).where(Committee.slug == "scrutiny-panel")) == (
        "Scrutiny Panel"
    )
    assert client.get("/committees/scrutiny-panel/meetings.ics").status_code == 200
    feeds_work(client, world)
