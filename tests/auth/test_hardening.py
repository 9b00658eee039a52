"""Sessions end on the server, API tokens can be listed, expired and revoked, sign-in throttling
holds under parallel attempts without letting anyone lock an owner out, passwords are checked
for strength, and the headers that keep personal pages out of caches (issue 13)."""

from __future__ import annotations

import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from flask import g, request_started
from flask_login import login_user
from sqlalchemy import func, select

from app import create_app
from app.auth import services
from app.auth.models import ApiToken, SignInThrottle, User
from app.core.db import utcnow
from app.core.errors import ValidationError
from app.extensions import db as _db
from app.models import AuditEvent, Role
from config import ProductionConfig, TestingConfig
from tests import factories
from tests.factories import PASSWORD

ACCOUNT_PAGE = "/account/tokens"


@pytest.fixture(autouse=True)
def _each_request_loads_its_own_user(app):
    """The suite's app context outlives each request, and Flask-Login keeps the user it loaded
    in `g`: forget it as each request starts, so every visit is judged by its own cookies."""

    def forget(sender, **extra):
        g.pop("_login_user", None)

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)


def _signed_in_client(app, user):
    client = app.test_client()
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _replay(app, name, value):
    """A fresh browser holding only a copy of the given cookie."""
    thief = app.test_client()
    thief.set_cookie(name, value)
    return thief


# --- Sessions ------------------------------------------------------------------------------


def test_a_session_cookie_copied_before_sign_out_no_longer_opens_account_pages(app, db, f):
    user = f.user(Role.MEMBER)
    db.session.commit()
    client = _signed_in_client(app, user)
    name = app.config["SESSION_COOKIE_NAME"]
    copied = client.get_cookie(name).value
    assert _replay(app, name, copied).get(ACCOUNT_PAGE).status_code == 200

    assert client.post("/sign-out").status_code == 302

    replayed = _replay(app, name, copied).get(ACCOUNT_PAGE)
    assert replayed.status_code == 302
    assert replayed.headers["Location"].startswith("/sign-in")
    assert _replay(app, name, copied).get("/account/calendar").status_code == 302
    # Signing in again works, and gives a session that works.
    assert _signed_in_client(app, user).get(ACCOUNT_PAGE).status_code == 200


def _remember_cookie(app, user):
    with app.test_request_context("/"):
        login_user(_db.session.get(User, user.id), remember=True)
        response = app.process_response(app.make_response("signed in"))
    name = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    return name, header.split(";")[0].partition("=")[2]


def test_a_remember_me_cookie_stops_working_after_sign_out(app, db, f):
    user = f.user(Role.MEMBER)
    db.session.commit()
    name, value = _remember_cookie(app, user)
    assert _replay(app, name, value).get(ACCOUNT_PAGE).status_code == 200

    _signed_in_client(app, user).post("/sign-out")

    assert _replay(app, name, value).get(ACCOUNT_PAGE).status_code == 302


def test_changing_the_password_ends_other_sessions_but_not_this_one(app, db, f):
    user = f.user(Role.MEMBER)
    db.session.commit()
    elsewhere = _signed_in_client(app, user)
    here = _signed_in_client(app, user)
    new = "tangerine gazebo quantum lintel"

    weak = here.post(
        "/account/password",
        data={"current": PASSWORD, "new": "password123", "confirm": "password123"},
    )
    assert weak.status_code == 400
    assert "too easy to guess" in weak.get_data(as_text=True)
    wrong = here.post("/account/password", data={"current": "nope", "new": new, "confirm": new})
    assert wrong.status_code == 400
    assert "current password is not correct" in wrong.get_data(as_text=True)
    assert elsewhere.get(ACCOUNT_PAGE).status_code == 200  # nothing changed yet

    done = here.post("/account/password", data={"current": PASSWORD, "new": new, "confirm": new})
    assert done.status_code == 302
    assert here.get(ACCOUNT_PAGE).status_code == 200
    assert elsewhere.get(ACCOUNT_PAGE).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(new)


def test_a_cookie_of_the_old_form_or_a_forged_generation_is_refused(app, db, f):
    user = f.user(Role.MEMBER)
    db.session.commit()
    for forged in (f"{user.id}:{user.session_generation + 1}", f"{user.id}:x", "x"):
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = forged
        assert client.get(ACCOUNT_PAGE).status_code == 302


# --- API tokens ----------------------------------------------------------------------------


def _api(client, plain):
    return client.get("/api/v1/committees", headers={"Authorization": f"Bearer {plain}"})


def test_tokens_are_listed_and_revoked_from_the_cli(app, db, f, client):
    user = f.user(Role.CLERK, email="clerk@example.org")
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "token", "clerk@example.org", "--name", "Reports", "--expires-in-days", "30"]
    )
    assert result.exit_code == 0, result.output
    plain = result.output.strip().splitlines()[-1]
    assert _api(client, plain).status_code == 200

    listed = runner.invoke(args=["tokens", "list", "clerk@example.org"])
    assert listed.exit_code == 0, listed.output
    (token,) = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()
    row = next(line for line in listed.output.splitlines() if line.startswith(f"{token.id}\t"))
    assert "active" in row and "Reports" in row
    assert token.expires_at.date() == (utcnow() + timedelta(days=30)).date()
    assert token.last_used_at is not None  # the call above was noted
    assert plain not in listed.output

    revoked = runner.invoke(args=["tokens", "revoke", str(token.id)])
    assert revoked.exit_code == 0, revoked.output
    response = _api(client, plain)
    assert response.status_code == 401
    assert "revoked" in response.json["detail"]
    assert "revoked" in runner.invoke(args=["tokens", "list", "clerk@example.org"]).output

    for bad in (["tokens", "revoke", "99999"], ["tokens", "list", "ghost@example.org"]):
        result = runner.invoke(args=bad)
        assert result.exit_code != 0 and "Traceback" not in result.output
    assert runner.invoke(args=["users", "token", user.email, "--expires-in-days", "0"]).exit_code
    assert len(db.session.scalars(select(ApiToken)).all()) == 1  # the refused one left nothing


def test_an_expired_token_gets_401(db, f, client):
    user = f.user(Role.CLERK)
    plain = services.issue_token(user, "short-lived", expires_in_days=1)
    db.session.commit()
    assert _api(client, plain).status_code == 200
    token = db.session.scalar(select(ApiToken))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = _api(client, plain)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert "expired" in response.json["detail"]


def test_last_use_is_written_at_most_once_a_minute(db, f, client):
    user = f.user(Role.CLERK)
    plain = services.issue_token(user)
    db.session.commit()
    assert _api(client, plain).status_code == 200
    db.session.expire_all()
    first = db.session.scalar(select(ApiToken.last_used_at))
    assert first is not None
    assert _api(client, plain).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at)) == first  # no write within the minute
    token = db.session.scalar(select(ApiToken))
    token.last_used_at = first - timedelta(minutes=2)
    db.session.commit()
    assert _api(client, plain).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at)) > first


def test_tokens_are_made_listed_and_revoked_on_the_account_page(app, db, f):
    user = f.user(Role.MEMBER)
    other = f.user(Role.MEMBER)
    others_plain = services.issue_token(other, "Not yours")
    db.session.commit()
    client = _signed_in_client(app, user)

    bad = client.post(ACCOUNT_PAGE, data={"name": "Script", "expires_in_days": "0"})
    assert bad.status_code == 400
    assert "Enter 1 to" in bad.get_data(as_text=True)
    made = client.post(ACCOUNT_PAGE, data={"name": "Script", "expires_in_days": "7"})
    assert made.status_code == 200
    plain = re.search(r'<code id="new-token">([^<]+)</code>', made.get_data(as_text=True))[1]
    assert _api(app.test_client(), plain).status_code == 200

    page = client.get(ACCOUNT_PAGE).get_data(as_text=True)
    assert "Script" in page and "Not yours" not in page and plain not in page
    assert "Last used" in page and "Expires" in page
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "Script"))
    mine = f"/account/tokens/{token.id}/revoke"
    assert mine in page

    confirm = client.get(mine)
    assert confirm.status_code == 200
    assert "Revoke the token" in confirm.get_data(as_text=True)
    assert _api(app.test_client(), plain).status_code == 200  # asking is not revoking

    others = db.session.scalar(select(ApiToken).where(ApiToken.name == "Not yours"))
    assert client.post(f"/account/tokens/{others.id}/revoke").status_code == 404
    assert _api(app.test_client(), others_plain).status_code == 200

    assert client.post(mine).status_code == 302
    assert _api(app.test_client(), plain).status_code == 401
    assert "Revoked" in client.get(ACCOUNT_PAGE).get_data(as_text=True)


# --- Sign-in throttling --------------------------------------------------------------------


@pytest.fixture(params=["sqlite-file", "suite-database"])
def racing_app(request, app, tmp_path):
    """An app whose database several threads can use at once: a SQLite file (an in-memory one
    is a single shared connection), or the suite's PostgreSQL database when there is one."""
    if request.param == "suite-database":
        if not os.environ.get("TEST_DATABASE_URL"):
            pytest.skip("the suite's in-memory SQLite cannot be shared between threads")
        yield app
        return
    application = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'race.sqlite3'}",
        STORAGE_DIR=str(tmp_path / "storage"),
    )
    with application.app_context():
        _db.create_all()
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()


def test_thirty_parallel_wrong_passwords_get_only_the_free_attempts_evaluated(racing_app):
    with racing_app.app_context():
        user = factories.user(Role.ADMIN, email="admin@example.org")
        _db.session.commit()
        email = user.email
    clients = [racing_app.test_client() for _ in range(30)]
    start = threading.Barrier(len(clients))

    def attempt(client):
        start.wait()
        return client.post("/sign-in", data={"email": email, "password": "wrong password!"})

    with ThreadPoolExecutor(len(clients)) as pool:
        statuses = sorted(r.status_code for r in pool.map(attempt, clients))
    evaluated = statuses.count(400)
    assert evaluated == services.FREE_ATTEMPTS_PER_ACCOUNT, statuses
    assert statuses.count(429) == len(clients) - evaluated
    with racing_app.app_context():
        failures = _db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.verb == "sign_in_failed")
        )
        assert failures == evaluated


def test_an_attacker_elsewhere_cannot_lock_the_owner_out(client, db, f):
    f.user(Role.ADMIN, email="admin@example.org")
    db.session.commit()
    attacker = {"REMOTE_ADDR": "203.0.113.66"}
    owner = {"REMOTE_ADDR": "198.51.100.7"}
    statuses = [
        client.post(
            "/sign-in",
            data={"email": "admin@example.org", "password": f"guess {n}"},
            environ_base=attacker,
        ).status_code
        for n in range(30)
    ]
    assert statuses.count(400) == services.FREE_ATTEMPTS_PER_ACCOUNT
    assert statuses.count(429) == 30 - services.FREE_ATTEMPTS_PER_ACCOUNT
    # Even the right password waits, from the attacker's address: it may be the attacker's.
    held = client.post(
        "/sign-in",
        data={"email": "admin@example.org", "password": PASSWORD},
        environ_base=attacker,
    )
    assert held.status_code == 429
    assert 1 <= int(held.headers["Retry-After"]) <= 15 * 60
    assert "too many attempts" in held.get_data(as_text=True)

    fresh = client.application.test_client()
    response = fresh.post(
        "/sign-in", data={"email": "admin@example.org", "password": PASSWORD}, environ_base=owner
    )
    assert response.status_code == 302
    assert fresh.get(ACCOUNT_PAGE, environ_base=owner).status_code == 200


def test_the_wait_doubles_with_each_further_failure_up_to_a_limit():
    free = services.FREE_ATTEMPTS_PER_ACCOUNT
    assert services.backoff(free - 1, free) is None
    waits = [services.backoff(free + n, free) for n in range(12)]
    assert waits[0] == services.FIRST_BACKOFF
    assert waits[1] == 2 * waits[0] and waits[2] == 4 * waits[0]
    assert max(waits) == services.MAX_BACKOFF


def test_a_successful_sign_in_clears_its_own_count(db, f):
    user = f.user(email="member@example.org")
    db.session.commit()
    for _ in range(services.FREE_ATTEMPTS_PER_ACCOUNT - 1):
        assert services.authenticate(user.email, "wrong password!", ip="192.0.2.1") is None
    assert services.authenticate(user.email, PASSWORD, ip="192.0.2.1") == user
    db.session.commit()
    for _ in range(services.FREE_ATTEMPTS_PER_ACCOUNT):
        assert services.authenticate(user.email, "wrong password!", ip="192.0.2.1") is None
    with pytest.raises(services.Throttled):
        services.authenticate(user.email, PASSWORD, ip="192.0.2.1")


def test_lapsed_counts_are_cleared_by_the_next_sign_in(db, f):
    user = f.user(email="member@example.org")
    db.session.commit()
    services.authenticate("someone@example.org", "wrong password!", ip="192.0.2.5")
    db.session.execute(
        SignInThrottle.__table__.update().values(
            last_attempt_at=utcnow() - services.THROTTLE_WINDOW - timedelta(minutes=1)
        )
    )
    db.session.commit()
    assert services.authenticate(user.email, PASSWORD, ip="192.0.2.6") == user
    db.session.commit()
    remaining = db.session.scalars(select(SignInThrottle.last_attempt_at)).all()
    assert len(remaining) == 1  # only the address's own (looser) count, just made
    assert remaining[0] > utcnow() - timedelta(minutes=1)


def test_x_forwarded_for_is_ignored_unless_proxies_are_configured(tmp_path):
    def hammer(application):
        with application.app_context():
            _db.create_all()
            factories.user(email="member@example.org")
            _db.session.commit()
            client = application.test_client()
            statuses = [
                client.post(
                    "/sign-in",
                    data={"email": "member@example.org", "password": "wrong password!"},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"},
                ).status_code
                for n in range(services.FREE_ATTEMPTS_PER_ACCOUNT + 1)
            ]
            addresses = set(
                _db.session.scalars(
                    select(AuditEvent.ip_address).where(AuditEvent.verb == "sign_in_failed")
                )
            )
            _db.session.remove()
        return statuses, addresses

    memory = {"SQLALCHEMY_DATABASE_URI": "sqlite://"}  # an app of its own, whatever the suite's
    direct = create_app(TestingConfig, STORAGE_DIR=str(tmp_path / "a"), **memory)
    statuses, addresses = hammer(direct)
    assert statuses[-1] == 429  # a made-up header does not buy fresh attempts
    assert addresses == {"127.0.0.1"}

    proxied = create_app(TestingConfig, STORAGE_DIR=str(tmp_path / "b"), PROXY_COUNT="1", **memory)
    statuses, addresses = hammer(proxied)
    assert 429 not in statuses  # behind a proxy each visitor is told apart...
    assert "203.0.113.1" in addresses and "127.0.0.1" not in addresses


def test_a_bad_proxy_count_is_refused_at_start_up(tmp_path, capsys):
    with pytest.raises(SystemExit):
        create_app(TestingConfig, STORAGE_DIR=str(tmp_path), PROXY_COUNT="two")
    assert "PROXY_COUNT" in capsys.readouterr().err


# --- Passwords -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "weak", ["password123456", "qwertyuiop123", "Password1234", "1q2w3e4r5t6y"]
)
def test_common_and_pattern_passwords_are_refused(db, weak):
    with pytest.raises(ValidationError) as info:
        services.create_user("new@example.org", Role.CLERK, password=weak)
    assert "too easy to guess" in info.value.detail
    assert "password" in info.value.errors
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_a_password_made_of_the_account_s_own_name_is_refused(db):
    with pytest.raises(ValidationError):
        services.create_user(
            "jane.fotheringham@example.org",
            Role.CLERK,
            name="Jane Fotheringham",
            password="fotheringham2024",
        )


def test_the_cli_refuses_a_weak_password_with_the_reason(app, db):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "x@example.org", "--role", "clerk", "--password", "password123456"]
    )
    assert result.exit_code != 0
    assert "too easy to guess" in result.output and "Traceback" not in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


# --- Headers -------------------------------------------------------------------------------


def test_personal_pages_and_api_answers_are_not_stored(app, db, f, client):
    public = client.get("/")
    assert "no-store" not in public.headers.get("Cache-Control", "")
    assert client.get("/api/v1/committees").headers["Cache-Control"] == "no-store"
    user = f.user(Role.MEMBER)
    db.session.commit()
    signed_in = _signed_in_client(app, user)
    for path in ("/", ACCOUNT_PAGE, "/account/calendar"):
        assert signed_in.get(path).headers["Cache-Control"] == "no-store", path
    stylesheet = re.search(
        r'href="(/static/[^"]+\.css(?:\?v=[0-9a-f]+)?)"', signed_in.get("/").get_data(as_text=True)
    )
    assert "no-store" not in signed_in.get(stylesheet[1]).headers.get("Cache-Control", "")


def test_a_private_response_is_tightened_and_a_public_one_kept(tmp_path):
    application = create_app(TestingConfig, STORAGE_DIR=str(tmp_path))

    @application.route("/_private")
    def _private():
        return "members' pack", 200, {"Cache-Control": "private, no-cache"}

    @application.route("/_public")
    def _public():
        return "public pack", 200, {"Cache-Control": "no-cache"}

    with application.app_context():
        client = application.test_client()
        assert client.get("/_private").headers["Cache-Control"] == "no-store"
        assert client.get("/_public").headers["Cache-Control"] == "no-cache"


def test_hsts_in_production_only(app, client, tmp_path):
    assert "Strict-Transport-Security" not in client.get("/").headers
    production = create_app(
        ProductionConfig,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'production.sqlite3'}",
        SECRET_KEY="a production-like secret key for this test only",
        STORAGE_DIR=str(tmp_path / "storage"),
    )
    with production.app_context():
        _db.create_all()
        response = production.test_client().get("/")
        _db.session.remove()
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_405_names_the_allowed_methods(client, db):
    page = client.get("/sign-out")
    assert page.status_code == 405
    assert page.headers["Allow"] == "POST" or set(page.headers["Allow"].split(", ")) >= {"POST"}
    api = client.delete("/api/v1/committees")
    assert api.status_code in (401, 405)
    if api.status_code == 405:
        assert "GET" in api.headers["Allow"]


def test_throttle_rows_are_the_only_trace_of_a_refused_attempt(db, f):
    f.user(email="member@example.org")
    db.session.commit()
    for _ in range(services.FREE_ATTEMPTS_PER_ACCOUNT):
        services.authenticate("member@example.org", "wrong password!", ip="192.0.2.9")
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(services.Throttled):
        services.authenticate("member@example.org", "wrong password!", ip="192.0.2.9")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert db.session.scalar(select(func.count()).select_from(SignInThrottle)) == 2
