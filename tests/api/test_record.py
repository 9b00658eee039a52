"""The meeting record through the API."""

from datetime import UTC, date, datetime, timedelta

import pytest

from app.agenda import services as agenda
from app.auth.services import issue_token
from app.models import MembershipRole, Role


def bearer(user):
    return {"Authorization": f"Bearer {issue_token(user)}"}


@pytest.fixture
def s(db, f):
    c = f.committee("Health Board", first_minute_number=208)
    chair, member = f.person("Lakin"), f.person("Sue Wilson")
    f.membership(c, chair, MembershipRole.CHAIR)
    f.membership(c, member)
    may = f.published_meeting(c, starts_at=datetime(2026, 5, 20, 13, tzinfo=UTC))
    july = f.meeting(c, starts_at=datetime.now(UTC) + timedelta(days=20))
    item = agenda.add_item(may, title="Action plan")
    owner = f.user(Role.MEMBER, person=member)
    out = {
        "c": c,
        "may": may,
        "july": july,
        "item": item,
        "chair": chair,
        "member": member,
        "clerk": bearer(f.user(Role.CLERK)),
        "owner": bearer(owner),
    }
    db.session.commit()
    return out


def test_record_a_meeting_through_the_api(client, db, s):
    clerk = s["clerk"]
    url = f"/api/v1/meetings/{s['may'].id}/attendance/{s['chair'].id}"
    r = client.put(url, headers=clerk, json={"status": "present", "in_chair": True})
    assert r.status_code == 200 and r.get_json()["in_chair"] is True
    r = client.put(
        f"/api/v1/meetings/{s['may'].id}/attendance/{s['member'].id}",
        headers=clerk,
        json={"status": "substitute"},
    )
    assert r.status_code == 422 and "substitute_for" in r.get_json()["errors"]
    r = client.post(
        f"/api/v1/meetings/{s['may'].id}/declarations",
        headers=clerk,
        json={
            "person_id": s["chair"].id,
            "agenda_item_id": s["item"].id,
            "kind": "non_registrable",
            "nature": "Governor of a school",
            "withdrew": False,
        },
    )
    assert r.status_code == 201
    r = client.put(
        f"/api/v1/agenda-items/{s['item'].id}/minute",
        headers=clerk,
        json={"text": "Sue Wilson presented the plan."},
    )
    minute = r.get_json()
    assert r.status_code == 200 and minute["number"] == 208
    stale = client.put(
        f"/api/v1/agenda-items/{s['item'].id}/minute",
        headers=clerk,
        json={"text": "Another clerk's text", "version": minute["version"] - 1},
    )
    assert stale.status_code == 409
    assert stale.get_json()["errors"]["text"] == ["Sue Wilson presented the plan."]
    r = client.post(
        f"/api/v1/minutes/{minute['id']}/resolutions",
        headers=clerk,
        json={"text": "That the plan be sent to all members.", "votes_for": 7},
    )
    resolution = r.get_json()
    assert r.status_code == 201 and resolution["ordinal"] == 1
    r = client.post(
        f"/api/v1/resolutions/{resolution['id']}/actions",
        headers=clerk,
        json={"title": "Send the plan", "owner_id": s["member"].id, "due_date": "2026-06-14"},
    )
    action = r.get_json()
    assert r.status_code == 201 and action["resolution"] == "208"
    for bad in (
        {"title": "x", "owner_id": None},
        {"title": "x", "owner_id": s["member"].id, "due_date": "soon"},
    ):
        r = client.post(f"/api/v1/resolutions/{resolution['id']}/actions", headers=clerk, json=bad)
        assert r.status_code == 422, bad
    # The owner updates their own action; overdue filters work.
    r = client.post(
        f"/api/v1/actions/{action['id']}/updates",
        headers=s["owner"],
        json={"note": "Sent", "status": "in_progress", "rag": "amber"},
    )
    assert r.status_code == 201 and r.get_json()["rag"] == "amber"
    listed = client.get("/api/v1/actions?overdue=true", headers=s["owner"]).get_json()
    assert [a["id"] for a in listed["items"]] == [action["id"]]
    # Approval locks the minutes.
    r = client.post(
        f"/api/v1/meetings/{s['may'].id}/minutes/approve",
        headers=clerk,
        json={"at_meeting_id": s["july"].id, "amendments": "None"},
    )
    assert r.status_code == 200 and r.get_json()["minutes_state"] == "approved"
    r = client.post(
        f"/api/v1/minutes/{minute['id']}/resolutions",
        headers=clerk,
        json={"text": "That history be rewritten."},
    )
    assert r.status_code == 409
    r = client.put(
        f"/api/v1/agenda-items/{s['item'].id}/minute", headers=clerk, json={"text": "Rewritten"}
    )
    assert r.status_code == 409


def test_members_send_only_their_own_apologies(client, db, s, f):
    url = f"/api/v1/meetings/{s['july'].id}/attendance/{s['member'].id}"
    r = client.put(url, headers=s["owner"], json={"status": "apologies"})
    assert r.status_code == 200 and r.get_json()["status"] == "apologies"
    r = client.put(url, headers=s["owner"], json={"status": "present"})
    assert r.status_code == 403
    other = f"/api/v1/meetings/{s['july'].id}/attendance/{s['chair'].id}"
    assert client.put(other, headers=s["owner"], json={"status": "apologies"}).status_code == 403
    assert client.put(url, json={"status": "apologies"}).status_code == 401


def test_someone_elses_action_cannot_be_updated(client, db, s, f):
    from app.models import Action

    action = Action(
        committee=s["c"], title="Chair's job", owner=s["chair"], due_date=date(2026, 1, 1)
    )
    db.session.add(action)
    db.session.commit()
    r = client.post(
        f"/api/v1/actions/{action.id}/updates",
        headers=s["owner"],
        json={"note": "Not mine", "rag": "green"},
    )
    assert r.status_code == 403
    r = client.post(
        "/api/v1/actions",
        headers=s["clerk"],
        json={"title": "Plan", "owner_id": s["member"].id, "committee": "nope"},
    )
    assert r.status_code == 404


def test_named_votes_through_the_api(client, db, s):
    clerk = s["clerk"]
    r = client.put(
        f"/api/v1/agenda-items/{s['item'].id}/minute", headers=clerk, json={"text": "Debate."}
    )
    minute = r.get_json()
    url = f"/api/v1/minutes/{minute['id']}/resolutions"
    r = client.post(
        url,
        headers=clerk,
        json={
            "text": "That the plan be adopted.",
            "votes": [
                {"person_id": s["chair"].id, "vote": "for"},
                {"name": "sue wilson", "vote": "against"},
            ],
        },
    )
    body = r.get_json()
    assert r.status_code == 201, body
    assert (body["votes_for"], body["votes_against"], body["abstentions"]) == (1, 1, 0)
    assert {(v["name"], v["vote"]) for v in body["votes"]} == {
        ("Lakin", "for"),
        ("Sue Wilson", "against"),
    }
    for bad, field in (
        ({"votes": [{"vote": "for"}]}, "votes"),  # neither person_id nor name
        ({"votes": [{"name": "Nobody", "vote": "for"}]}, "votes"),
        ({"votes": [{"person_id": s["chair"].id, "vote": "maybe"}]}, "votes"),
        ({"votes": [{"person_id": s["chair"].id, "vote": "for"}], "votes_for": 3}, "votes_for"),
    ):
        r = client.post(url, headers=clerk, json={"text": "That x.", **bad})
        assert r.status_code == 422, bad
        assert field in str(r.get_json()["errors"]), r.get_json()
    from app.models import Resolution

    assert db.session.query(Resolution).count() == 1  # the refusals stored nothing
