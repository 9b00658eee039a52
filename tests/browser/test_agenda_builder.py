"""Issue 3's journey in a real browser: a clerk schedules a meeting, builds its agenda with a
sub-item, an exempt item and a paper, reorders it and publishes; axe audits the builder and
the public page."""

from datetime import date, timedelta

import pytest

from app.models import Committee, MembershipRole, Regime, Role
from tests.factories import PASSWORD
from tests.pdfs import make_pdf

pytestmark = pytest.mark.browser


@pytest.fixture
def setup(db, f, tmp_path):
    committee = f.committee(
        "Audit Committee",
        regime=Regime.PRINCIPAL,
        default_venue="Town Hall",
        sections=["For Decision", "For Information"],
    )
    f.membership(committee, f.person("Lakin", honorific="Councillor"), MembershipRole.CHAIR)
    clerk = f.user(Role.CLERK, email="clerk@example.org", name="Jo Clerk")
    db.session.commit()
    paper = tmp_path / "valuation.pdf"
    paper.write_bytes(make_pdf(3, "Valuation of land at Moorgate"))
    return {"committee": committee, "clerk": clerk, "paper": paper}


def sign_in(page, base):
    page.goto(base + "/sign-in")
    page.fill("#email", "clerk@example.org")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def fill_date(page, name, day: date):
    page.fill(f"#{name}-day", str(day.day))
    page.fill(f"#{name}-month", str(day.month))
    page.fill(f"#{name}-year", str(day.year))


def submit(page, label):
    with page.expect_navigation():
        page.get_by_role("button", name=label).click()


def add_item(page, base, meeting_url, title, **extra):
    page.goto(base + meeting_url.replace("/agenda", "/agenda/items/new") + extra.pop("q", ""))
    page.fill("#title", title)
    if "section" in extra:
        page.select_option("#section", extra["section"])
    if extra.get("exempt"):
        page.check("input[name=visibility][value=exempt]")
        page.check("input[name=exempt_paragraphs][value='3']")
        page.fill("#public_interest_reason", "Negotiations with the buyer are continuing.")
    submit(page, "Save item")


def titles(page):
    return [t.strip() for t in page.locator(".mb-agenda__item .mb-agenda__title").all_inner_texts()]


def test_clerk_builds_and_publishes_an_agenda(live_server, page, axe, setup, db):
    base = live_server
    sign_in(page, base)
    page.goto(base + "/committees/audit-committee/")
    page.get_by_role("link", name="Schedule a meeting").click()
    fill_date(page, "day", date.today() + timedelta(days=30))
    page.fill("#starts", "2pm")
    submit(page, "Save")
    assert "/agenda" in page.url
    builder = page.url.removeprefix(base)
    assert "Publication deadline" in page.content()

    submit(page, "Start from the standard items")
    add_item(page, base, builder, "Budget monitoring", section="For Decision")
    budget_id = page.url.split("#item-")[1]
    add_item(page, base, builder, "Capital programme", q=f"?parent={budget_id}")
    add_item(page, base, builder, "Land at Moorgate", exempt=True)
    assert titles(page)[-2:] == ["Exclusion of the press and public", "Land at Moorgate"]

    # Upload the paper to the exempt item.
    page.locator("#agenda-items li", has_text="Land at Moorgate").get_by_role(
        "link", name="Upload a paper"
    ).click()
    page.fill("#title", "Valuation report")
    page.set_input_files("#file", str(setup["paper"]))
    submit(page, "Upload paper")
    assert "Uploaded Valuation report (3 pages)" in page.content()

    # Reorder with the buttons: Budget moves above Matters arising.
    before = titles(page)
    page.locator(f"#item-{budget_id}").get_by_role("button", name="Move up").click()
    page.wait_for_load_state()
    after = titles(page)
    assert after.index("Budget monitoring") == before.index("Budget monitoring") - 1

    violations = axe(page)
    assert not violations, violations

    submit(page, "Publish the agenda")
    assert "Agenda published (revision 1)" in page.content()

    # A later item is a change not yet published, listed before the supplement goes out. It
    # joins its section (after Budget monitoring, item 4), not a second "For Decision".
    add_item(page, base, builder, "Flood response", section="For Decision")
    content = page.content()
    assert "1 change not yet published." in content
    assert "Added item 5: Flood response" in page.locator("#unpublished-changes").inner_text()
    assert titles(page).index("Flood response") == titles(page).index("Capital programme") + 1
    violations = axe(page)
    assert not violations, violations
    submit(page, "Publish revision 2")
    assert "Agenda published (revision 2)" in page.content()

    # The public sees the exempt title and paragraph, never the paper.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    page.goto(base + builder.replace("/agenda", "/"))
    content = page.content()
    assert "Land at Moorgate" in content and "NOT FOR PUBLICATION" in content
    assert "paragraph 3" in content and "Valuation report" not in content
    assert "Capital programme" in content and "Budget monitoring" in content
    assert "Revision 2" in content and "Added item 5: Flood response" in content
    assert not axe(page)
    committee = db.session.get(Committee, setup["committee"].id)
    assert committee is not None


def test_drag_and_drop_reorders_top_level_items(live_server, page, setup, db, f):
    m = f.meeting(setup["committee"])
    for t in ("First", "Second", "Third"):
        f.item(m, t)
    db.session.commit()
    sign_in(page, live_server)
    page.goto(f"{live_server}/meetings/{m.id}/agenda")
    items = page.locator("#agenda-items .mb-agenda__item")
    with page.expect_navigation():
        items.nth(2).drag_to(items.nth(0))
    page.goto(f"{live_server}/meetings/{m.id}/agenda")
    assert titles(page) == ["Third", "First", "Second"]
