"""The meeting page costs the same number of queries whatever the size of the meeting: its
items, sub-items, papers, presenters, attendance, declarations, minutes, resolutions, named
votes and actions are each loaded in one go, never one at a time (issue 17 counted 238
queries for 40 items and 100 attendees)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from app.actions import services as actions
from app.agenda import services as agenda
from app.agenda.publication import publish_agenda
from app.meetings import attendance
from app.meetings import services as meetings
from app.minutes import services as minutes
from app.models import MembershipRole, Role


def _meeting(f, items: int, people: int):
    c = f.committee(f"Council of {items} items")
    members = [f.person(f"Councillor {n}") for n in range(people)]
    for p in members:
        f.membership(c, p, MembershipRole.MEMBER)
    m = meetings.schedule_meeting(c, datetime.now(UTC) - timedelta(days=2))
    for n in range(items):
        item = agenda.add_item(
            m, title=f"Report {n}", purpose="To decide.", presenter_text="Officer"
        )
        agenda.add_item(m, title=f"Appendix of {n}", parent=item)
    publish_agenda(m, now=datetime.now(UTC) - timedelta(days=20), late_reason=None)
    for p in members:
        attendance.set_attendance(m, p, "present")
    for n, minute in enumerate(minutes.draft_minutes(m)):
        if minute.item is not None and minute.item.parent_id is None:
            attendance.add_declaration(
                m, minute.item.id, members[n % people], "non_registrable", "Governor"
            )
            r = minutes.add_resolution(
                minute,
                "That the report be agreed.",
                named_votes=[(p.id, "for") for p in members[:5]],
            )
            actions.create_from_resolution(r, f"Do {n}", members[0].id)
    minutes.publish_minutes(m)
    return m


def _queries(app, client, path: str, headers=None) -> int:
    from flask import g

    from app.extensions import db

    g.pop("_login_user", None)  # loaded afresh, as by a request of its own
    count = 0

    def seen(_conn, _cursor, statement, *_args):
        nonlocal count
        count += 1
        import os

        if os.environ.get("SHOW_QUERIES"):
            print("Q", " ".join(statement.split())[:160])

    engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        response = client.get(path, headers=headers or {})
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert response.status_code == 200
    return count


@pytest.mark.parametrize("role", ["clerk", "anonymous"])
def test_the_meeting_page_does_not_load_row_by_row(app, db, f, client, sign_in, role):
    small = _meeting(f, items=2, people=3)
    large = _meeting(f, items=12, people=30)
    if role == "clerk":
        clerk = f.user(Role.CLERK)
        db.session.commit()
        sign_in(clerk)
    db.session.commit()
    small_id, large_id = small.id, large.id
    # Nothing already loaded: the page loads what it shows, as a request of its own would.
    db.session.expunge_all()
    few = _queries(app, client, f"/meetings/{small_id}/")
    db.session.expunge_all()
    many = _queries(app, client, f"/meetings/{large_id}/")
    assert many <= few, (few, many)


@pytest.mark.parametrize("role", ["clerk", "anonymous"])
def test_the_apis_agenda_items_do_not_load_row_by_row(app, db, f, client, role):
    """The working copy (clerks) and the published revision (everyone else) alike."""
    from app.auth.services import issue_token

    small = _meeting(f, items=2, people=3)
    large = _meeting(f, items=12, people=3)
    for m in (small, large):
        for item in m.items[:3]:
            agenda.update_item(item, presenter_id=f.person(f"Officer of {item.id}").id)
    headers = {}
    if role == "clerk":
        headers = {"Authorization": f"Bearer {issue_token(f.user(Role.CLERK))}"}
    db.session.commit()
    small_id, large_id = small.id, large.id
    db.session.expunge_all()
    few = _queries(app, client, f"/api/v1/meetings/{small_id}/agenda-items", headers)
    db.session.expunge_all()
    many = _queries(app, client, f"/api/v1/meetings/{large_id}/agenda-items", headers)
    assert many <= few, (few, many)
