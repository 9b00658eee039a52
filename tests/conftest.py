"""Shared fixtures. Every test runs against a real database: in-memory SQLite by default, or
the PostgreSQL server named by TEST_DATABASE_URL (as CI does on its second run)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MINUTEBOOK_ENV", "testing")

from app import create_app
from app.extensions import db as _db
from config import TestingConfig
from tests import factories


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    storage = tmp_path_factory.mktemp("storage")
    instance = tmp_path_factory.mktemp("instance")
    application = create_app(TestingConfig, STORAGE_DIR=str(storage))
    application.instance_path = str(instance)
    with application.app_context():
        _db.drop_all()
        _db.create_all()
    yield application
    with application.app_context():
        _db.session.remove()
        _db.drop_all()


@pytest.fixture(autouse=True)
def storage(app, tmp_path):
    """Storage of each test's own: stored papers (by sha256), built packs and failure markers
    (by content key) would otherwise carry over to a later test that makes the same data."""
    shared = app.config["STORAGE_DIR"]
    app.config["STORAGE_DIR"] = str(tmp_path / "storage")
    yield Path(app.config["STORAGE_DIR"])
    app.config["STORAGE_DIR"] = shared


@pytest.fixture(autouse=True)
def db(app, storage):
    """A clean database for each test, inside an app context."""
    with app.app_context():
        yield _db
        _db.session.rollback()
        _db.session.remove()
        with _db.engine.begin() as conn:
            for table in reversed(_db.metadata.sorted_tables):
                if table.name != "change_stamps":  # its one row only ever moves on
                    conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def f():
    """Factories for realistic records (see tests/factories.py)."""
    return factories


@pytest.fixture
def sign_in(client):
    """Sign the test client in as the given user (password from the factory)."""

    def _sign_in(user, password: str = factories.PASSWORD):
        response = client.post(
            "/sign-in",
            data={"email": user.email, "password": password},
            follow_redirects=False,
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return _sign_in


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "app" / "demo" / "data"
