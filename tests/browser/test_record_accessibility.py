"""The clerk's record pages changed for issue 5 (minute-taking with named votes and item
navigation, deleting a draft minute, the attendance register, quick updates on "My actions"),
audited with axe-core in Chromium and usable without JavaScript."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.agenda import services as agenda
from app.demo.loader import SLUG, load_demo
from app.meetings import services as meetings
from app.minutes import services as minutes
from app.models import Action, Committee, Minute

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(db):
    load_demo()
    minute = db.session.scalar(select(Minute).where(Minute.number == 209))
    # A meeting whose minutes are still a draft, so the edit form and the vote radios show.
    committee = db.session.scalar(select(Committee).where(Committee.slug == SLUG))
    coming = meetings.schedule_meeting(committee, datetime.now(UTC) + timedelta(days=14))
    for title in ("Early help strategy", "Any other business"):
        agenda.add_item(coming, title=title)
    draft = minutes.draft_minutes(coming)[0]
    db.session.commit()
    return {
        "minute": minute.id,
        "meeting": minute.meeting_id,
        "draft": draft.id,
        "action": db.session.scalars(select(Action).order_by(Action.id)).first().id,
    }


def test_record_pages_have_no_serious_violations(live_server, page, axe, demo):
    page.goto(live_server + "/sign-in")
    page.fill("#email", "clerk@example.org")
    page.fill("#password", "demo-clerk-password")
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(live_server + f"/minutes/{demo['draft']}/edit")
    assert page.locator("fieldset legend", has_text="Councillor").count() > 0  # vote radios
    for path in (
        f"/minutes/{demo['minute']}/edit",
        f"/minutes/{demo['draft']}/edit",
        f"/minutes/{demo['draft']}/delete",
        f"/meetings/{demo['meeting']}/attendance",
        "/actions/mine",
    ):
        assert page.goto(live_server + path).status == 200, path
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        violations = axe(page)
        assert not violations, (
            path
            + ":\n"
            + "\n".join(
                f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']][:3]}"
                for v in violations
            )
        )
