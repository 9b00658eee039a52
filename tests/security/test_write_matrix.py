"""The write matrix: each write of the meeting's record, in each state of a meeting, as each
role, gives the same outcome at every door (the web form and the API): allowed at both, or
refused at both with the same reason. The rules live in the services, so the doors cannot
disagree; this checks that none of them re-implements (or skips) a rule.

No CLI command writes to a meeting's record (users, tokens, demo load and packs build are the
commands), so the web form and the API are the doors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser

import pytest

from app.agenda import services as agenda
from app.agenda.publication import publication_deadline_of, publish_agenda
from app.auth.services import issue_token
from app.extensions import db
from app.meetings import attendance
from app.meetings import services as meetings
from app.minutes import services as minutes
from app.models import MembershipRole, Minute, Role

STATES = ("draft", "published", "held", "circulated", "approved", "cancelled", "postponed")
# An outsider is a member of another committee: signed in, not staff, not serving here.
ROLES = ("clerk", "member", "outsider", "anonymous")
WRITES = (
    "add item",
    "attendance",
    "declaration",
    "venue",
    "apologies",
    "resolution",
    "minute",
    "publish",
    "publish late",
    "status",
)
LATE_REASON = "The auditors' report arrived after the deadline."


def _meeting_in(state: str, f, committee):
    """A meeting of the committee in the given state, with an item and, once published, a
    second one added since (so publishing again is a supplement with something in it); once
    held, draft minutes."""
    past = state in ("held", "circulated", "approved")
    when = datetime.now(UTC) + (timedelta(days=-10) if past else timedelta(days=30))
    m = meetings.schedule_meeting(committee, when)
    item = agenda.add_item(m, title="Budget")
    if state != "draft":
        publish_agenda(m, now=when - timedelta(days=20))
        agenda.add_item(m, title="Supplementary report")
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
    outsider = f.person("Rob Jones")
    f.membership(c, person, MembershipRole.MEMBER)
    f.membership(c, other, MembershipRole.MEMBER)
    f.membership(f.committee("Another Board"), outsider, MembershipRole.MEMBER)
    users = {
        "clerk": f.user(Role.CLERK),
        "member": f.user(Role.MEMBER, person=person),
        "outsider": f.user(Role.MEMBER, person=outsider),
    }
    db.session.commit()
    return {"c": c, "person": person, "other": other, "users": users, "f": f}


def _minute_of(m) -> Minute | None:
    return db.session.scalars(
        db.select(Minute).filter_by(meeting_id=m.id).order_by(Minute.number)
    ).first()


# What each page's form sends, field by field as a browser sends it (empty boxes included);
# test_the_matrix_sends_what_the_pages_offer reads the same names back from the pages.


def _resolution_form(minute, w) -> dict:
    return {
        "resolution-text": "That the budget be approved.",
        "resolution-kind": "resolved",
        "resolution-recommended_to": "",
        "resolution-votes_for": "",
        "resolution-votes_against": "",
        "resolution-abstentions": "",
        f"vote-{w['other'].id}": "for",
        "resolution-submit": "Add resolution",
    }


def _minute_form(minute) -> dict:
    return {
        "minute-title": minute.title,
        "minute-text": "The Board noted the budget.",
        "minute-version": str(minute.version),
        "minute-submit": "Save minute",
    }


def _publish_form(late_reason: str | None) -> dict:
    # The page asks for a reason only once the deadline has passed.
    form = {"summary": "", "submit": "Publish the agenda"}
    return form if late_reason is None else {"late_reason": late_reason, **form}


def _late(m) -> bool:
    from app.core.db import utcnow

    return publication_deadline_of(m).is_late(utcnow())


def _status_form(m) -> dict:
    return {
        "status": "cancelled",
        "status_reason": "Not quorate",
        "version": str(m.version),
        "submit": "Change status",
    }


def _web(client, write: str, m, item, w):
    """The web door's response, or None where the pages offer no way to make the write."""
    other = w["other"]
    if write == "add item":
        return client.post(
            f"/meetings/{m.id}/agenda/items/new",
            data={"title": "Late item", "kind": "business", "visibility": "public"},
        )
    if write == "attendance":
        return client.post(f"/meetings/{m.id}/attendance", data={f"status-{other.id}": "present"})
    if write == "declaration":
        minute = _minute_of(m)
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
    if write == "venue":
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
    if write == "apologies":
        # The meeting page's "Send my apologies" button: a form with nothing but its token.
        return client.post(f"/meetings/{m.id}/apologies", data={})
    if write == "resolution":
        minute = _minute_of(m)
        if minute is None:
            return None  # nothing to resolve on, at either door
        return client.post(f"/minutes/{minute.id}/resolutions", data=_resolution_form(minute, w))
    if write == "minute":
        minute = _minute_of(m)
        if minute is None:
            # The minutes page's "Number the minutes" first, then the item's minute.
            response = client.post(f"/meetings/{m.id}/minutes/draft", data={})
            if _outcome(client, response, api=False)[0] != "allowed":
                return response
            db.session.rollback()
            minute = _minute_of(m)
        return client.post(f"/minutes/{minute.id}/edit", data=_minute_form(minute))
    if write == "publish":
        return client.post(
            f"/meetings/{m.id}/publish", data=_publish_form("" if _late(m) else None)
        )
    if write == "publish late":
        if not _late(m):
            return None  # on time, the page has no reason to give
        return client.post(f"/meetings/{m.id}/publish", data=_publish_form(LATE_REASON))
    assert write == "status"
    return client.post(f"/meetings/{m.id}/status", data=_status_form(m))


def _api(client, write: str, m, item, w, user, headers):
    """The API's response, or None where the API has no call for the write."""
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
    if write == "venue":
        return client.patch(
            f"/api/v1/meetings/{m.id}", headers=headers, json={"venue": "Another room"}
        )
    if write == "apologies":
        if user is None:
            person_id = w["person"].id  # on a member's behalf, without signing in
        elif user.person_id is None:
            return None  # a clerk with no person has no apologies of their own to send
        else:
            person_id = user.person_id
        return client.put(
            f"/api/v1/meetings/{m.id}/attendance/{person_id}",
            headers=headers,
            json={"status": "apologies"},
        )
    if write == "resolution":
        minute = _minute_of(m)
        if minute is None:
            return None
        return client.post(
            f"/api/v1/minutes/{minute.id}/resolutions",
            headers=headers,
            json={
                "text": "That the budget be approved.",
                "kind": "resolved",
                "votes": [{"person_id": other.id, "vote": "for"}],
            },
        )
    if write == "minute":
        # One call numbers the minutes when there are none yet, and writes the item's.
        minute = _minute_of(m)
        body = {"text": "The Board noted the budget."}
        if minute is not None:
            body["version"] = minute.version
        return client.put(f"/api/v1/agenda-items/{item.id}/minute", headers=headers, json=body)
    if write == "publish":
        return client.post(f"/api/v1/meetings/{m.id}/publish", headers=headers, json={})
    if write == "publish late":
        if not _late(m):
            return None
        return client.post(
            f"/api/v1/meetings/{m.id}/publish", headers=headers, json={"late_reason": LATE_REASON}
        )
    assert write == "status"
    return client.patch(
        f"/api/v1/meetings/{m.id}",
        headers=headers,
        json={"status": "cancelled", "status_reason": "Not quorate", "version": m.version},
    )


def _flashes(client) -> list[tuple[str, str]]:
    """Take the messages a redirect left for the next page (so none reaches a later page)."""
    with client.session_transaction() as session:
        return session.pop("_flashes", [])


def _outcome(client, response, api: bool) -> tuple[str, str | None]:
    """('allowed' | 'refused' | 'forbidden', the reason a refusal gives: the problem's detail
    at the API, the page's text at the web)."""
    flashed = [] if api else _flashes(client)
    code = response.status_code
    if code in (301, 302, 303) and "/sign-in" in (response.location or ""):
        return "forbidden", None  # asked to sign in first
    if code in (301, 302, 303):
        errors = [message for category, message in flashed if category == "error"]
        # A page that redirects shows its refusal on the next page, as an error banner.
        return ("refused", " ".join(errors)) if errors else ("allowed", None)
    if code < 400:
        return "allowed", None
    if api:
        detail = (response.get_json() or {}).get("detail")
        return ("forbidden" if code in (401, 403, 404) else "refused"), detail
    if code in (401, 403, 404):
        return "forbidden", None
    return "refused", unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def _agree(web, api) -> bool:
    """Both doors allowed, or both refused with the API's reason on the page. A page that
    redirects says "no" in a banner whether the rule is about the meeting (409) or about who
    asks (403), so there the API's reason decides."""
    (web_kind, web_text), (api_kind, api_reason) = web, api
    if web_kind == "refused" and api_kind == "forbidden" and api_reason:
        return api_reason in web_text
    if web_kind != api_kind:
        return False
    return not (api_kind == "refused" and api_reason and api_reason not in web_text)


def _answers(app, w, state: str, role: str) -> dict[str, dict[str, tuple[str, str | None]]]:
    """Every write at every door, in one state, as one role: write -> door -> outcome."""
    from flask import g

    user = w["users"].get(role)
    headers = {}
    if user is not None:
        headers = {"Authorization": f"Bearer {issue_token(user)}"}
        db.session.commit()
    web = app.test_client()
    if user is not None:
        web.post("/sign-in", data={"email": user.email, "password": w["f"].PASSWORD})
        g.pop("_login_user", None)
    outcomes, m = {}, None
    for write in WRITES:
        answers = {}
        for door in ("web", "api"):
            if m is None:
                # A fresh meeting after each door that let the write through or refused it, so
                # one door's change never decides the other's answer; a door that turned the
                # caller away changed nothing, and its meeting serves the next one.
                m, item = _meeting_in(state, w["f"], w["c"])
                db.session.commit()
            if door == "web":
                response = _web(web, write, m, item, w)
            else:
                response = _api(app.test_client(), write, m, item, w, user, headers)
            g.pop("_login_user", None)
            db.session.rollback()
            if response is not None:
                answers[door] = _outcome(web, response, door == "api")
                if answers[door][0] != "forbidden":
                    m = None
        outcomes[write] = answers
    return outcomes


# Anchors, so a matrix of equal refusals everywhere cannot pass unnoticed: (write, state,
# role) -> the outcome every door gives, and a few words of the reason a refusal gives.
LOCKED = "approved and locked"
LATE = "Give the reason it is published late"
NOT_MEMBER = "Only members of this committee can send apologies"
# Who asks, not the meeting: 403 at the API, and the same banner as any refusal on the page.
NOT_ALLOWED = ("refused", "forbidden")
ANCHORS = {
    # Clerks write to meetings in preparation; nobody to an approved record.
    **{
        (write, state, "clerk"): ("allowed", None)
        for write in ("add item", "attendance", "venue", "status", "minute", "publish")
        for state in ("draft", "published")
    },
    **{
        (write, "approved", "clerk"): ("refused", LOCKED)
        for write in WRITES
        if write != "apologies"
    },
    # Apologies: a member's own, for a meeting still to come; not for one held, called off,
    # or whose record is approved; a clerk serves on no committee here.
    ("apologies", "draft", "member"): ("allowed", None),
    ("apologies", "published", "member"): ("allowed", None),
    ("apologies", "held", "member"): ("refused", "already started"),
    ("apologies", "circulated", "member"): ("refused", "already started"),
    ("apologies", "approved", "member"): ("refused", LOCKED),
    ("apologies", "cancelled", "member"): ("refused", "cancelled"),
    ("apologies", "postponed", "member"): ("refused", "postponed"),
    **{
        ("apologies", state, role): (NOT_ALLOWED, NOT_MEMBER)
        for state in STATES
        for role in ("clerk", "outsider")
    },
    # Resolutions and minutes once held, while the minutes are drafts or circulated.
    **{
        (write, state, "clerk"): ("allowed", None)
        for write in ("resolution", "minute", "declaration", "attendance")
        for state in ("held", "circulated")
    },
    # Publication: on time needs no reason; late needs one; a cancelled meeting has none.
    ("publish", "postponed", "clerk"): ("allowed", None),
    ("publish", "held", "clerk"): ("refused", LATE),
    ("publish", "circulated", "clerk"): ("refused", LATE),
    ("publish late", "held", "clerk"): ("allowed", None),
    ("publish late", "circulated", "clerk"): ("allowed", None),
    ("publish", "cancelled", "clerk"): ("refused", "cancelled"),
    # Status: changed until the record is approved.
    **{("status", state, "clerk"): ("allowed", None) for state in STATES if state != "approved"},
}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_every_door_gives_the_same_answer(app, db, world, state, role):
    outcomes = _answers(app, world, state, role)
    for write, answers in outcomes.items():
        if len(answers) == 2:
            assert _agree(answers["web"], answers["api"]), (state, role, write, answers)
        expected = ANCHORS.get((write, state, role))
        if expected is not None:
            assert answers, (state, role, write, "no door answered")
        if answers and (role == "anonymous" or (role != "clerk" and write != "apologies")):
            expected = ("forbidden", None)  # non-staff never write the record
        if expected is None:
            continue
        kinds, words = expected
        for door, (got, reason) in answers.items():
            assert got in kinds if isinstance(kinds, tuple) else got == kinds, (
                state,
                role,
                write,
                door,
                answers[door],
            )
            if words:
                assert words in (reason or ""), (state, role, write, door, reason)


def test_the_anchors_name_real_cells():
    """An anchor with a misspelt write or state would check nothing."""
    for write, state, role in ANCHORS:
        assert write in WRITES and state in STATES and role in ROLES, (write, state, role)


class _Forms(HTMLParser):
    """The names each form on a page sends, by the form's action."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.forms: dict[str, set[str]] = {}
        self._action = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            # A form without an action posts back to its own page.
            self._action = attrs.get("action") or self.path
            self.forms.setdefault(self._action, set())
        elif tag in ("input", "select", "textarea", "button") and self._action and "name" in attrs:
            self.forms[self._action].add(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._action = None


def _forms_on(client, path: str) -> dict[str, set[str]]:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    parser = _Forms(path)
    parser.feed(response.get_data(as_text=True))
    return parser.forms


def test_the_matrix_sends_what_the_pages_offer(app, world):
    """The field names the matrix posts are those the rendered forms carry, so its web door
    is the one a browser uses (and a renamed field fails here, not silently in the matrix)."""
    from flask import g

    w = world
    held, _item = _meeting_in("held", w["f"], w["c"])
    coming, _item = _meeting_in("published", w["f"], w["c"])
    unminuted, _item = _meeting_in("draft", w["f"], w["c"])
    db.session.commit()
    minute = _minute_of(held)

    def sign_in(role):
        client = app.test_client()
        user = w["users"][role]
        client.post("/sign-in", data={"email": user.email, "password": w["f"].PASSWORD})
        g.pop("_login_user", None)
        return client

    clerk = sign_in("clerk")
    offered = _forms_on(clerk, f"/minutes/{minute.id}/edit")
    sent = set(_resolution_form(minute, w))
    assert sent <= offered[f"/minutes/{minute.id}/resolutions"]
    assert set(_minute_form(minute)) <= offered[f"/minutes/{minute.id}/edit"]
    offered = _forms_on(clerk, f"/meetings/{coming.id}/agenda")
    assert set(_publish_form(None)) <= offered[f"/meetings/{coming.id}/publish"]
    assert "late_reason" not in offered[f"/meetings/{coming.id}/publish"]
    offered = _forms_on(clerk, f"/meetings/{held.id}/agenda")
    assert set(_publish_form(LATE_REASON)) <= offered[f"/meetings/{held.id}/publish"]
    offered = _forms_on(clerk, f"/meetings/{coming.id}/status")
    assert set(_status_form(coming)) <= offered[f"/meetings/{coming.id}/status"]
    offered = _forms_on(clerk, f"/meetings/{unminuted.id}/minutes/edit")
    assert f"/meetings/{unminuted.id}/minutes/draft" in offered
    g.pop("_login_user", None)
    offered = _forms_on(sign_in("member"), f"/meetings/{coming.id}/")
    assert offered[f"/meetings/{coming.id}/apologies"] <= {"csrf_token"}
    g.pop("_login_user", None)


def test_a_refusal_leaves_nothing_behind(world):
    """The approved record, refused at the service, is as it was."""
    w = world
    m, _item = _meeting_in("approved", w["f"], w["c"])
    db.session.commit()
    minute = _minute_of(m)

    def state():
        db.session.expire_all()
        return (
            m.version,
            m.venue,
            m.status,
            m.agenda_revision,
            len(m.attendance),
            len(m.declarations),
            len(m.items),
            minute.text,
            len(minute.resolutions),
        )

    before = state()
    for attempt in (
        lambda: agenda.add_item(m, title="Late item"),
        lambda: attendance.set_attendance(m, w["other"], "present"),
        lambda: attendance.send_apologies(m, w["users"]["member"]),
        lambda: meetings.reschedule(m, venue="Another room"),
        lambda: meetings.set_status(m, "cancelled", "Not quorate"),
        lambda: publish_agenda(m, late_reason=LATE_REASON),
        lambda: minutes.save_minute(minute, "Rewritten", None),
        lambda: minutes.add_resolution(minute, "That the budget be approved."),
    ):
        with pytest.raises(Exception, match="approved and locked"):
            attempt()
        db.session.rollback()
    assert state() == before


def test_a_vote_from_someone_not_entitled_is_refused_at_both_doors(app, world):
    """A minute page drawn before a member's apologies were recorded still offers their vote;
    sent, it must be refused as the API refuses it, not dropped."""
    from flask import g

    w = world
    answers = {}
    for door in ("web", "api"):
        m, _item = _meeting_in("held", w["f"], w["c"])
        attendance.set_attendance(m, w["other"], "apologies")
        db.session.commit()
        minute = _minute_of(m)
        client = app.test_client()
        clerk = w["users"]["clerk"]
        if door == "web":
            client.post("/sign-in", data={"email": clerk.email, "password": w["f"].PASSWORD})
            response = client.post(
                f"/minutes/{minute.id}/resolutions", data=_resolution_form(minute, w)
            )
        else:
            response = client.post(
                f"/api/v1/minutes/{minute.id}/resolutions",
                headers={"Authorization": f"Bearer {issue_token(clerk)}"},
                json={
                    "text": "That the budget be approved.",
                    "votes": [{"person_id": w["other"].id, "vote": "for"}],
                },
            )
        g.pop("_login_user", None)
        db.session.rollback()
        answers[door] = _outcome(client, response, door == "api")
    assert answers["api"][0] == "refused", answers
    assert _agree(answers["web"], answers["api"]), answers
