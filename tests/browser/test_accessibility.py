"""Every page type of the foundation, audited with axe-core in Chromium, and usable by
keyboard."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.agenda import publication as agenda_publication
from app.agenda import services as agenda
from app.demo.loader import SLUG, load_demo
from app.meetings import services as meetings
from app.models import Action, Attendance, AttendanceStatus, Committee, Minute

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(db):
    load_demo()
    # The demo's meetings are all in 2013-14; a member's journey needs one still to come.
    committee = db.session.scalar(select(Committee).where(Committee.slug == SLUG))
    coming = meetings.schedule_meeting(committee, datetime.now(UTC) + timedelta(days=14))
    agenda.add_item(coming, title="Early help strategy")
    agenda_publication.publish_agenda(coming, now=coming.starts_at - timedelta(days=10))
    db.session.commit()
    may = db.session.scalar(select(Minute).where(Minute.number == 208)).meeting
    action = db.session.scalars(select(Action).order_by(Action.id)).first()
    return {"may": may.id, "coming": coming.id, "action": action.id}


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
        f"/meetings/{demo['coming']}/",
        "/decisions/",
        "/search?q=safeguarding",  # results
        "/search?q=zzzz-no-such-words",  # none
        "/actions/",
        f"/actions/{demo['action']}",
        "/sign-in",
        "/accessibility",
        "/no-such-page",
        "/meetings/999999/",
    ]
    for path in urls:
        response = page.goto(live_server + path)
        not_found = path in ("/no-such-page", "/meetings/999999/")
        assert response.status == (404 if not_found else 200), path
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
    violations = axe(page)
    assert not violations, describe(violations)


def test_member_and_clerk_pages_have_no_serious_violations(live_server, page, axe, demo):
    page.goto(live_server + "/sign-in")
    page.fill("#email", "member@example.org")
    page.fill("#password", "demo-member-password")
    with page.expect_navigation():
        page.click("button[type=submit]")
    for path in (
        "/my-meetings",
        "/actions/mine",
        f"/actions/{demo['action']}",
        "/account/calendar",
        f"/meetings/{demo['may']}/",
        f"/meetings/{demo['coming']}/",
        "/search?q=safeguarding",
    ):
        assert page.goto(live_server + path).status == 200, path
        violations = axe(page)
        assert not violations, f"{path}:\n{describe(violations)}"


# What makes focus visible: an outline, a box shadow (GOV.UK's underline bar) or a background
# (GOV.UK's yellow). A change of text colour or underline alone is too slight to count.
FOCUS_STYLE = """el => {
  const s = getComputedStyle(el);
  const outline = s.outlineStyle === "none" || parseFloat(s.outlineWidth) === 0
    ? "none" : `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`;
  return [outline, s.boxShadow, s.backgroundColor].join("|");
}"""


def focus_is_visible(page) -> tuple[bool, str]:
    """Compare the focused element's look with its look after blur, then give focus back."""
    return page.evaluate(
        """style => {
          const el = document.activeElement;
          const look = eval(style);
          const focused = look(el);
          el.blur();
          const unfocused = look(el);
          el.focus();
          const name = `${el.tagName} ${(el.textContent || el.id || "").trim().slice(0, 40)}`;
          return [focused !== unfocused && look(el) === focused, name];
        }""",
        FOCUS_STYLE,
    )


def tab_to(page, matches: str, key: str = "Tab", limit: int = 60) -> None:
    """Press Tab (or Shift+Tab) until the focused element satisfies the JS predicate `matches`,
    checking that every element focused on the way shows that it has focus."""
    for _ in range(limit):
        page.keyboard.press(key)
        visible, name = focus_is_visible(page)
        assert visible, f"no visible focus on {name} ({page.url})"
        if page.evaluate(f"({matches})(document.activeElement)"):
            return
    raise AssertionError(f"{key} never reached {matches} on {page.url}")


def press_and_load(page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)
    # The page's scripts may move focus (a success banner takes it), so let them run first.
    page.wait_for_load_state("networkidle")


def test_member_sends_apologies_by_keyboard_alone(live_server, page, demo, db):
    page.goto(live_server + "/sign-in")
    tab_to(page, "el => el.id === 'email'")
    page.keyboard.type("member@example.org")
    tab_to(page, "el => el.id === 'password'")
    page.keyboard.type("demo-member-password")
    press_and_load(page, "Enter")
    assert "Signed in as Sue Wilson" in page.content()

    # Focus is on the "Signed in" banner in the main content; the menu is behind it.
    tab_to(page, "el => el.textContent.trim() === 'My meetings'", key="Shift+Tab")
    press_and_load(page, "Enter")
    assert page.url.endswith("/my-meetings")

    coming = f"/meetings/{demo['coming']}/"
    tab_to(page, f"el => el.getAttribute('href') === '{coming}'")
    press_and_load(page, "Enter")
    assert page.url.endswith(coming)

    tab_to(page, "el => el.textContent.trim() === 'Send my apologies'")
    press_and_load(page, "Space")
    assert "Your apologies have been sent to the clerk" in page.content()
    db.session.expire_all()
    sent = db.session.scalars(
        select(Attendance).where(Attendance.meeting_id == demo["coming"])
    ).all()
    assert [(a.person.name, a.status) for a in sent] == [("Sue Wilson", AttendanceStatus.APOLOGIES)]
