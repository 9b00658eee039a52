"""Admins manage accounts: list, change role, deactivate and reactivate. Deactivating ends
the account's live sessions and its API tokens at once; nobody else may use these pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import ApiToken, User
from app.auth.services import issue_token
from app.core.permissions import Role
from tests.auth.test_hardening import _each_request_loads_its_own_user  # noqa: F401


@pytest.fixture
def accounts(db, f):
    users = {
        "member": f.user(Role.MEMBER, person=f.person("Mia Member")),
        "clerk": f.user(Role.CLERK, email="clerk@example.org"),
        "admin": f.user(Role.ADMIN, email="admin@example.org"),
    }
    db.session.commit()
    return users


@pytest.mark.parametrize("role", ["anonymous", "member", "clerk", "admin"])
def test_only_admins_see_the_account_pages(client, sign_in, accounts, role):
    if role != "anonymous":
        sign_in(accounts[role])
    target = accounts["member"].id
    for url in ("/admin/users", f"/admin/users/{target}"):
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
        elif role == "admin":
            assert response.status_code == 200, url
        else:
            assert response.status_code == 404, url
    if role == "admin":
        listing = client.get("/admin/users").get_data(as_text=True)
        assert all(u.email in listing for u in accounts.values())


@pytest.mark.parametrize("role", ["anonymous", "member", "clerk"])
def test_nobody_else_changes_accounts(client, sign_in, db, accounts, role):
    if role != "anonymous":
        sign_in(accounts[role])
    target = accounts["member"]
    for url, data in (
        (f"/admin/users/{target.id}/role", {"role": "admin"}),
        (f"/admin/users/{target.id}/deactivate", {}),
    ):
        response = client.post(url, data=data)
        assert response.status_code == (302 if role == "anonymous" else 404)
    db.session.expire_all()
    target = db.session.get(User, target.id)
    assert target.role == Role.MEMBER and target.active


def test_an_admin_changes_a_role_and_it_is_audited(client, sign_in, db, accounts):
    admin, clerk = accounts["admin"], accounts["clerk"]
    sign_in(admin)
    response = client.post(f"/admin/users/{clerk.id}/role", data={"role": "member"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, clerk.id).role == Role.MEMBER
    event = db.session.scalar(select(AuditEvent).filter_by(verb="user_role_changed"))
    assert event.user_id == admin.id and event.entity_id == clerk.id
    assert "clerk to member" in event.summary
    # Nobody demotes themselves (and so no site is left without an admin).
    response = client.post(f"/admin/users/{admin.id}/role", data={"role": "member"})
    assert response.status_code == 400
    assert "cannot change your own role" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).role == Role.ADMIN
    response = client.post(f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, admin.id).active


def test_deactivating_ends_a_live_session_and_a_token_at_once(app, sign_in, client, db, accounts):
    clerk, admin = accounts["clerk"], accounts["admin"]
    token = issue_token(clerk, "Reporting script")
    db.session.commit()
    theirs = app.test_client()
    assert (
        theirs.post(
            "/sign-in", data={"email": clerk.email, "password": "correct horse battery staple"}
        ).status_code
        == 302
    )
    assert theirs.get("/people/").status_code == 200
    api = {"Authorization": f"Bearer {token}"}
    assert theirs.get("/api/v1/people", headers=api).status_code == 200

    sign_in(admin)
    response = client.post(f"/admin/users/{clerk.id}/deactivate")
    assert response.status_code == 302

    # The live session is over: the next request is anonymous.
    response = theirs.get("/people/")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert theirs.get("/api/v1/people", headers=api).status_code == 401
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken).filter_by(user_id=clerk.id)).revoked_at is not None
    event = db.session.scalar(select(AuditEvent).filter_by(verb="user_deactivated"))
    assert event.user_id == admin.id and event.entity_id == clerk.id

    # Signing in is refused in the very words given for an unknown address.
    fresh = app.test_client()
    refused = fresh.post(
        "/sign-in", data={"email": clerk.email, "password": "correct horse battery staple"}
    )
    unknown = fresh.post(
        "/sign-in", data={"email": "nobody@example.org", "password": "correct horse battery"}
    )
    assert refused.status_code == unknown.status_code == 400
    assert "Enter a correct email address and password" in refused.get_data(as_text=True)
    assert "Enter a correct email address and password" in unknown.get_data(as_text=True)

    # Reactivated, the account signs in again; its old token stays revoked.
    assert client.post(f"/admin/users/{clerk.id}/reactivate").status_code == 302
    assert db.session.scalar(select(AuditEvent).filter_by(verb="user_reactivated")).user_id == (
        admin.id
    )
    assert (
        fresh.post(
            "/sign-in", data={"email": clerk.email, "password": "correct horse battery staple"}
        ).status_code
        == 302
    )
    assert fresh.get("/api/v1/people", headers=api).status_code == 401
