"""Correcting an action through the API: GET and PATCH /actions/{id}, on correct_action."""

from datetime import date

import pytest
from sqlalchemy import select

from app.actions import services
from app.audit.models import AuditEvent
from app.auth.services import issue_token
from app.models import MinutesState, Role
from tests.factories import with_minutes_state


def bearer(user):
    return {"Authorization": f"Bearer {issue_token(user)}"}


@pytest.fixture
def s(db, f):
    c = f.committee("Health Board")
    owner = f.member_user(c)
    minute = f.minute(f.meeting(c), 211, "Action plan")
    resolution = f.resolution(minute, "That the plan be sent to all members.")
    action = services.create_from_resolution(resolution, "Send the plan", owner.person_id)
    clerk = f.user(Role.CLERK)
    out = {
        "action": action,
        "owner": owner,
        "clerk_user": clerk,
        "clerk": bearer(clerk),
        "owner_h": bearer(owner),
        "other": f.person("Ruth Hayes"),
        "minute": minute,
    }
    db.session.commit()
    return out


def _corrections(db):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.verb == "action_corrected")).all()


def test_get_an_action_with_its_history(client, db, s):
    action = s["action"]
    services.post_update(action, s["owner"], "Drafted the letter", "in_progress")
    db.session.commit()
    r = client.get(f"/api/v1/actions/{action.id}", headers=s["owner_h"])
    assert r.status_code == 200
    body = r.get_json()
    assert body["title"] == "Send the plan" and body["version"] == 2
    (entry,) = body["history"]
    assert entry["kind"] == "update" and entry["note"] == "Drafted the letter"
    assert entry["status"] == "in_progress"
    # The action arises from minutes the public may not see: not found, as elsewhere.
    assert client.get(f"/api/v1/actions/{action.id}").status_code == 404
    assert client.get("/api/v1/actions/999999", headers=s["clerk"]).status_code == 404


def test_a_clerk_corrects_an_action_audited_and_in_its_history(client, db, s):
    action = s["action"]
    r = client.patch(
        f"/api/v1/actions/{action.id}",
        headers=s["clerk"],
        json={
            "title": "Send the plan to all members",
            "owner_id": s["other"].id,
            "due_date": "2026-06-14",
            "reference": "1.2",
            "version": 1,
        },
    )
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["owner"]["name"] == "Ruth Hayes" and body["due_date"] == "2026-06-14"
    assert body["version"] == 2
    (entry,) = body["history"]
    assert entry["kind"] == "correction" and entry["by"] == s["clerk_user"].name
    assert entry["changes"]["due_date"] == [None, "2026-06-14"]
    assert entry["changes"]["title"] == ["Send the plan", "Send the plan to all members"]
    (event,) = _corrections(db)
    assert event.user_id == s["clerk_user"].id  # the token's user, not "System"
    # Clearing the due date; other fields keep their values.
    r = client.patch(f"/api/v1/actions/{action.id}", headers=s["clerk"], json={"due_date": None})
    assert r.status_code == 200 and r.get_json()["due_date"] is None
    assert r.get_json()["reference"] == "1.2"


def test_nothing_changed_is_200_with_no_audit_row(client, db, s):
    action = s["action"]
    r = client.patch(
        f"/api/v1/actions/{action.id}",
        headers=s["clerk"],
        json={"title": "Send the plan", "owner_id": s["owner"].person_id, "version": 1},
    )
    assert r.status_code == 200 and r.get_json()["version"] == 1
    assert r.get_json()["history"] == [] and not _corrections(db)


def test_stale_version_is_409_naming_both(client, db, s):
    action = s["action"]
    url = f"/api/v1/actions/{action.id}"
    assert client.patch(url, headers=s["clerk"], json={"title": "A", "version": 1}).status_code
    r = client.patch(url, headers=s["clerk"], json={"title": "B", "version": 1})
    assert r.status_code == 409 and r.mimetype == "application/problem+json"
    assert "version 1" in r.get_json()["detail"] and "version 2" in r.get_json()["detail"]
    db.session.expire_all()
    assert action.title == "A"


@pytest.mark.parametrize(
    ("json", "field"),
    [
        ({"title": " "}, "title"),
        ({"owner_id": 999999}, "owner_id"),
        ({"due_date": "1066-10-14"}, "due_date"),
        ({"reference": "1..2"}, "reference"),
    ],
)
def test_bad_corrections_are_422_and_leave_nothing(client, db, s, json, field):
    action = s["action"]
    r = client.patch(f"/api/v1/actions/{action.id}", headers=s["clerk"], json=json)
    assert r.status_code == 422 and field in r.get_json()["errors"]
    db.session.expire_all()
    assert (action.title, action.version) == ("Send the plan", 1) and not _corrections(db)


def test_owners_and_the_public_cannot_correct(client, db, s):
    url = f"/api/v1/actions/{s['action'].id}"
    assert client.patch(url, json={"due_date": "2030-01-01"}).status_code == 401
    r = client.patch(url, headers=s["owner_h"], json={"due_date": "2030-01-01"})
    assert r.status_code == 403 and r.mimetype == "application/problem+json"
    assert not _corrections(db)


def test_an_action_from_approved_minutes_is_corrected_as_a_correction(client, db, s):
    with_minutes_state(s["minute"].meeting, MinutesState.APPROVED)
    db.session.commit()
    r = client.patch(
        f"/api/v1/actions/{s['action'].id}", headers=s["clerk"], json={"due_date": "2026-09-01"}
    )
    assert r.status_code == 200
    (entry,) = r.get_json()["history"]
    assert entry["approved_record"] is True
    assert s["action"].due_date == date(2026, 9, 1)
