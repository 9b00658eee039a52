"""The clerk's pages: committees, memberships, scheduling, the agenda builder, publication."""

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import func, select

from app.models import (
    AgendaState,
    AuditEvent,
    Committee,
    Document,
    ItemKind,
    Meeting,
    MeetingStatus,
    Membership,
    MembershipRole,
    Person,
    Regime,
    Role,
)
from tests.pdfs import make_pdf, weasyprint_pdf

REASON = "Negotiations with the bidders are continuing."


@pytest.fixture
def clerk(db, f, sign_in):
    user = f.user(Role.CLERK, name="Jo Clerk")
    db.session.commit()
    sign_in(user)
    return user


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def date_fields(name, day: date) -> dict:
    # GOV.UK date inputs send day, month and year under one name.
    return {name: [str(day.day), str(day.month), str(day.year)]}


def test_staff_pages_are_hidden_from_others(client, db, f, sign_in):
    c = f.committee()
    m = f.meeting(c)
    member = f.member_user(c)
    db.session.commit()
    urls = [
        "/committees/new",
        f"/committees/{c.slug}/edit",
        f"/committees/{c.slug}/members",
        f"/meetings/{m.id}/agenda",
        f"/meetings/new/{c.slug}",
        f"/meetings/{m.id}/audit",
    ]
    for url in urls:
        assert client.get(url).status_code == 302  # sign in first
    sign_in(member)
    for url in urls:
        assert client.get(url).status_code == 404


def test_create_committee_and_refuse_a_duplicate(client, db, clerk):
    data = {
        "name": "Audit Committee",
        "timezone": "Europe/London",
        "regime": "parish",
        "first_minute_number": "208",
        "quorum": "1/3",
        "default_start_time": "2pm",
        "sections": "For Decision\nFor Information",
    }
    response = client.post("/committees/new", data=data)
    assert response.status_code == 302
    c = db.session.scalar(select(Committee))
    assert (c.slug, c.regime, c.first_minute_number, c.sections) == (
        "audit-committee",
        Regime.PARISH,
        208,
        ["For Decision", "For Information"],
    )
    again = client.post("/committees/new", data=data)
    assert again.status_code == 400
    assert "A committee with that name already exists." in again.get_data(as_text=True)
    assert count(db, Committee) == 1
    bad = client.post("/committees/new", data={**data, "name": "X", "quorum": "lots"})
    assert bad.status_code == 400 and "fraction" in bad.get_data(as_text=True)


def test_add_and_end_memberships(client, db, f, clerk):
    c = f.committee()
    p = f.person("Sue Wilson")
    db.session.commit()
    r = client.post(
        f"/committees/{c.slug}/members", data={"person_id": str(p.id), "role": "vice_chair"}
    )
    assert r.status_code == 302
    r = client.post(
        f"/committees/{c.slug}/members",
        data={"person_id": "", "new_person_name": "Joyce Thacker", "role": "member"},
    )
    assert r.status_code == 302
    assert {m.person.name for m in c.memberships} == {"Sue Wilson", "Joyce Thacker"}
    r = client.post(f"/committees/{c.slug}/members", data={"person_id": "", "role": "member"})
    assert r.status_code == 400 and "Choose a person" in r.get_data(as_text=True)
    membership = next(m for m in c.memberships if m.person == p)
    r = client.post(
        f"/committees/{c.slug}/members/{membership.id}/end",
        data=date_fields("end_date", date(2026, 1, 31)),
    )
    assert r.status_code == 302
    db.session.refresh(membership)
    assert membership.end_date == date(2026, 1, 31)


def test_csv_import_preview_then_confirm(client, db, f, clerk):
    c = f.committee()
    db.session.commit()
    csv = b"name,role,email\nLakin,chair,lakin@example.org\nSue Wilson,member,\n"
    r = client.post(
        f"/committees/{c.slug}/import",
        data={"file": (io.BytesIO(csv), "members.csv"), "preview": "Preview"},
        content_type="multipart/form-data",
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Import these rows" in html and "Lakin" in html
    assert count(db, Membership) == 0
    r = client.post(
        f"/committees/{c.slug}/import", data={"csv_text": csv.decode(), "confirm": "Import"}
    )
    assert r.status_code == 302 and count(db, Membership) == 2


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        (b"email,role\nx@example.org,member\n", "needs the column"),
        (b"name,role,email\nA,member,not-an-email\n", "valid e-mail"),
        (b"name,role\nA,member\nA,member\n", "Same person as line 2"),
        (
            b"name,role,email\nSue Wilson,member,sue@example.org\nSue Wilson,member,\n",
            "Same person as line 2? The same name is given with an e-mail address",
        ),
    ],
)
def test_bad_csv_imports_nothing(client, db, f, clerk, csv, message):
    c = f.committee()
    db.session.commit()
    people = count(db, Person)
    r = client.post(
        f"/committees/{c.slug}/import",
        data={"file": (io.BytesIO(csv), "m.csv"), "preview": "Preview"},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and message in r.get_data(as_text=True)
    assert "Import these rows" not in r.get_data(as_text=True)
    r = client.post(
        f"/committees/{c.slug}/import", data={"csv_text": csv.decode(), "confirm": "Import"}
    )
    assert r.status_code == 400
    assert count(db, Membership) == 0 and count(db, Person) == people


def test_schedule_a_meeting_and_refuse_one_ending_before_it_starts(client, db, f, clerk):
    c = f.committee(default_venue="Town Hall")
    db.session.commit()
    day = date(2026, 7, 15)
    bad = client.post(
        f"/meetings/new/{c.slug}",
        data={**date_fields("day", day), "starts": "14:00", "ends": "1pm"},
    )
    assert bad.status_code == 400 and "must end after it starts" in bad.get_data(as_text=True)
    assert count(db, Meeting) == 0
    ok = client.post(
        f"/meetings/new/{c.slug}",
        data={**date_fields("day", day), "starts": "2pm", "ends": "4pm", "venue": "Town Hall"},
    )
    assert ok.status_code == 302
    m = db.session.scalar(select(Meeting))
    assert m.starts_at == datetime(2026, 7, 15, 13, tzinfo=UTC)
    assert m.local_end.hour == 16


def test_series_preview_then_create_and_a_rule_with_no_dates(client, db, f, clerk):
    c = f.committee()
    db.session.commit()
    data = {
        **date_fields("first", date(2026, 1, 1)),
        **date_fields("until", date(2026, 6, 30)),
        "weekday": "2",
        "unit": "months",
        "nth": "3",
        "every": "2",
        "at": "14:00",
    }
    preview = client.post(f"/meetings/series/{c.slug}", data={**data, "preview": "Preview"})
    html = preview.get_data(as_text=True)
    assert "3 meetings" in html and "Wednesday 18 March 2026" in html
    assert count(db, Meeting) == 0
    created = client.post(f"/meetings/series/{c.slug}", data={**data, "confirm": "Create"})
    assert created.status_code == 302 and count(db, Meeting) == 3
    empty = client.post(
        f"/meetings/series/{c.slug}",
        data={**data, **date_fields("until", date(2026, 1, 2)), "preview": "Preview"},
    )
    assert empty.status_code == 400 and "no dates" in empty.get_data(as_text=True)


def test_reschedule_keeps_uid_and_cancel_needs_reason(client, db, f, clerk):
    m = f.meeting(f.committee(), starts_at=datetime(2026, 7, 15, 13, tzinfo=UTC))
    db.session.commit()
    uid = m.ical_uid
    r = client.post(
        f"/meetings/{m.id}/edit",
        data={
            **date_fields("day", date(2026, 7, 22)),
            "starts": "14:00",
            "venue": "Room 2",
            "version": str(m.version),
        },
    )
    assert r.status_code == 302
    db.session.refresh(m)
    assert m.ical_uid == uid and m.ical_sequence == 1 and m.venue == "Room 2"
    stale = client.post(
        f"/meetings/{m.id}/edit",
        data={**date_fields("day", date(2026, 7, 29)), "starts": "14:00", "version": "1"},
    )
    assert stale.status_code == 409 and "changed by someone else" in stale.get_data(as_text=True)
    r = client.post(
        f"/meetings/{m.id}/status", data={"status": "cancelled", "version": str(m.version)}
    )
    assert r.status_code == 400 and "reason" in r.get_data(as_text=True)
    r = client.post(
        f"/meetings/{m.id}/status",
        data={"status": "cancelled", "status_reason": "No business", "version": str(m.version)},
    )
    assert r.status_code == 302
    db.session.refresh(m)
    assert m.status == MeetingStatus.CANCELLED
    page = client.get(f"/meetings/{m.id}/").get_data(as_text=True)
    assert "Cancelled" in page and "No business" in page


def test_agenda_builder_journey_without_javascript(client, db, f, clerk):
    c = f.committee(regime=Regime.PRINCIPAL)
    m = f.meeting(c, starts_at=datetime.now(UTC) + timedelta(days=30))
    db.session.commit()
    assert client.post(f"/meetings/{m.id}/agenda/template").status_code == 302
    assert m.numbered_items()[0][0].kind == ItemKind.APOLOGIES
    r = client.post(
        f"/meetings/{m.id}/agenda/items/new",
        data={"title": "Budget", "kind": "business", "visibility": "public", "section": ""},
    )
    assert r.status_code == 302
    budget = next(i for i in m.items if i.title == "Budget")
    r = client.post(
        f"/meetings/{m.id}/agenda/items/new?parent={budget.id}",
        data={"title": "Capital programme", "kind": "business", "visibility": "public"},
    )
    assert r.status_code == 302
    bad = client.post(
        f"/meetings/{m.id}/agenda/items/new",
        data={
            "title": "Land sale",
            "kind": "business",
            "visibility": "exempt",
            "public_interest_reason": REASON,
        },
    )
    assert bad.status_code == 400 and "paragraph" in bad.get_data(as_text=True)
    r = client.post(
        f"/meetings/{m.id}/agenda/items/new",
        data={
            "title": "Land sale",
            "kind": "business",
            "visibility": "exempt",
            "exempt_paragraphs": ["3"],
            "public_interest_reason": REASON,
        },
    )
    assert r.status_code == 302
    titles = [(n, i.title) for i, n in m.numbered_items()]
    assert titles[-2:] == [("8", "Exclusion of the press and public"), ("9", "Land sale")]
    assert ("5a", "Capital programme") in titles
    r = client.post(f"/agenda-items/{budget.id}/move", data={"direction": "up"})
    assert r.status_code == 302
    assert next(n for i, n in m.numbered_items() if i.title == "Budget") == "4"
    # Upload papers: good, then a PNG called .pdf which leaves nothing behind.
    land = next(i for i in m.items if i.title == "Land sale")
    r = client.post(
        f"/agenda-items/{land.id}/documents/new",
        data={
            "title": "Valuation",
            "visibility": "public",
            "file": (io.BytesIO(make_pdf(3, "valuation")), "valuation.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    r = client.post(
        f"/agenda-items/{land.id}/documents/new",
        data={
            "title": "Photo",
            "visibility": "public",
            "file": (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 64), "photo.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and "not a PDF" in r.get_data(as_text=True)
    r = client.post(
        f"/agenda-items/{land.id}/documents/new",
        data={
            "title": "Locked",
            "visibility": "public",
            "file": (
                io.BytesIO(make_pdf(1, encryption=pikepdf.Encryption(user="u", owner="o"))),
                "locked.pdf",
            ),
        },
        content_type="multipart/form-data",
    )
    assert "password-protected" in r.get_data(as_text=True)
    assert count(db, Document) == 1
    # Publish, then the public sees the exempt item's title and paragraph but not the paper.
    r = client.post(f"/meetings/{m.id}/publish", data={})
    assert r.status_code == 302 and m.agenda_state == AgendaState.PUBLISHED
    doc = land.documents[0]
    client.post("/sign-out")
    page = client.get(f"/meetings/{m.id}/").get_data(as_text=True)
    assert "Land sale" in page and "NOT FOR PUBLICATION" in page and "paragraph 3" in page
    assert "Valuation" not in page
    assert client.get(f"/documents/{doc.id}/{doc.filename}").status_code == 404
    verbs = set(db.session.scalars(select(AuditEvent.verb)))
    assert {"agenda_item_added", "agenda_item_moved", "document_added", "agenda_published"} <= verbs


def test_deadline_shown_and_late_publication_needs_a_reason(client, db, f, clerk):
    c = f.committee(regime=Regime.PRINCIPAL)
    # Ten days ahead over the late May bank holiday 2026 would be on time; three days is late.
    m = f.meeting(c, starts_at=datetime.now(UTC) + timedelta(days=3))
    f.item(m, "Apologies")
    db.session.commit()
    page = client.get(f"/meetings/{m.id}/agenda").get_data(as_text=True)
    assert "Publication deadline" in page and "The deadline has passed" in page
    r = client.post(f"/meetings/{m.id}/publish", data={})
    assert r.status_code == 400 and "reason it is published late" in r.get_data(as_text=True)
    assert m.agenda_state == AgendaState.DRAFT
    r = client.post(f"/meetings/{m.id}/publish", data={"late_reason": "Report was delayed"})
    assert r.status_code == 302
    assert m.publications[0].late and m.publications[0].late_reason == "Report was delayed"
    r = client.post(f"/meetings/{m.id}/publish", data={"summary": ""})
    assert r.status_code == 400 and "Nothing has changed since revision 1" in r.get_data(
        as_text=True
    )
    client.post(
        f"/meetings/{m.id}/agenda/items/new",
        data={"title": "Budget report", "kind": "business", "visibility": "public"},
    )
    # A late supplement needs its own reason: the note for readers is not one.
    r = client.post(f"/meetings/{m.id}/publish", data={"summary": "The report was delayed."})
    assert r.status_code == 400 and "revision 2 of this agenda" in r.get_data(as_text=True)
    r = client.post(
        f"/meetings/{m.id}/publish",
        data={"summary": "The report was delayed.", "late_reason": "Audit report came in late"},
    )
    assert r.status_code == 302
    page = client.get(f"/meetings/{m.id}/").get_data(as_text=True)
    assert "Revision 2" in page and "<li>Added item 2: Budget report</li>" in page
    assert "<li>The report was delayed.</li>" in page
    assert "Reason: Report was delayed" in page and "Reason: Audit report came in late" in page


def test_audit_trail_page(client, db, f, clerk):
    m = f.meeting(f.committee())
    db.session.commit()
    client.post(
        f"/meetings/{m.id}/agenda/items/new",
        data={"title": "Budget", "kind": "business", "visibility": "public"},
    )
    page = client.get(f"/meetings/{m.id}/audit").get_data(as_text=True)
    assert "Agenda item added" in page and "Jo Clerk" in page and "Budget" in page


def test_deadline_across_christmas_bank_holidays_is_shown(client, db, f, clerk):
    # Wednesday 30 December 2026: Tue 29, (Mon 28 and Fri 25 bank holidays, weekend),
    # Thu 24, Wed 23, Tue 22, Mon 21 are the five clear working days.
    from zoneinfo import ZoneInfo

    m = f.meeting(
        f.committee(regime=Regime.PRINCIPAL),
        starts_at=datetime(2026, 12, 30, 14, tzinfo=ZoneInfo("Europe/London")),
    )
    f.item(m, "Apologies")
    db.session.commit()
    page = client.get(f"/meetings/{m.id}/agenda").get_data(as_text=True)
    assert "Publication deadline: <strong>Sunday 20 December 2026</strong>" in page
    assert "5 clear working days" in page


def test_change_a_members_role(client, db, f, clerk):
    c = f.committee()
    membership = f.membership(c, f.person("Sue Wilson"))
    db.session.commit()
    r = client.post(
        f"/committees/{c.slug}/members/{membership.id}/role", data={"role": "vice_chair"}
    )
    assert r.status_code == 302
    db.session.refresh(membership)
    assert membership.role == MembershipRole.VICE_CHAIR
    client.post(f"/committees/{c.slug}/members/{membership.id}/role", data={"role": "king"})
    db.session.refresh(membership)
    assert membership.role == MembershipRole.VICE_CHAIR
    page = client.get(f"/committees/{c.slug}/members").get_data(as_text=True)
    assert '<option value="vice_chair" selected>Vice-chair</option>' in page


def stored_files(app) -> list:
    return sorted(p for p in Path(app.config["STORAGE_DIR"]).rglob("*") if p.is_file())


def upload_paper(client, item, data: bytes, title: str = "Report"):
    return client.post(
        f"/agenda-items/{item.id}/documents/new",
        data={"title": title, "visibility": "public", "file": (io.BytesIO(data), "report.pdf")},
        content_type="multipart/form-data",
    )


def test_truncated_paper_is_refused_on_the_page_and_nothing_kept(app, client, db, f, clerk):
    item = f.item(f.meeting(f.committee()), "Action plan")
    db.session.commit()
    whole = weasyprint_pdf(5)
    plain = make_pdf(5, "Action plan")
    before = stored_files(app)
    for data in (whole, plain):
        for fraction in (0.3, 0.5, 0.9):
            r = upload_paper(client, item, data[: int(len(data) * fraction)])
            assert r.status_code == 400
            assert "damaged or incomplete" in r.get_data(as_text=True)
    assert count(db, Document) == 0 and stored_files(app) == before
    assert upload_paper(client, item, whole).status_code == 302
    assert count(db, Document) == 1


@pytest.fixture
def one_mb_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2 * 1024 * 1024)


def test_oversized_upload_gets_a_page_naming_the_limit(app, client, db, f, clerk, one_mb_limit):
    item = f.item(f.meeting(f.committee()), "Action plan")
    db.session.commit()
    before = stored_files(app)
    # Beyond the slack Werkzeug refuses the body before the view runs.
    r = upload_paper(client, item, make_pdf(1) + b"%" + b"x" * (3 * 1024 * 1024))
    page = r.get_data(as_text=True)
    assert r.status_code == 413 and r.mimetype == "text/html"
    assert "The file is too large" in page and "larger than 1 MB" in page
    assert "Request Entity Too Large" not in page and 'class="govuk-heading-l"' in page
    # Within the slack the paper check refuses it, in the same words, on the upload form.
    r = upload_paper(client, item, make_pdf(1) + b"%" + b"x" * (1024 * 1024 + 10))
    assert r.status_code == 400 and "larger than 1 MB" in r.get_data(as_text=True)
    assert count(db, Document) == 0 and stored_files(app) == before


def test_an_exempt_item_with_a_minute_cannot_be_removed(client, db, f, clerk):
    from app.models import Declaration, Minute, MinutesState, Visibility

    c = f.committee()
    m = f.published_meeting(c)
    exempt = f.exempt_item(m, "Land at Moorgate", paragraphs=(3,))
    f.minute(m, 212, "Land at Moorgate", item=exempt, text="Sold to the bidder.")
    other = f.item(m, "Budget")
    db.session.add(
        Declaration(meeting=m, item=other, person=f.person(), kind="other_registrable", nature="x")
    )
    spare = f.item(m, "Spare")
    db.session.commit()
    page = client.get(f"/agenda-items/{exempt.id}/delete").get_data(as_text=True)
    assert "cannot be removed" in page and "This item has a minute (212)" in page
    assert "Remove the item</button>" not in page
    r = client.post(f"/agenda-items/{exempt.id}/delete")
    assert r.status_code == 409 and "This item has a minute (212)" in r.get_data(as_text=True)
    r = client.post(f"/agenda-items/{other.id}/delete")
    assert r.status_code == 409 and "Interests have been declared" in r.get_data(as_text=True)
    db.session.expire_all()
    minute = db.session.scalar(select(Minute))
    assert minute.item.id == exempt.id and minute.item.visibility == Visibility.EXEMPT
    assert count(db, Declaration) == 1 and len(m.items) == 3
    # Approved minutes lock the agenda: even an item nothing refers to stays.
    f.with_minutes_state(m, MinutesState.APPROVED)
    db.session.commit()
    r = client.post(f"/agenda-items/{spare.id}/delete")
    assert r.status_code == 409 and "approved and locked" in r.get_data(as_text=True)
    db.session.expire_all()
    assert len(db.session.get(Meeting, m.id).items) == 3
    # Nor can it be edited or reordered (making the exempt item public would publish its minute).
    order = [(i.id, i.position) for i in db.session.get(Meeting, m.id).items]
    r = client.post(
        f"/agenda-items/{exempt.id}/edit",
        data={
            "title": "Land at Moorgate",
            "kind": "business",
            "visibility": "public",
            "version": str(exempt.version),
        },
    )
    assert r.status_code == 400 and "approved and locked" in r.get_data(as_text=True)
    r = client.post(f"/agenda-items/{spare.id}/move", data={"direction": "up"})
    assert "approved and locked" in client.get(r.location).get_data(as_text=True)
    db.session.expire_all()
    assert [(i.id, i.position) for i in db.session.get(Meeting, m.id).items] == order
    assert db.session.get(type(exempt), exempt.id).visibility == Visibility.EXEMPT
    # The approved minutes are public, but the exempt item's minute stays hidden.
    client.post("/sign-out")
    page = client.get(f"/meetings/{m.id}/").get_data(as_text=True)
    assert "Land at Moorgate" in page and "Sold to the bidder" not in page


def test_urgent_reasons_of_restricted_items_are_not_public(client, db, f, sign_in):
    import subprocess

    c = f.committee()
    m = f.published_meeting(c)
    f.item(m, "Flood response", urgent=True, urgent_reason="Flooding on 3 March FLOODPUBLIC")
    f.exempt_item(
        m, "Care home closure", urgent=True, urgent_reason="Provider insolvent URGENTCANARY"
    )
    member = f.member_user(c)
    clerk = f.user(Role.CLERK)
    db.session.commit()
    page = client.get(f"/meetings/{m.id}/").get_data(as_text=True)
    assert page.count("Urgent item") == 2 and "FLOODPUBLIC" in page
    assert "URGENTCANARY" not in page
    items = client.get(f"/api/v1/meetings/{m.id}/agenda-items").get_json()["items"]
    reasons = {i["title"]: i["urgent_reason"] for i in items}
    assert reasons == {
        "Flood response": "Flooding on 3 March FLOODPUBLIC",
        "Care home closure": None,
    }
    pack = client.get(f"/meetings/{m.id}/pack.pdf")
    assert pack.status_code == 200
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pack.data, capture_output=True, check=True
    ).stdout.decode()
    assert "FLOODPUBLIC" in text and "URGENTCANARY" not in text
    for user in (member, clerk):
        sign_in(user)
        assert "URGENTCANARY" in client.get(f"/meetings/{m.id}/").get_data(as_text=True)
        client.post("/sign-out")


def test_edit_the_standard_agenda_items_on_the_committee_form(client, db, f, clerk):
    c = f.committee("Audit Committee")
    m = f.meeting(c)
    db.session.commit()
    page = client.get(f"/committees/{c.slug}/edit").get_data(as_text=True)
    assert '<label class="govuk-label" for="agenda_template">' in page
    assert "apologies: Apologies for absence\ndeclarations: Declarations of interest" in page
    data = {
        "name": "Audit Committee",
        "timezone": "Europe/London",
        "regime": "principal",
        "first_minute_number": "1",
        "agenda_template": "apologies: Apologies\nbusiness: Risk register | For Decision\n"
        "party: Summer social",
    }
    bad = client.post(f"/committees/{c.slug}/edit", data=data)
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "Line 3: &#39;party&#39; is not a kind of standard item" in text
    assert 'href="#agenda_template"' in text  # the error summary links to the field
    db.session.expire_all()
    assert len(db.session.get(Committee, c.id).agenda_template) == 6
    data["agenda_template"] = "apologies: Apologies\nbusiness: Risk register | For Decision"
    assert client.post(f"/committees/{c.slug}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Committee, c.id).agenda_template == [
        {"kind": "apologies", "title": "Apologies", "section": None},
        {"kind": "business", "title": "Risk register", "section": "For Decision"},
    ]
    client.post(f"/meetings/{m.id}/agenda/template")
    titles = [i.title for i, _ in db.session.get(Meeting, m.id).numbered_items()]
    assert titles == ["Apologies", "Risk register"]


def test_audit_trail_keeps_a_deleted_items_history_with_old_and_new_values(client, db, f, clerk):
    from app.core.web import format_local_datetime

    c = f.committee()
    m = f.meeting(c)
    officer = f.person("Sam Officer")
    f.membership(c, officer)
    db.session.commit()
    r = client.post(
        f"/meetings/{m.id}/agenda/items/new",
        data={"title": "Budget", "kind": "business", "visibility": "public"},
    )
    assert r.status_code == 302
    item = next(i for i in m.items if i.title == "Budget")
    r = client.post(
        f"/agenda-items/{item.id}/edit",
        data={
            "title": "Budget 2026/27",
            "kind": "business",
            "visibility": "public",
            "presenter_id": str(officer.id),
            "purpose": "To agree the budget",
            "version": str(item.version),
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    assert upload_paper(client, item, make_pdf(2, "budget"), title="Budget report").status_code
    assert client.post(f"/agenda-items/{item.id}/delete").status_code == 302
    assert all(i.title != "Budget 2026/27" for i in m.items)

    r = client.get(f"/meetings/{m.id}/audit")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    verbs = [e.verb for e in events if e.verb != "signed_in"]
    assert verbs == [
        "agenda_item_added",
        "agenda_item_updated",
        "document_added",
        "agenda_item_deleted",
    ]
    rows = page.split('<tbody class="govuk-table__body">')[1].split("</tbody>")[0]
    rows = rows.split('<tr class="govuk-table__row">')[1:]
    # Newest first: each row says what, who and when.
    for row, event in zip(
        rows, reversed([e for e in events if e.verb != "signed_in"]), strict=True
    ):
        assert event.verb.replace("_", " ").capitalize() in row
        assert "Jo Clerk" in row
        assert format_local_datetime(event.occurred_at, m.timezone) in row
    edit = rows[2]
    assert "Title: Budget" in edit and "Budget 2026/27" in edit and "→" in edit
    assert "Presenter: (none)" in edit and "Sam Officer" in edit
    assert "Purpose: (none)" in edit and "To agree the budget" in edit
    # Fields sent but not changed are not listed as changes.
    assert "Visibility" not in edit and "Kind" not in edit
    assert "Budget report (item: Budget 2026/27)" in rows[1]
    assert "Budget 2026/27" in rows[0]


def test_builder_shows_unpublished_changes_and_publishes_them_as_a_supplement(client, db, f, clerk):
    m = f.meeting(f.committee(regime=Regime.NONE))
    db.session.commit()
    client.post(f"/meetings/{m.id}/agenda/template")
    assert client.post(f"/meetings/{m.id}/publish", data={}).status_code == 302
    page = client.get(f"/meetings/{m.id}/agenda").get_data(as_text=True)
    assert "not yet published" not in page
    assert "Nothing has changed since revision 1." in page
    assert "Publish revision 2" not in page  # no empty supplement to publish
    client.post(
        f"/meetings/{m.id}/agenda/items/new",
        data={"title": "Flood response", "kind": "business", "visibility": "public"},
    )
    apologies = m.numbered_items()[0][0]
    client.post(
        f"/agenda-items/{apologies.id}/edit",
        data={
            "title": "Apologies and substitutes",
            "kind": "apologies",
            "visibility": "public",
            "version": str(apologies.version),
        },
    )
    page = client.get(f"/meetings/{m.id}/agenda").get_data(as_text=True)
    assert "2 changes not yet published." in page
    assert (
        "<li>Item 1 renamed from \u201cApologies for absence\u201d to \u201cApologies and "
        "substitutes\u201d</li>" in page
    )
    assert "<li>Added item 5: Flood response</li>" in page
    assert "Publish revision 2" in page
    r = client.post(f"/meetings/{m.id}/publish", data={"summary": ""})
    assert r.status_code == 302
    publication = db.session.get(Meeting, m.id).publications[-1]
    assert publication.revision == 2
    assert publication.summary.splitlines()[1] == "Added item 5: Flood response"
    page = client.get(f"/meetings/{m.id}/agenda").get_data(as_text=True)
    assert "not yet published" not in page and "Nothing has changed since revision 2." in page
    r = client.post(f"/meetings/{m.id}/publish", data={"summary": "Only a note"})
    assert r.status_code == 400 and "Nothing has changed since revision 2" in r.get_data(
        as_text=True
    )
    assert len(db.session.get(Meeting, m.id).publications) == 2
    client.post("/sign-out")
    page = client.get(f"/meetings/{m.id}/").get_data(as_text=True)
    assert "Revision 2" in page and "<li>Added item 5: Flood response</li>" in page


def test_postpone_a_meeting_on_the_status_page(client, db, f, clerk):
    m = f.meeting(f.committee(), starts_at=datetime(2026, 7, 15, 13, tzinfo=UTC))
    db.session.commit()
    r = client.post(
        f"/meetings/{m.id}/status", data={"status": "postponed", "version": str(m.version)}
    )
    assert r.status_code == 400 and '<a href="#status_reason">Enter the reason.</a>' in r.get_data(
        as_text=True
    )
    db.session.refresh(m)
    assert m.status == MeetingStatus.SCHEDULED
    r = client.post(
        f"/meetings/{m.id}/status",
        data={"status": "postponed", "status_reason": "Chair unwell", "version": str(m.version)},
    )
    assert r.status_code == 302
    db.session.refresh(m)
    assert m.status == MeetingStatus.POSTPONED and m.ical_sequence == 1
    client.post("/sign-out")
    page = client.get(f"/meetings/{m.id}/").get_data(as_text=True)
    assert "Postponed" in page and "Chair unwell" in page
    ics = client.get(f"/meetings/{m.id}/meeting.ics").get_data(as_text=True)
    assert "SUMMARY:Postponed: " in ics and "SEQUENCE:1" in ics


def test_deadline_across_the_spring_bank_holiday_for_a_meeting_made_ten_days_ahead(
    client, db, f, clerk, monkeypatch
):
    """Meeting on Friday 29 May 2026; five clear working days, counted back from the day
    before: Thu 28, Wed 27, Tue 26, (Mon 25 is the spring bank holiday, then the weekend),
    Fri 22, Thu 21. Publishing on Thu 21 would make it the day of publication, which is not
    clear, so the deadline is Wednesday 20 May. A calculator that forgot the bank holiday
    would say Thursday 21 May, the day the agenda is published here, late.
    (Tuesday 2 June would not test this: Mon 1, Fri 29, Thu 28, Wed 27 and Tue 26 are clear,
    so its deadline is Monday 25 May, the holiday itself, with or without the holiday rule.)"""
    from zoneinfo import ZoneInfo

    import app.agenda.publication as agenda_publication
    import app.meetings.views as meeting_views

    london = ZoneInfo("Europe/London")
    clock = {"now": datetime(2026, 5, 19, 9, 0, tzinfo=london)}  # ten days ahead

    def now():
        return clock["now"].astimezone(UTC)

    monkeypatch.setattr(meeting_views, "utcnow", now)
    monkeypatch.setattr(agenda_publication, "utcnow", now)
    c = f.committee(regime=Regime.PRINCIPAL)
    db.session.commit()
    r = client.post(
        f"/meetings/new/{c.slug}",
        data={**date_fields("day", date(2026, 5, 29)), "starts": "2pm"},
    )
    assert r.status_code == 302
    m = db.session.scalar(select(Meeting))
    client.post(f"/meetings/{m.id}/agenda/template")
    page = client.get(f"/meetings/{m.id}/agenda").get_data(as_text=True)
    assert "Publication deadline: <strong>Wednesday 20 May 2026</strong>" in page
    assert "5 clear working days" in page and "The deadline has passed" not in page

    clock["now"] = datetime(2026, 5, 21, 10, 0, tzinfo=london)
    page = client.get(f"/meetings/{m.id}/agenda").get_data(as_text=True)
    assert "The deadline has passed" in page and 'name="late_reason"' in page
    r = client.post(f"/meetings/{m.id}/publish", data={"late_reason": "  "})
    text = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "The deadline for publishing this agenda was Wednesday 20 May 2026" in text
    db.session.refresh(m)
    assert m.agenda_state == AgendaState.DRAFT and m.publications == []
    r = client.post(f"/meetings/{m.id}/publish", data={"late_reason": "The report was delayed"})
    assert r.status_code == 302
    db.session.refresh(m)
    (publication,) = m.publications
    assert publication.late and publication.late_reason == "The report was delayed"
    assert publication.published_at == datetime(2026, 5, 21, 9, 0, tzinfo=UTC)
    assert publication.deadline == datetime(2026, 5, 20, 23, 0, tzinfo=UTC)  # midnight BST
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "agenda_published"))
    assert event.data["late"] is True and event.user.name == "Jo Clerk"


def test_standard_items_fill_themselves_on_the_builder(client, db, f, clerk):
    from app.actions.services import create_action
    from app.models import MinutesState

    c = f.committee()
    earlier = f.meeting(c, starts_at=datetime(2026, 3, 18, 14, tzinfo=UTC))
    f.with_minutes_state(earlier, MinutesState.PUBLISHED)
    older = f.meeting(c, starts_at=datetime(2026, 1, 14, 14, tzinfo=UTC))
    f.with_minutes_state(older, MinutesState.APPROVED)
    m = f.meeting(c, starts_at=datetime(2026, 5, 20, 13, tzinfo=UTC))
    f.meeting(c, starts_at=datetime(2026, 7, 15, 13, tzinfo=UTC))
    f.meeting(
        c,
        starts_at=datetime(2026, 9, 16, 13, tzinfo=UTC),
        status=MeetingStatus.CANCELLED,
        status_reason="No business",
    )
    owner = f.person("Sue Wilson")
    create_action(c, "Review the CAMHS waiting list", owner_id=owner.id, reference="1.2")
    done = create_action(c, "Circulate the budget", owner_id=owner.id)
    done.status, done.closed_at = "complete", datetime(2026, 4, 1, tzinfo=UTC)
    create_action(f.committee(), "Another committee's action", owner_id=owner.id)
    db.session.commit()
    client.post(f"/meetings/{m.id}/agenda/template")
    page = client.get(f"/meetings/{m.id}/agenda").get_data(as_text=True)
    minutes_link = (
        f'<a class="govuk-link" href="/meetings/{earlier.id}/#minutes">Minutes of the meeting '
        "held on Wednesday 18 March 2026</a>"
    )
    assert minutes_link in page
    assert "1.2 Review the CAMHS waiting list (Sue Wilson)" in page
    assert "Circulate the budget" not in page and "Another committee" not in page
    assert "Wednesday 15 July 2026" in page and "16 September 2026" not in page


def test_remove_a_paper_on_the_builder(client, db, f, clerk):
    from app.models import MinutesState

    m = f.meeting(f.committee())
    item = f.item(m, "Budget")
    db.session.commit()
    upload_paper(client, item, make_pdf(1, "wrong"), title="Wrong report")
    doc = db.session.scalar(select(Document))
    page = client.get(f"/meetings/{m.id}/agenda").get_data(as_text=True)
    link = f'href="/documents/{doc.id}/remove">Remove<span class="govuk-visually-hidden">'
    assert f"{link} the paper Wrong report" in page
    page = client.get(f"/documents/{doc.id}/remove").get_data(as_text=True)
    assert "Remove the paper Wrong report?" in page
    r = client.post(f"/documents/{doc.id}/remove")
    assert r.status_code == 302 and count(db, Document) == 0
    upload_paper(client, item, make_pdf(1, "right"), title="Right report")
    f.with_minutes_state(db.session.get(Meeting, m.id), MinutesState.APPROVED)
    db.session.commit()
    doc = db.session.scalar(select(Document))
    assert "approved and locked" in client.get(f"/documents/{doc.id}/remove").get_data(as_text=True)
    r = client.post(f"/documents/{doc.id}/remove")
    assert r.status_code == 409 and "approved and locked" in r.get_data(as_text=True)
    assert count(db, Document) == 1
    assert client.post("/documents/99999/remove").status_code == 404


@pytest.mark.parametrize("sent", ["1", "not-a-number"])
def test_stale_or_tampered_edits_of_meetings_and_items_are_conflicts(client, db, f, clerk, sent):
    """Both versions are named, and nothing is changed; a tampered version field can match
    no version, so it is refused too (it once skipped the check)."""
    m = f.meeting(f.committee(), starts_at=datetime(2026, 7, 15, 13, tzinfo=UTC))
    item = f.item(m, "Budget")
    m.version, item.version = 3, 4
    db.session.commit()
    r = client.post(
        f"/meetings/{m.id}/edit",
        data={**date_fields("day", date(2026, 7, 29)), "starts": "14:00", "version": sent},
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 409 and "the current one is version 3" in page
    r = client.post(
        f"/meetings/{m.id}/status",
        data={"status": "cancelled", "status_reason": "No business", "version": sent},
    )
    assert r.status_code == 409
    r = client.post(
        f"/agenda-items/{item.id}/edit",
        data={"title": "Changed", "kind": "business", "visibility": "public", "version": sent},
    )
    assert r.status_code == 409 and "the current one is version 4" in r.get_data(as_text=True)
    db.session.refresh(m)
    db.session.refresh(item)
    assert (m.version, m.status.value, item.title) == (3, "scheduled", "Budget")


def test_the_urgent_flag_is_set_by_the_service_and_audited(client, db, f, clerk):
    from app.audit.models import AuditEvent

    m = f.meeting(f.committee())
    item = f.item(m, "Budget")
    db.session.commit()
    r = client.post(
        f"/agenda-items/{item.id}/edit",
        data={
            "title": "Budget",
            "kind": "business",
            "visibility": "public",
            "urgent": "y",
            "urgent_reason": "The grant deadline is before the next meeting.",
            "version": str(item.version),
        },
    )
    assert r.status_code == 302
    db.session.refresh(item)
    assert item.urgent
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.verb == "agenda_item_updated")
    ).all()[-1]
    assert "urgent" in event.data["fields"]
