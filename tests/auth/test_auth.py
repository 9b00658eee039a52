"""Accounts: hashing, sign-in and sign-out, CSRF, the users CLI, API tokens."""

import re

import pytest
from flask_login import login_user
from sqlalchemy import select

from app import create_app
from app.auth import services
from app.auth.models import ApiToken, User, hash_token
from app.core.errors import ValidationError
from app.extensions import db
from app.models import AuditEvent, Role
from config import ProductionConfig, TestingConfig
from tests import factories
from tests.factories import PASSWORD


def test_passwords_are_hashed_with_argon2(db, f):
    user = f.user(password="a much longer secret")
    assert user.password_hash.startswith("$argon2id$")
    assert "a much longer secret" not in user.password_hash
    assert user.check_password("a much longer secret")
    assert not user.check_password("wrong password!")


def test_authenticate_refuses_unknown_and_wrong_and_inactive(db, f):
    user = f.user(email="clerk@example.org")
    assert services.authenticate("CLERK@example.org ", PASSWORD) == user
    assert services.authenticate("clerk@example.org", "not the password") is None
    assert services.authenticate("nobody@example.org", PASSWORD) is None
    user.active = False
    assert services.authenticate("clerk@example.org", PASSWORD) is None


def test_sign_in_and_out(client, db, f, sign_in):
    user = f.user(Role.CLERK)
    db.session.commit()
    sign_in(user)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "signed_in"))
    assert client.get("/sign-out").status_code == 405  # a link cannot sign anyone out
    response = client.post("/sign-out")
    assert response.status_code == 302


def test_failed_sign_in_does_not_reveal_whether_account_exists(client, db, f):
    f.user(email="member@example.org")
    db.session.commit()
    wrong_password = client.post(
        "/sign-in", data={"email": "member@example.org", "password": "nope nope nope"}
    )
    no_account = client.post(
        "/sign-in", data={"email": "ghost@example.org", "password": "nope nope nope"}
    )
    assert wrong_password.status_code == no_account.status_code == 400
    body_a = wrong_password.get_data(as_text=True)
    body_b = no_account.get_data(as_text=True)
    assert "Enter a correct email address and password" in body_a
    assert body_a.replace("member@example.org", "X") == body_b.replace("ghost@example.org", "X")


def test_sign_in_ignores_offsite_next(client, db, f):
    user = f.user()
    db.session.commit()
    response = client.post(
        "/sign-in?next=https://evil.example/", data={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    client.post("/sign-out")
    response = client.post(
        "/sign-in?next=//evil.example/x", data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_forms_need_csrf_token(tmp_path):
    csrf_app = create_app(TestingConfig, WTF_CSRF_ENABLED=True, STORAGE_DIR=str(tmp_path))
    with csrf_app.app_context():
        client = csrf_app.test_client()
        response = client.post("/sign-in", data={"email": "a@example.org", "password": "x" * 12})
        assert response.status_code == 400
        page = client.get("/sign-in").get_data(as_text=True)
        assert 'name="csrf_token"' in page


def test_create_user_validates(db, f):
    with pytest.raises(ValidationError) as info:
        services.create_user("not-an-email", Role.CLERK, password="long enough password")
    assert "email" in info.value.errors
    with pytest.raises(ValidationError):
        services.create_user("x@example.org", "overlord", password="long enough password")
    with pytest.raises(ValidationError):
        services.create_user("x@example.org", Role.CLERK, password="short")
    with pytest.raises(ValidationError) as info:
        services.create_user("x@example.org", Role.MEMBER, person_id=12345)
    assert "person_id" in info.value.errors
    services.create_user("x@example.org", Role.CLERK, password="long enough password")
    with pytest.raises(ValidationError):
        services.create_user("X@example.org", Role.CLERK, password="long enough password")


def test_cli_users_create_and_token(app, db, f):
    runner = app.test_cli_runner()
    person = f.person("Sue Wilson")
    db.session.commit()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Sue@Example.org",
            "--role",
            "member",
            "--name",
            "Sue Wilson",
            "--password",
            "member password 1",
            "--person-id",
            str(person.id),
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "sue@example.org"))
    assert user.role == Role.MEMBER and user.person_id == person.id
    assert user.check_password("member password 1")

    result = runner.invoke(args=["users", "token", "sue@example.org"])
    assert result.exit_code == 0, result.output
    plain = result.output.strip().splitlines()[-1]
    stored = db.session.scalars(select(ApiToken)).all()
    assert len(stored) == 1
    # Only a hash is kept.
    assert stored[0].token_hash == hash_token(plain)
    assert plain not in stored[0].token_hash
    assert services.user_for_token(plain) == user
    stored[0].revoke()
    assert services.user_for_token(plain) is None


def test_cli_refuses_bad_input_without_traceback(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "bad", "--role", "clerk", "--password", "long enough password"]
    )
    assert result.exit_code != 0
    assert "valid e-mail" in result.output
    result = runner.invoke(args=["users", "token", "ghost@example.org"])
    assert result.exit_code != 0
    assert "No account" in result.output


def test_generated_password_is_printed(app, db):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "new@example.org", "--role", "viewer"]
    )
    assert result.exit_code == 0
    password = result.output.strip().splitlines()[-1].removeprefix("Password: ")
    assert services.authenticate("new@example.org", password) is not None


def test_sign_in_is_throttled_the_same_for_known_and_unknown_addresses(client, db, f):
    f.user(email="member@example.org")
    db.session.commit()
    for email in ("member@example.org", "ghost@example.org"):
        for _ in range(services.MAX_FAILURES_PER_EMAIL):
            assert (
                client.post(
                    "/sign-in", data={"email": email, "password": "wrong password"}
                ).status_code
                == 400
            )
    known = client.post("/sign-in", data={"email": "member@example.org", "password": PASSWORD})
    unknown = client.post("/sign-in", data={"email": "ghost@example.org", "password": PASSWORD})
    assert known.status_code == unknown.status_code == 429
    assert "too many attempts" in known.get_data(as_text=True)
    # Another address from the same place is still allowed (below the per-IP limit).
    other = f.user(email="clerk@example.org")
    db.session.commit()
    assert (
        client.post("/sign-in", data={"email": other.email, "password": PASSWORD}).status_code
        == 302
    )
    # The typed address is not kept in the log, only a hash of it.
    logged = db.session.scalars(
        select(AuditEvent.summary).where(AuditEvent.verb == "sign_in_failed")
    ).all()
    assert logged and all("@" not in (s or "") for s in logged)


def test_throttle_per_network_address(db, f):
    for n in range(services.MAX_FAILURES_PER_IP):
        services.authenticate(f"user{n}@example.org", "wrong", ip="203.0.113.9")
    with pytest.raises(services.Throttled):
        services.authenticate("fresh@example.org", "wrong", ip="203.0.113.9")
    assert services.authenticate("fresh@example.org", "wrong", ip="198.51.100.1") is None


def _cookie_attributes(response, name: str) -> dict[str, str | bool]:
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    pairs = (part.strip().partition("=") for part in header.split(";")[1:])
    return {key.lower(): value or True for key, _, value in pairs}


def _sign_in_cookies(app, client, user, **headers):
    """Sign in through the form (with its CSRF token when the app checks one); return the
    attributes of the session cookie and of a remember-me cookie issued by the same app."""
    page = client.get("/sign-in", headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    data = {"email": user.email, "password": PASSWORD}
    if token:
        data["csrf_token"] = token.group(1)
    response = client.post("/sign-in", data=data, headers=headers)
    assert response.status_code == 302, response.get_data(as_text=True)
    session = _cookie_attributes(response, app.config["SESSION_COOKIE_NAME"])
    # Nothing signs in with "remember me" yet; Flask-Login's own cookie must still carry the
    # same flags the day something does.
    with app.test_request_context("/", base_url=headers.get("Origin", "http://localhost")):
        login_user(db.session.get(User, user.id), remember=True)
        remembered = app.process_response(app.make_response("signed in"))
    remember = _cookie_attributes(
        remembered, app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    )
    return session, remember


def test_sign_in_cookies_are_httponly_and_lax_but_not_secure_over_http(app, client, f):
    user = f.user()
    db.session.commit()
    for cookie in _sign_in_cookies(app, client, user):
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        assert "secure" not in cookie  # development and tests serve plain HTTP


def test_sign_in_cookies_are_secure_in_production(tmp_path):
    production = create_app(
        ProductionConfig,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'production.sqlite3'}",
        SECRET_KEY="a production-like secret key for this test only",
        STORAGE_DIR=str(tmp_path / "storage"),
    )
    assert not production.testing and production.config["WTF_CSRF_ENABLED"] is not False
    with production.app_context():
        db.create_all()
        user = factories.user()
        db.session.commit()
        client = production.test_client()
        https = {"Origin": "https://localhost", "Referer": "https://localhost/sign-in"}
        client.environ_base["wsgi.url_scheme"] = "https"
        for cookie in _sign_in_cookies(production, client, user, **https):
            assert cookie["secure"] is True
            assert cookie["httponly"] is True
            assert cookie["samesite"] == "Lax"
        db.session.remove()
