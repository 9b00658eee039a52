"""People and accounts through the API, on the services the People and Accounts pages use:
a person's record with optimistic locking, invitations that never say whether an address has
an account, and admins' changes to roles and to whether an account may sign in (which ends its
sessions and revokes its tokens)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import Invitation, User
from app.auth.services import issue_token
from app.core.permissions import Role
from app.notifications.models import Message


def _bearer(user) -> dict:
    return {"Authorization": f"Bearer {issue_token(user)}"}


@pytest.fixture
def tokens(db, f):
    committee = f.committee()
    heads = {
        "admin": _bearer(f.user(Role.ADMIN, email="admin@example.org")),
        "clerk": _bearer(f.user(Role.CLERK, email="clerk@example.org")),
        "member": _bearer(f.member_user(committee)),
    }
    db.session.commit()
    return heads


def test_a_clerk_corrects_a_person_and_a_stale_version_is_a_409(client, db, f, tokens):
    person = f.person("Sue Wilson", email="sue@example.org")
    db.session.commit()
    url = f"/api/v1/people/{person.id}"
    got = client.get(url, headers=tokens["clerk"]).get_json()
    assert got["email"] == "sue@example.org" and got["version"] == person.version
    version = got["version"]

    r = client.patch(
        url, headers=tokens["clerk"], json={"job_title": "Head of Service", "version": version}
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["job_title"] == "Head of Service"
    assert r.get_json()["version"] == version + 1
    # The same version again: someone else's edit came first.
    stale = client.patch(
        url, headers=tokens["clerk"], json={"name": "S Wilson", "version": version}
    )
    assert stale.status_code == 409 and stale.mimetype == "application/problem+json"
    db.session.expire_all()
    assert person.name == "Sue Wilson"
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "person_updated")).summary
        == "Sue Wilson"
    )

    bad = client.patch(url, headers=tokens["clerk"], json={"email": "not an address"})
    assert bad.status_code == 422 and "email" in bad.get_json()["errors"]
    assert client.patch(url, headers=tokens["clerk"], json={"version": 3}).status_code == 422
    assert client.patch(url, json={"name": "X"}).status_code == 401
    assert client.patch(url, headers=tokens["member"], json={"name": "X"}).status_code == 403
    assert (
        client.patch(
            "/api/v1/people/999999", headers=tokens["clerk"], json={"name": "X"}
        ).status_code
        == 404
    )
    # Addresses are for staff.
    assert client.get(url, headers=tokens["member"]).get_json()["email"] is None


def test_an_invitation_answers_the_same_whether_or_not_there_is_an_account(client, db, f, tokens):
    new = f.person("Nia New", email="nia@example.org")
    known = f.person("Kay Known", email="kay@example.org")
    f.user(Role.MEMBER, email="kay@example.org", person=known)
    db.session.commit()
    answers = []
    for person in (new, known):
        r = client.post(f"/api/v1/people/{person.id}/invitations", headers=tokens["clerk"], json={})
        assert r.status_code == 202, r.get_json()
        body = r.get_json()
        answers.append((r.status_code, sorted(body), body["role"]))
        assert body["email"] == person.email and body["person"]["id"] == person.id
    assert answers[0] == answers[1]
    assert [i.person_id for i in db.session.scalars(select(Invitation))] == [new.id]
    assert sorted(m.recipient for m in db.session.scalars(select(Message))) == [
        "kay@example.org",
        "nia@example.org",
    ]
    # Clerks invite members and viewers only; a person without an address cannot be invited.
    r = client.post(
        f"/api/v1/people/{new.id}/invitations", headers=tokens["clerk"], json={"role": "admin"}
    )
    assert r.status_code == 422
    nobody = f.person("No Address")
    db.session.commit()
    r = client.post(f"/api/v1/people/{nobody.id}/invitations", headers=tokens["clerk"], json={})
    assert r.status_code == 422
    r = client.post(f"/api/v1/people/{new.id}/invitations", headers=tokens["member"], json={})
    assert r.status_code == 403


def test_admins_list_accounts_and_deactivating_one_ends_its_tokens(client, db, f, tokens):
    r = client.get("/api/v1/users", headers=tokens["admin"])
    assert r.status_code == 200
    emails = [u["email"] for u in r.get_json()["items"]]
    assert "clerk@example.org" in emails and r.get_json()["total"] == 3
    for who in ("clerk", "member"):
        denied = client.get("/api/v1/users", headers=tokens[who])
        assert denied.status_code == 403 and denied.mimetype == "application/problem+json"
    assert client.get("/api/v1/users").status_code == 401

    clerk = db.session.scalar(select(User).where(User.email == "clerk@example.org"))
    url = f"/api/v1/users/{clerk.id}"
    r = client.patch(url, headers=tokens["admin"], json={"active": False})
    assert r.status_code == 200 and r.get_json()["active"] is False
    # The clerk's token stopped working at once.
    assert client.get("/api/v1/me", headers=tokens["clerk"]).status_code == 401
    r = client.patch(url, headers=tokens["admin"], json={"active": True, "role": "member"})
    assert r.status_code == 200
    assert (r.get_json()["active"], r.get_json()["role"]) == (True, "member")
    # Revoked tokens stay revoked.
    assert client.get("/api/v1/me", headers=tokens["clerk"]).status_code == 401

    admin = db.session.scalar(select(User).where(User.email == "admin@example.org"))
    own = client.patch(f"/api/v1/users/{admin.id}", headers=tokens["admin"], json={"role": "clerk"})
    assert own.status_code == 422
    assert client.patch(url, headers=tokens["admin"], json={"role": "boss"}).status_code == 422
    assert client.patch(url, headers=tokens["admin"], json={"active": 0}).status_code == 422
    assert client.patch(url, headers=tokens["admin"], json={}).status_code == 422
    assert (
        client.patch(
            "/api/v1/users/999999", headers=tokens["admin"], json={"active": True}
        ).status_code
        == 404
    )
    assert client.patch(url, headers=tokens["member"], json={"active": True}).status_code == 403
