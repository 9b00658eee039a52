"""Faults of the database itself: SQLite's one writer under contention, a lock held too long.

These need a real file database (an in-memory one is a single shared connection), so each test
makes an app of its own on a SQLite file in its temporary folder.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app import create_app
from app.auth.models import User
from app.extensions import db as _db
from config import TestingConfig
from tests import factories


@pytest.fixture
def file_app(tmp_path, app):
    def make(**overrides):
        path = tmp_path / "faults.sqlite3"
        application = create_app(
            TestingConfig,
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
            STORAGE_DIR=str(tmp_path / "storage"),
            PROPAGATE_EXCEPTIONS_IN_TESTS=False,
            **overrides,
        )
        with application.app_context():
            _db.create_all()
        made.append(application)
        return application, path

    made = []
    yield make
    for application in made:
        with application.app_context():
            _db.session.remove()
            _db.engine.dispose()


def _signed_in_client(application, user_id: int):
    client = application.test_client()
    with application.app_context():
        user = _db.session.get(User, user_id)
        key = user.get_id()
    with client.session_transaction() as session:
        session["_user_id"] = key
        session["_fresh"] = True
    return client


def test_parallel_writers_on_sqlite_wait_for_the_lock_instead_of_failing(file_app):
    application, _path = file_app()
    with application.app_context():
        users = [factories.user() for _ in range(20)]
        _db.session.commit()
        ids = [u.id for u in users]
    clients = [_signed_in_client(application, i) for i in ids]
    start = threading.Barrier(len(clients))

    def write(client):
        start.wait()
        return client.post("/account/calendar", data={"action": "actions-on"}).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        statuses = list(pool.map(write, clients))
    assert statuses == [302] * len(clients)
    with application.app_context():
        assert _db.session.scalar(
            select(func.count()).select_from(User).where(User.actions_feed_enabled)
        ) == len(clients)
        # Readers and writers are still served afterwards.
        assert application.test_client().get("/").status_code == 200


def test_a_lock_held_past_the_busy_timeout_is_a_503_with_retry_after(file_app):
    application, path = file_app(DATABASE_BUSY_TIMEOUT=0.3)
    with application.app_context():
        user = factories.user()
        _db.session.commit()
        user_id = user.id
    client = _signed_in_client(application, user_id)
    api = application.test_client()

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        page = client.post("/account/calendar", data={"action": "actions-on"})
        waited = time.monotonic() - started
        read = client.get("/account/calendar")
        problem = api.get("/api/v1/committees")
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert waited >= 0.3  # it waited for the lock before giving up
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "5"
    assert "try again in a few seconds" in page.get_data(as_text=True)
    assert read.status_code == 503
    assert problem.status_code == 503
    assert problem.mimetype == "application/problem+json"
    assert problem.headers["Retry-After"] == "5"
    assert problem.json["status"] == 503 and "try again" in problem.json["detail"]

    # Nothing half-done: the refused write left no change, and once the lock is gone the same
    # request succeeds.
    with application.app_context():
        assert not _db.session.get(User, user_id).actions_feed_enabled
    assert client.post("/account/calendar", data={"action": "actions-on"}).status_code == 302
    assert api.get("/api/v1/committees").status_code == 200
    with application.app_context():
        assert _db.session.get(User, user_id).actions_feed_enabled


def test_other_operational_errors_are_still_500s(file_app):
    application, _path = file_app()
    with application.app_context():
        _db.session.execute(_db.text("DROP TABLE committees"))
        _db.session.commit()
    response = application.test_client().get("/api/v1/committees")
    assert response.status_code == 500
