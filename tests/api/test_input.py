"""What the API refuses before anything changes: a PATCH with nothing to change, booleans that
are not true or false, a meeting named in a body that is not there."""

from datetime import UTC, datetime, timedelta

import pytest

from app.auth.services import issue_token
from app.models import Meeting, MeetingStatus, MinutesState, Role


@pytest.fixture
def world(db, f):
    committee = f.committee("Audit Committee", timezone="America/New_York")
    chair = f.person("Lakin")
    f.membership(committee, chair)
    held = f.meeting(committee, datetime.now(UTC) - timedelta(days=30), status=MeetingStatus.HELD)
    f.with_minutes_state(held, MinutesState.PUBLISHED)
    later = f.meeting(committee, datetime.now(UTC) - timedelta(days=1))
    item = f.item(f.meeting(committee), "Budget")
    clerk = {"Authorization": f"Bearer {issue_token(f.user(Role.CLERK))}"}
    db.session.commit()
    return {
        "committee": committee,
        "chair": chair,
        "held": held,
        "later": later,
        "item": item,
        "clerk": clerk,
    }


def _action(client, w) -> int:
    r = client.post(
        "/api/v1/actions",
        headers=w["clerk"],
        json={"title": "Report back", "owner_id": w["chair"].id, "committee": "audit-committee"},
    )
    assert r.status_code == 201
    return r.get_json()["id"]


def _patch_urls(client, w) -> list[str]:
    return [
        "/api/v1/committees/audit-committee",
        f"/api/v1/meetings/{w['later'].id}",
        f"/api/v1/agenda-items/{w['item'].id}",
        f"/api/v1/actions/{_action(client, w)}",
    ]


@pytest.mark.parametrize(
    "body", [None, {}, {"version": 0}], ids=["no body", "empty object", "only version"]
)
def test_a_patch_with_nothing_to_change_is_refused(client, world, body):
    for url in _patch_urls(client, world):
        if body == {"version": 0} and "/committees/" in url:
            continue  # a committee has no version: an unknown field, refused as such
        before = client.get(url, headers=world["clerk"]).get_json()
        kwargs = {} if body is None else {"json": body}
        r = client.patch(url, headers=world["clerk"], **kwargs)
        assert r.status_code == 422, (url, r.get_json())
        assert r.mimetype == "application/problem+json"
        problem = r.get_json()
        message = problem["errors"]["_schema"][0]
        assert message.startswith("Send at least one field to change: ")
        assert ("name" if "/committees/" in url else "title") in message
        assert "version" not in message
        assert client.get(url, headers=world["clerk"]).get_json() == before


def test_a_patch_changes_only_what_it_names(client, world):
    """Changing a committee's name keeps its timezone (the create schema's default is not a
    patch's)."""
    r = client.patch(
        "/api/v1/committees/audit-committee", headers=world["clerk"], json={"name": "Audit Board"}
    )
    assert r.status_code == 200
    assert r.get_json()["name"] == "Audit Board"
    assert r.get_json()["timezone"] == "America/New_York"


NOT_BOOLEANS = [0, 1, "true", "false", "yes", "on", "1", None]


@pytest.mark.parametrize("value", NOT_BOOLEANS)
def test_booleans_are_true_or_false(client, world, value):
    w = world
    writes = [
        (
            "post",
            "/api/v1/committees",
            "publish_draft_minutes",
            {"name": "Scrutiny", "publish_draft_minutes": value},
        ),
        (
            "patch",
            "/api/v1/committees/audit-committee",
            "publish_draft_minutes",
            {"publish_draft_minutes": value},
        ),
        (
            "put",
            f"/api/v1/meetings/{w['held'].id}/attendance/{w['chair'].id}",
            "in_chair",
            {"status": "present", "in_chair": value},
        ),
        (
            "post",
            f"/api/v1/meetings/{w['held'].id}/declarations",
            "withdrew",
            {
                "person_id": w["chair"].id,
                "agenda_item_id": w["item"].id,
                "kind": "non_registrable",
                "nature": "A governor of the school",
                "withdrew": value,
            },
        ),
    ]
    for method, url, field, body in writes:
        r = client.open(url, method=method, headers=w["clerk"], json=body)
        assert r.status_code == 422, (url, value, r.get_json())
        assert field in r.get_json()["errors"], (url, r.get_json())
    r = client.get("/api/v1/actions", query_string={"overdue": str(value)}, headers=w["clerk"])
    assert r.status_code == (200 if value in ("true", "false") else 422), value


def test_true_and_false_are_taken(client, world):
    w = world
    r = client.put(
        f"/api/v1/meetings/{w['held'].id}/attendance/{w['chair'].id}",
        headers=w["clerk"],
        json={"status": "present", "in_chair": True},
    )
    assert r.status_code == 200 and r.get_json()["in_chair"] is True
    r = client.patch(
        "/api/v1/committees/audit-committee",
        headers=w["clerk"],
        json={"publish_draft_minutes": False},
    )
    assert r.status_code == 200 and r.get_json()["publish_draft_minutes"] is False
    for value in ("true", "false"):
        r = client.get("/api/v1/actions", query_string={"overdue": value}, headers=w["clerk"])
        assert r.status_code == 200


def test_approval_at_a_meeting_that_is_not_there_is_bad_input(client, db, world):
    w = world
    url = f"/api/v1/meetings/{w['held'].id}/minutes/approve"
    for missing in (2**31 - 1, w["later"].id + 1000):
        r = client.post(url, headers=w["clerk"], json={"at_meeting_id": missing})
        assert r.status_code == 422 and r.mimetype == "application/problem+json"
        assert r.get_json()["errors"] == {"at_meeting_id": ["Unknown meeting."]}
    r = client.post(url, headers=w["clerk"], json={})
    assert r.status_code == 422 and "at_meeting_id" in r.get_json()["errors"]
    assert db.session.get(Meeting, w["held"].id).minutes_state == MinutesState.PUBLISHED
    # The meeting in the path is still a 404, and a real one is approved.
    r = client.post("/api/v1/meetings/999999/minutes/approve", headers=w["clerk"], json={})
    assert r.status_code in (404, 422)
    r = client.post(url, headers=w["clerk"], json={"at_meeting_id": w["later"].id})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["minutes_state"] == "approved"
