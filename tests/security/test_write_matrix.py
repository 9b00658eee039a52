"""The write matrix: each write, in each state of a meeting, as each role, gives the same
outcome at every door (the web form and the API): allowed at both, or refused at both with
the same reason. The rules live in the services, so the doors cannot disagree; this checks
that none of them re-implements (or skips) a rule."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from app.agenda import services as agenda
from app.auth.services import issue_token
from app.extensions import db
from app.meetings import attendance
from app.meetings import services as meetings
from app.minutes import services as minutes
from app.models import MembershipRole, Minute, Role

STATES = ("draft", "published", "held", "circulated", "approved", "cancelled", "postponed")
ROLES = ("clerk", "member", "anonymous")
WRITES = ("add item", "attendance", "declaration", "venue")


def _meeting_in(state: str, f, committee):
    """A meeting of the committee in the given state, with one item and, once held, a draft
    minute on it."""
    past = state in ("held", "circulated", "approved")
    when = datetime.now(UTC) + (timedelta(days=-10) if past else timedelta(days=30))
    m = meetings.schedule_meeting(committee, when)
    item = agenda.add_item(m, title="Budget")
    if state != "draft":
        meetings.publish_agenda(m, now=when - timedelta(days=20))
    if past:
        meetings.set_status(m, "held")
        minutes.draft_minutes(m)
    if state in ("circulated", "approved"):
        minutes.publish_minutes(m)
    if state == "approved":
        later = meetings.schedule_meeting(committee, datetime.now(UTC) + timedelta(days=60))
        minutes.approve_minutes(m, later)
    if state in ("cancelled", "postponed"):
        meetings.set_status(m, state, f"{state.capitalize()} for want of business")
    return m, item


@pytest.fixture
def world(f):
    c = f.committee("Matrix Board")
    person = f.person("Sue Wilson")
    other = f.person("Karen Smith")
    f.membership(c, person, MembershipRole.MEMBER)
    f.membership(c, other, MembershipRole.MEMBER)
    users = {
        "clerk": f.user(Role.CLERK),
        "member": f.user(Role.MEMBER, person=person),
    }
    db.session.commit()
    return {"c": c, "person": person, "other": other, "users": users, "f": f}


def _web(client, write: str, m, item, w):
    other = w["other"]
    if write == "add item":
        return client.post(
            f"/meetings/{m.id}/agenda/items/new",
            data={"title": "Late item", "kind": "business", "visibility": "public"},
        )
    if write == "attendance":
        return client.post(f"/meetings/{m.id}/attendance", data={f"status-{other.id}": "present"})
    if write == "declaration":
        minute = db.session.scalars(db.select(Minute).filter_by(meeting_id=m.id)).first()
        if minute is None:
            return None  # no minute yet: the page has no declaration form to send
        return client.post(
            f"/minutes/{minute.id}/declarations",
            data={
                "declaration-person_id": str(other.id),
                "declaration-kind": "non_registrable",
                "declaration-nature": "Governor of a school",
            },
        )
    day = m.local_start.date()
    return client.post(
        f"/meetings/{m.id}/edit",
        data={
            "day": [str(day.day), str(day.month), str(day.year)],
            "starts": m.local_start.strftime("%H:%M"),
            "venue": "Another room",
            "version": str(m.version),
        },
    )


def _api(client, write: str, m, item, w, headers):
    other = w["other"]
    if write == "add item":
        return client.post(
            f"/api/v1/meetings/{m.id}/agenda-items",
            headers=headers,
            json={"title": "Late item", "visibility": "public"},
        )
    if write == "attendance":
        return client.put(
            f"/api/v1/meetings/{m.id}/attendance/{other.id}",
            headers=headers,
            json={"status": "present"},
        )
    if write == "declaration":
        return client.post(
            f"/api/v1/meetings/{m.id}/declarations",
            headers=headers,
            json={
                "person_id": other.id,
                "agenda_item_id": item.id,
                "kind": "non_registrable",
                "nature": "Governor of a school",
                "withdrew": False,
            },
        )
    return client.patch(f"/api/v1/meetings/{m.id}", headers=headers, json={"venue": "Another room"})


def _outcome(response, api: bool) -> tuple[str, str | None]:
    """('allowed' | 'refused' | 'forbidden', the reason a refusal gives)."""
    code = response.status_code
    if code in (301, 302, 303) and "/sign-in" in (response.location or ""):
        return "forbidden", None  # asked to sign in first
    if code < 400:
        return "allowed", None
    if code in (401, 403, 404):
        return "forbidden", None
    if api:
        return "refused", response.get_json().get("detail")
    page = unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))
    return "refused", page


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_every_door_gives_the_same_answer(app, db, world, state, role):
    from flask import g

    w = world
    user = w["users"].get(role)
    headers = {}
    if user is not None:
        headers = {"Authorization": f"Bearer {issue_token(user)}"}
        db.session.commit()
    outcomes = {}
    for write in WRITES:
        # A fresh meeting for each write and door, so one door's change never decides the
        # other's answer.
        answers = {}
        for door in ("web", "api"):
            m, item = _meeting_in(state, w["f"], w["c"])
            db.session.commit()
            g.pop("_login_user", None)
            web = app.test_client()
            if user is not None and door == "web":
                web.post("/sign-in", data={"email": user.email, "password": w["f"].PASSWORD})
            response = (
                _web(web, write, m, item, w)
                if door == "web"
                else _api(app.test_client(), write, m, item, w, headers)
            )
            g.pop("_login_user", None)
            db.session.rollback()
            if response is not None:
                answers[door] = _outcome(response, door == "api")
        outcomes[write] = answers
        if len(answers) < 2:
            continue
        (web_kind, web_text), (api_kind, api_reason) = answers["web"], answers["api"]
        assert web_kind == api_kind, (state, role, write, answers)
        if api_kind == "refused" and api_reason:
            assert api_reason in web_text, (state, role, write, api_reason)
    # Anchors, so a matrix of equal refusals everywhere cannot pass unnoticed.
    if role == "clerk" and state in ("draft", "published"):
        assert all(a["api"][0] == "allowed" for a in outcomes.values()), outcomes
    if role == "clerk" and state == "approved":
        assert all(kind == "refused" for a in outcomes.values() for kind, _ in a.values())
    if role != "clerk":
        assert all(kind == "forbidden" for a in outcomes.values() for kind, _ in a.values())


def test_a_refusal_leaves_nothing_behind(world):
    """The approved record, refused at the service, is as it was."""
    w = world
    m, _item = _meeting_in("approved", w["f"], w["c"])
    db.session.commit()
    before = (m.version, m.venue, len(m.attendance), len(m.declarations), len(m.items))
    for attempt in (
        lambda: agenda.add_item(m, title="Late item"),
        lambda: attendance.set_attendance(m, w["other"], "present"),
        lambda: meetings.reschedule(m, venue="Another room"),
    ):
        with pytest.raises(Exception, match="approved and locked"):
            attempt()
        db.session.rollback()
    assert (m.version, m.venue, len(m.attendance), len(m.declarations), len(m.items)) == before
