"""Approved minutes never change, yet an action arising from them stays correctable (it is
tracking data). The minutes, on the meeting page and in the minutes PDF, keep saying what was
approved and tell the reader a correction was made since; the tracker and the action's page
show the corrected values."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from app.actions import services
from app.models import MinutesState, Role
from tests.factories import with_minutes_state


@pytest.fixture
def approved(db, f):
    c = f.committee("Corrections Board")
    sue = f.member_user(c)
    sue.person.name = "Sue Wilson"
    karen = f.person("Karen Smith")
    meeting = f.published_meeting(c)
    minute = f.minute(meeting, 212, "Action plan")
    resolution = f.resolution(minute, "That the action plan be sent to all members.")
    action = services.create_from_resolution(
        resolution, "Send the action plan", sue.person_id, date(2026, 6, 14)
    )
    clerk = f.user(Role.CLERK)
    # A correction before approval is what the minutes then approve.
    services.correct_action(action, clerk, title="Send the action plan to members")
    with_minutes_state(meeting, MinutesState.APPROVED)
    services.correct_action(action, clerk, owner_id=karen.id, due_date=date(2026, 9, 1))
    db.session.commit()
    return meeting, action, clerk


def test_the_minutes_keep_what_was_approved(db, approved):
    _meeting, action, _clerk = approved
    minuted = services.as_minuted([action])[action.id]
    assert minuted.title == "Send the action plan to members"
    assert (minuted.owner, minuted.due_date) == ("Sue Wilson", date(2026, 6, 14))
    assert minuted.corrected_since_approval
    assert (action.owner.display_name, action.due_date) == ("Karen Smith", date(2026, 9, 1))


def test_an_action_of_minutes_not_yet_approved_reads_as_it_is(db, f):
    c = f.committee()
    owner = f.member_user(c)
    resolution = f.resolution(f.minute(f.meeting(c), 3, "Budget"), "That the budget be set.")
    action = services.create_from_resolution(resolution, "Set it", owner.person_id)
    services.correct_action(action, f.user(Role.CLERK), due_date=date(2026, 3, 1))
    minuted = services.as_minuted([action])[action.id]
    assert minuted.due_date == date(2026, 3, 1) and not minuted.corrected_since_approval


def test_the_meeting_page_and_the_action_page(client, sign_in, approved):
    meeting, action, clerk = approved
    sign_in(clerk)
    page = " ".join(client.get(f"/meetings/{meeting.id}/").get_data(as_text=True).split())
    assert "Send the action plan to members \u2013 Sue Wilson, by Sunday 14 June 2026" in page
    assert "corrected since the minutes were approved" in page
    assert f"/actions/{action.id}" in page
    own = client.get(f"/actions/{action.id}").get_data(as_text=True)
    assert "Karen Smith" in own and "1 September 2026" in own


def test_the_minutes_pdf_prints_what_was_approved(client, sign_in, approved):
    meeting, _action, clerk = approved
    sign_in(clerk)
    response = client.get(f"/meetings/{meeting.id}/minutes.pdf")
    assert response.status_code == 200, response.status_code
    text = " ".join(
        " ".join((page.extract_text() or "").split())
        for page in PdfReader(io.BytesIO(response.data)).pages
    )
    assert "Sue Wilson" in text and "Karen Smith" not in text
