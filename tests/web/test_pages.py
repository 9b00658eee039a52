"""The read-only pages, seen by the public, members and clerks."""

import io
import re

import pytest

from app.agenda.documents import add_document
from app.models import AgendaState, MinutesState, Role
from tests.pdfs import make_pdf

CANARY = "CANARY-5e1d"
REASON = "The public interest in maintaining the exemption outweighs disclosure."


@pytest.fixture
def world(db, f):
    c = f.committee("Audit Committee", clerk_name="Jo Clerk", clerk_email="jo@example.org")
    chair = f.person("Lakin", honorific="Councillor")
    f.membership(c, chair, "chair")
    member = f.member_user(c)
    m = f.published_meeting(c, venue="Town Hall")
    public = f.item(m, "Budget monitoring", section="For Decision")
    add_document(public, io.BytesIO(make_pdf(2, "Budget")), "budget.pdf", "Budget report")
    exempt = f.exempt_item(m, "Staffing restructure", paragraphs=[1], section="For Decision")
    add_document(exempt, io.BytesIO(make_pdf(1, "secret")), "staff.pdf", f"Appendix {CANARY}")
    f.attendance(m, chair, in_chair=True)
    minute = f.minute(m, 101, "Budget monitoring", item=public, text="The report was **noted**.")
    f.resolution(minute, "That the report be noted.", kind="noted")
    secret_minute = f.minute(m, 102, f"Staffing {CANARY}", item=exempt, text=f"Text {CANARY}")
    f.resolution(secret_minute, f"That {CANARY} be agreed.")
    db.session.commit()
    return {"committee": c, "meeting": m, "member": member, "chair": chair}


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_home_and_committee_pages(client, world):
    home = page(client, "/")
    assert "Audit Committee" in home and "This week" in home
    committee = page(client, "/committees/audit-committee/")
    assert "Councillor Lakin" in committee and "Chair" in committee
    assert "Jo Clerk" in committee
    assert "Audit Committee" in page(client, "/committees/")


def test_meeting_page_for_the_public(client, world, f):
    html = page(client, f"/meetings/{world['meeting'].id}/")
    assert "Budget monitoring" in html and "For Decision" in html
    assert "Staffing restructure" in html and "NOT FOR PUBLICATION" in html
    assert "Information relating to any individual." in html  # paragraph 1 of Schedule 12A
    assert "Budget report" in html
    assert CANARY not in html


def test_member_of_the_committee_sees_exempt_papers(client, world, sign_in):
    sign_in(world["member"])
    html = page(client, f"/meetings/{world['meeting'].id}/")
    assert f"Appendix {CANARY}" in html


def test_member_of_another_committee_does_not(client, world, f, sign_in, db):
    outsider = f.member_user(f.committee())
    db.session.commit()
    sign_in(outsider)
    assert CANARY not in page(client, f"/meetings/{world['meeting'].id}/")


def test_draft_agenda_hidden_from_public_shown_to_clerk(client, world, f, db, sign_in):
    world["meeting"].agenda_state = AgendaState.DRAFT
    db.session.commit()
    html = page(client, f"/meetings/{world['meeting'].id}/")
    assert "The agenda has not been published yet." in html
    assert "Budget monitoring" not in html
    clerk = f.user(Role.CLERK)
    db.session.commit()
    sign_in(clerk)
    html = page(client, f"/meetings/{world['meeting'].id}/")
    assert "Budget monitoring" in html and "Draft agenda" in html


@pytest.mark.parametrize(
    ("state", "publish_drafts", "public_sees", "member_sees"),
    [
        (MinutesState.DRAFT, True, False, False),
        (MinutesState.PUBLISHED, False, False, True),
        (MinutesState.PUBLISHED, True, True, True),
        (MinutesState.APPROVED, False, True, True),
    ],
)
def test_minutes_visibility(
    client, world, f, db, sign_in, state, publish_drafts, public_sees, member_sees
):
    world["committee"].publish_draft_minutes = publish_drafts
    f.with_minutes_state(world["meeting"], state)
    db.session.commit()
    url = f"/meetings/{world['meeting'].id}/"
    html = page(client, url)
    assert ("101. Budget monitoring" in html) is public_sees
    assert ("Councillor Lakin (in the Chair)" in html) is public_sees
    assert CANARY not in html
    sign_in(world["member"])
    html = page(client, url)
    assert ("101. Budget monitoring" in html) is member_sees
    assert (f"Staffing {CANARY}" in html) is member_sees


def test_approved_minutes_render_markdown_and_resolutions(client, world, f, db):
    f.with_minutes_state(world["meeting"], MinutesState.APPROVED)
    db.session.commit()
    html = page(client, f"/meetings/{world['meeting'].id}/")
    assert "<strong>noted</strong>" in html
    assert "Resolved:-" in html and "That the report be noted." in html
    assert "Approved" in html


def test_papers_are_served_only_to_those_who_may_see_them(client, world, f, db, sign_in):
    docs = {d.title: d for i in world["meeting"].items for d in i.documents}
    public, secret = docs["Budget report"], docs[f"Appendix {CANARY}"]
    response = client.get(f"/documents/{public.id}/{public.filename}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "budget.pdf" in response.headers["Content-Disposition"]
    missing = client.get("/documents/999999/x.pdf")
    hidden = client.get(f"/documents/{secret.id}/{secret.filename}")
    assert missing.status_code == hidden.status_code == 404

    # Identical but for the sign-in link's return address.
    def body(r):
        return re.sub(r"next=[^\"&]*", "", r.get_data(as_text=True))

    assert body(missing) == body(hidden)
    sign_in(world["member"])
    assert client.get(f"/documents/{secret.id}/{secret.filename}").status_code == 200


def test_unknown_things_are_404_pages_without_detail(client, world):
    for url in ("/committees/no-such-committee/", "/meetings/999999/", "/nowhere"):
        html = page(client, url, 404)
        assert "Page not found" in html or "Not Found" in html
        assert "Traceback" not in html


def test_no_inline_script_and_security_headers(client, world):
    for url in (
        "/",
        "/committees/audit-committee/",
        f"/meetings/{world['meeting'].id}/",
        "/sign-in",
        "/accessibility",
    ):
        response = client.get(url)
        html = response.get_data(as_text=True)
        for tag in re.findall(r"<script[^>]*>", html):
            # Only external scripts run; JSON-LD is data, which browsers never execute.
            assert "src=" in tag or 'type="application/ld+json"' in tag, tag
        assert " style=" not in html
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_demo_meeting_page_shows_minutes_and_resolutions(client, db):
    from app.demo.loader import load_demo

    load_demo()
    db.session.commit()
    from sqlalchemy import select

    from app.models import Meeting, Minute

    may = db.session.scalar(select(Minute).where(Minute.number == 208)).meeting
    html = page(client, f"/meetings/{may.id}/")
    for number in range(208, 220):
        assert f"{number}. " in html
    assert "Apologies for absence" in html and "Joyce Thacker" in html
    assert "(1) That the potential for the Families for Change Work" in html
    assert "(2) That detailed case studies be submitted in 6 months" in html
    assert "Councillor Lakin (in the Chair)" in html
    assert isinstance(may, Meeting)


def test_search_page_finds_public_paper_but_not_exempt(client, world, f, db, sign_in):
    html = page(client, "/search?q=Budget")
    assert "Budget report" in html  # the public paper's text says "Budget page 1"
    assert "0 results" in page(client, "/search?q=secret")
    sign_in(world["member"])
    assert f"Appendix {CANARY}" in page(client, "/search?q=secret")


def test_home_groups_meetings_and_shows_recent_decisions(client, db, f):
    from datetime import UTC, datetime, timedelta

    c = f.committee("Planning Committee")
    f.meeting(c, starts_at=datetime.now(UTC) + timedelta(days=2))
    f.meeting(c, starts_at=datetime.now(UTC) + timedelta(days=20))
    held = f.with_minutes_state(
        f.meeting(c, starts_at=datetime.now(UTC) - timedelta(days=5)), MinutesState.APPROVED
    )
    f.resolution(f.minute(held, 7, "Application 26/001"), "That permission be granted.")
    db.session.commit()
    html = page(client, "/")
    week = html.split("This week")[1].split("This month")[0]
    month = html.split("This month")[1].split("Recent meetings")[0]
    assert "Planning Committee" in week and "Planning Committee" in month
    assert "That permission be granted." in html


def test_my_meetings_lists_my_committees_only(client, db, f, world, sign_in):
    from datetime import UTC, datetime, timedelta

    other = f.committee("Licensing Committee")
    f.meeting(other, starts_at=datetime.now(UTC) + timedelta(days=3))
    db.session.commit()
    sign_in(world["member"])
    html = page(client, "/my-meetings")
    assert "Audit Committee" in html and "Licensing Committee" not in html
