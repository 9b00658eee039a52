"""Issue 16's journey in a real browser: a clerk uploads a health and wellbeing board's action
plan (an XLSX with its own headings), says what the heading Minutebook does not know is,
imports it, and finds the committee's tracker grouped by the plan's themes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Action, Role
from tests.actions.test_plan_import import HWB_HEADINGS, HWB_ROWS, _xlsx
from tests.browser.test_meeting_record import click, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def s(db, f):
    c = f.committee("Rotherham Health and Wellbeing Board")
    f.user(Role.CLERK, email="clerk@example.org")
    f.person("Kate Green")
    db.session.commit()
    return {"c": c}


def test_import_an_action_plan_with_mapped_headings(live_server, page, axe, s, db, tmp_path):
    base = live_server
    plan_file = tmp_path / "HWB action plan.xlsx"
    plan_file.write_bytes(_xlsx(HWB_HEADINGS, HWB_ROWS))
    sign_in(page, base, "clerk@example.org")
    page.goto(f"{base}/committees/{s['c'].slug}/")
    click(page, "Import an action plan", role="link")
    page.set_input_files("input[type=file]", str(plan_file))
    click(page, "Preview")

    summary = page.locator("#plan-summary")
    assert "4 to add, 0 to update, 0 left as they are" in summary.inner_text()
    assert "Kate Green: an existing person, found by name" in page.inner_text("#plan-leads")
    assert "Dr Richard Cullen: a new person, to be added" in page.inner_text("#plan-leads")
    assert axe(page) == []
    # The heading Minutebook does not know, said to be the targets.
    impact = page.get_by_label("Expected impact")
    assert impact.input_value() == "ignore"
    impact.select_option("target")
    click(page, "Preview again with these columns")
    assert page.get_by_label("Expected impact").input_value() == "target"
    assert page.get_by_label("Board sponsor").input_value() == "ignore"
    assert db.session.scalars(select(Action)).all() == []
    click(page, "Import the plan")

    banner = page.locator(".govuk-notification-banner").inner_text()
    assert "4 actions added, 0 updated, 0 left as they were; 3 people added" in banner
    assert "committee=" in page.url
    caption = page.locator("caption").first.inner_text()
    assert caption == "Actions by theme, then by due date"
    groups = page.locator("th[scope=rowgroup]").all_inner_texts()
    assert groups == ["Living well", "Starting well"]
    starting = page.locator("tbody", has=page.locator("th", has_text="Starting well"))
    assert "Reduce smoking in pregnancy" in starting.inner_text()
    assert axe(page) == []

    click(page, "Reduce smoking in pregnancy", role="link")
    details = page.locator(".govuk-summary-list").inner_text()
    for text in ("Starting well", "Joanna Saunders", "Dr Richard Cullen", "below 18%"):
        assert text in details
    db.session.expire_all()
    action = db.session.scalars(
        select(Action).where(Action.title == "Reduce smoking in pregnancy")
    ).one()
    assert action.target_measure == "Smoking at delivery below 18%"
