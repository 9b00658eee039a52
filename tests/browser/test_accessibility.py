"""Every page type of the foundation, audited with axe-core in Chromium, and usable by
keyboard."""

import pytest
from sqlalchemy import select

from app.demo.loader import load_demo
from app.models import Minute

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(db):
    load_demo()
    db.session.commit()
    may = db.session.scalar(select(Minute).where(Minute.number == 208)).meeting
    return {"may": may.id}


def describe(violations):
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} - {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
    )


def test_public_pages_have_no_serious_violations(live_server, page, axe, demo):
    urls = [
        "/",
        "/committees/",
        "/committees/children-young-people-and-families-partnership/",
        f"/meetings/{demo['may']}/",
        "/sign-in",
        "/accessibility",
        "/no-such-page",
    ]
    for path in urls:
        page.goto(live_server + path)
        assert page.title().endswith("Minutebook")
        violations = axe(page)
        assert not violations, f"{path}:\n{describe(violations)}"


def test_skip_link_is_first_and_sign_in_works_by_keyboard(live_server, page, demo):
    page.goto(live_server + "/sign-in")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    page.keyboard.press("Enter")
    page.focus("#email")
    page.keyboard.type("clerk@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("demo-clerk-password")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Signed in as Demo Clerk" in page.content()
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert "You have signed out" in page.content()


def test_wrong_password_shows_an_error_summary(live_server, page, axe, demo):
    page.goto(live_server + "/sign-in")
    page.fill("#email", "clerk@example.org")
    page.fill("#password", "not the password")
    page.click("button[type=submit], input[type=submit]")
    summary = page.locator(".govuk-error-summary")
    assert "Enter a correct email address and password" in summary.inner_text()
    assert not axe(page)


def test_member_and_clerk_pages_have_no_serious_violations(live_server, page, axe, demo):
    page.goto(live_server + "/sign-in")
    page.fill("#email", "member@example.org")
    page.fill("#password", "demo-member-password")
    with page.expect_navigation():
        page.click("button[type=submit]")
    for path in ("/actions/mine", "/account/calendar", f"/meetings/{demo['may']}/"):
        page.goto(live_server + path)
        violations = axe(page)
        assert not violations, f"{path}:\n{describe(violations)}"
