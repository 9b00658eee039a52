"""The API skeleton: OpenAPI document, bearer tokens, problem+json, the GET endpoints."""

from datetime import UTC, datetime

import pytest

from app.auth.services import issue_token
from app.models import AgendaState, ApiToken, Role

CANARY = "CANARY-API-41c2"


def bearer(user):
    return {"Authorization": f"Bearer {issue_token(user)}"}


@pytest.fixture
def world(db, f):
    c = f.committee("Health and Wellbeing Board")
    p = f.person("Lakin", honorific="Councillor", email="lakin@example.org")
    f.membership(c, p, "chair")
    summer = f.published_meeting(c, starts_at=datetime(2013, 5, 22, 13, tzinfo=UTC))
    winter = f.meeting(c, starts_at=datetime(2013, 11, 20, 14, tzinfo=UTC))
    parent = f.item(summer, "Issues and concerns")
    f.item(summer, "Youth Cabinet", parent_id=parent.id, position=0)
    exempt = f.exempt_item(summer, "Land disposal", paragraphs=[3], purpose=f"Sell {CANARY}")
    f.document(exempt, f"Valuation {CANARY}")
    member = f.member_user(c)
    db.session.commit()
    return {"committee": c, "summer": summer, "winter": winter, "member": member, "chair": p}


def problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"]
    return body


def test_openapi_document_lists_every_endpoint(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path in (
        "/api/v1/committees",
        "/api/v1/committees/{slug}",
        "/api/v1/committees/{slug}/memberships",
        "/api/v1/people",
        "/api/v1/people/{person_id}",
        "/api/v1/meetings",
        "/api/v1/meetings/{meeting_id}",
        "/api/v1/meetings/{meeting_id}/agenda-items",
        "/api/v1/me",
    ):
        assert "get" in spec["paths"][path], path


def test_public_view_without_a_token(client, world):
    body = client.get("/api/v1/committees").get_json()
    assert body["total"] == 1 and body["items"][0]["slug"] == "health-and-wellbeing-board"
    one = client.get("/api/v1/committees/health-and-wellbeing-board").get_json()
    assert one["regime"] == "principal"
    memberships = client.get("/api/v1/committees/health-and-wellbeing-board/memberships")
    roles = {m["person"]["name"]: m["role"] for m in memberships.get_json()["items"]}
    assert roles["Councillor Lakin"] == "chair"


def test_bad_and_revoked_tokens_are_401(client, world, db):
    for header in ("Bearer nonsense", "Basic abc", "Bearer "):
        body = problem(client.get("/api/v1/committees", headers={"Authorization": header}), 401)
        assert body["detail"]
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"})
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    headers = bearer(world["member"])
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    db.session.query(ApiToken).one().revoke()
    db.session.commit()
    problem(client.get("/api/v1/me", headers=headers), 401)


def test_me(client, world, db):
    headers = bearer(world["member"])
    db.session.commit()
    body = client.get("/api/v1/me", headers=headers).get_json()
    assert body["user"]["role"] == "member" and body["person"]["id"] == world["member"].person_id
    assert "calendar_feed_url" in body and "actions_feed_url" in body
    problem(client.get("/api/v1/me"), 401)


def test_session_cookie_is_not_api_identity(client, world, db, sign_in):
    sign_in(world["member"])
    problem(client.get("/api/v1/me"), 401)


def test_not_found_and_validation_problems(client, world):
    problem(client.get("/api/v1/committees/nope"), 404)
    problem(client.get("/api/v1/meetings/999999"), 404)
    problem(client.get("/api/v1/no-such-thing"), 404)
    body = problem(client.get("/api/v1/committees?per_page=201"), 422)
    assert "per_page" in body["errors"]
    body = problem(client.get("/api/v1/people?page=abc"), 422)
    assert "page" in body["errors"]
    body = problem(client.get("/api/v1/meetings?from=notadate"), 422)
    assert "from" in body["errors"]
    problem(client.post("/api/v1/committees/health-and-wellbeing-board"), 405)


def test_meeting_times_carry_offsets_across_bst_and_gmt(client, world):
    items = client.get("/api/v1/meetings?committee=health-and-wellbeing-board").get_json()
    starts = [m["starts_at"] for m in items["items"]]
    assert starts == ["2013-05-22T14:00:00+01:00", "2013-11-20T14:00:00+00:00"]
    one = client.get(f"/api/v1/meetings/{world['summer'].id}").get_json()
    assert one["uid"] == world["summer"].ical_uid and one["sequence"] == 0
    window = client.get("/api/v1/meetings?from=2013-06-01&to=2013-12-31").get_json()
    assert [m["id"] for m in window["items"]] == [world["winter"].id]
    naive = client.get("/api/v1/meetings?from=2013-05-22T14:00").get_json()
    assert [m["id"] for m in naive["items"]] == [world["summer"].id, world["winter"].id]
    later = client.get("/api/v1/meetings?from=2013-05-22T14:01").get_json()
    assert [m["id"] for m in later["items"]] == [world["winter"].id]


def test_agenda_items_numbers_and_exempt_papers(client, world, db, f):
    url = f"/api/v1/meetings/{world['summer'].id}/agenda-items"
    public = client.get(url).get_json()["items"]
    assert [(i["number"], i["title"]) for i in public] == [
        ("1", "Issues and concerns"),
        ("1a", "Youth Cabinet"),
        ("2", "Land disposal"),
    ]
    assert public[2]["visibility"] == "exempt" and public[2]["exempt_paragraphs"] == [3]
    assert CANARY not in client.get(url).get_data(as_text=True)
    headers = bearer(world["member"])
    outsider = bearer(f.member_user(f.committee()))
    db.session.commit()
    assert CANARY in client.get(url, headers=headers).get_data(as_text=True)
    assert CANARY not in client.get(url, headers=outsider).get_data(as_text=True)


def test_draft_agenda_is_404_to_public_and_200_to_clerk(client, world, db, f):
    world["summer"].agenda_state = AgendaState.DRAFT
    clerk = bearer(f.user(Role.CLERK))
    db.session.commit()
    url = f"/api/v1/meetings/{world['summer'].id}/agenda-items"
    problem(client.get(url), 404)
    assert client.get(url, headers=clerk).status_code == 200


def test_people_emails_only_for_staff(client, world, db, f):
    assert "lakin@example.org" not in client.get("/api/v1/people").get_data(as_text=True)
    one = client.get(f"/api/v1/people/{world['chair'].id}").get_json()
    assert one["email"] is None and one["name"] == "Lakin"
    clerk = bearer(f.user(Role.CLERK))
    db.session.commit()
    assert "lakin@example.org" in client.get("/api/v1/people", headers=clerk).get_data(as_text=True)
    problem(client.get("/api/v1/people/999999"), 404)


def test_pagination(client, db, f):
    for n in range(5):
        f.committee(f"Committee {n:02d}")
    db.session.commit()
    body = client.get("/api/v1/committees?per_page=2&page=3").get_json()
    assert body["total"] == 5 and body["page"] == 3 and len(body["items"]) == 1


def test_numbers_too_large_for_the_database_are_not_500s(client, db, f):
    assert client.get("/meetings/99999999999999/").status_code == 404
    problem(client.get("/api/v1/meetings/99999999999999"), 404)
    clerk = bearer(f.user(Role.CLERK))
    c = f.committee()
    db.session.commit()
    r = client.post(
        f"/api/v1/committees/{c.slug}/memberships",
        headers=clerk,
        json={"person_id": 2**70, "role": "member"},
    )
    assert r.status_code in (404, 422) and r.mimetype == "application/problem+json"
