"""Issue 5's journey in a real browser: attendance with an apology and a substitute, two
minutes with resolutions and an action; the owner marks the action amber; the minutes are
approved with an amendment at the next meeting and can no longer be edited."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.agenda import services as agenda
from app.models import Action, MembershipRole, Minute, Rag, Role
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def s(db, f):
    c = f.committee("Health Board", first_minute_number=208)
    chair, sue, karen = (
        f.person("Lakin", honorific="Councillor"),
        f.person("Sue Wilson"),
        f.person("Karen Smith"),
    )
    substitute = f.person("Sam Standin")
    f.membership(c, chair, MembershipRole.CHAIR)
    f.membership(c, sue)
    f.membership(c, karen)
    may = f.published_meeting(c, starts_at=datetime.now(UTC) - timedelta(days=7))
    july = f.meeting(c, starts_at=datetime.now(UTC) + timedelta(days=50))
    agenda.add_item(may, title="Action plan")
    agenda.add_item(may, title="Commissioning priorities")
    f.user(Role.CLERK, email="clerk@example.org")
    f.user(Role.MEMBER, email="sue@example.org", person=sue)
    db.session.commit()
    return {
        "may": may,
        "july": july,
        "chair": chair,
        "sue": sue,
        "karen": karen,
        "substitute": substitute,
    }


def sign_in(page, base, email):
    page.goto(base + "/sign-in")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def click(page, name, role="button"):
    with page.expect_navigation():
        page.get_by_role(role, name=name, exact=True).first.click()


def test_record_minutes_update_action_and_approve(live_server, page, axe, s, db):
    base = live_server
    sign_in(page, base, "clerk@example.org")
    page.goto(f"{base}/meetings/{s['may'].id}/attendance")
    # Sam is no one on this committee: offered to add only once found by name.
    assert page.locator(f"#add_person option[value='{s['substitute'].id}']").count() == 0
    page.fill("#find-person", "Standin")
    page.keyboard.press("Enter")
    page.wait_for_url("**/attendance?q=Standin")
    page.select_option(f"#status-{s['chair'].id}", "present")
    page.check(f"#in_chair-{s['chair'].id}")
    page.select_option(f"#status-{s['sue'].id}", "present")
    page.select_option(f"#status-{s['karen'].id}", "apologies")
    page.select_option("#add_person", str(s["substitute"].id))
    click(page, "Save attendance")
    page.select_option(f"#status-{s['substitute'].id}", "substitute")
    page.select_option(f"#substitute_for-{s['substitute'].id}", str(s["karen"].id))
    click(page, "Save attendance")
    assert "Attendance saved" in page.content()
    assert not axe(page)

    page.goto(f"{base}/meetings/{s['may'].id}/minutes/edit")
    click(page, "Number the minutes")
    minutes = {m.title: m for m in db.session.scalars(select(Minute))}
    for title, text, resolution in [
        (
            "Action plan",
            "Sue Wilson presented the **action plan**.",
            "That the action plan be sent to all Partnership members.",
        ),
        (
            "Commissioning priorities",
            "The outturn was reported.",
            "That the commissioning proposals be noted.",
        ),
    ]:
        page.goto(f"{base}/minutes/{minutes[title].id}/edit")
        page.fill("#minute-text", text)
        click(page, "Save minute")
        page.get_by_text("Add a resolution").click()
        page.fill("#resolution-text", resolution)
        click(page, "Add resolution")
    assert not axe(page)
    page.goto(f"{base}/minutes/{minutes['Action plan'].id}/edit")
    page.get_by_text("Add an action").first.click()
    resolution_id = minutes["Action plan"].resolutions[0].id
    page.fill(f"#action-title-{resolution_id}", "Send the plan and collect feedback")
    page.select_option(f"#action-owner-{resolution_id}", str(s["sue"].id))
    click(page, "Add action")
    assert "Action added for Sue Wilson" in page.content()
    click(page, "Sign out")

    # The owner marks the action amber with a note.
    sign_in(page, base, "sue@example.org")
    page.goto(f"{base}/actions/mine")
    page.get_by_role("link", name="Send the plan and collect feedback").click()
    page.wait_for_load_state()
    page.fill("#note", "Sent to all members; waiting for two replies")
    page.check("input[name=rag][value=amber]")
    click(page, "Post the update")
    assert "Update posted" in page.content()
    action = db.session.scalar(select(Action))
    db.session.refresh(action)
    assert action.rag == Rag.AMBER
    click(page, "Sign out")

    # At the next meeting the clerk approves the minutes with an amendment.
    sign_in(page, base, "clerk@example.org")
    page.goto(f"{base}/meetings/{s['may'].id}/minutes/approve")
    page.select_option("#at_meeting_id", str(s["july"].id))
    page.fill("#amendments", "Subject to the inclusion of Karen Smith's apologies.")
    click(page, "Approve the minutes")
    content = page.content()
    assert "Approved" in content and "inclusion of Karen Smith" in content
    assert "Sam Standin (for Karen Smith)" in content
    assert "(in the Chair)" in content
    # The locked minute cannot be edited: no form, and a forced save is refused.
    page.goto(f"{base}/minutes/{minutes['Action plan'].id}/edit")
    assert page.locator("#minute-text").count() == 0
    assert "approved and locked" in page.content()
