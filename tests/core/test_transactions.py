"""One place for what happens when a transaction ends (core.db.on_commit, on_rollback,
transaction_scratch), and the request that owns its transaction: committed once on success,
rolled back on an error answer, with nothing flashed for a commit that failed."""

from __future__ import annotations

import logging

import pytest
from flask import Blueprint, abort
from sqlalchemy.exc import OperationalError

from app.core.db import before_commit, on_commit, on_rollback, transaction_scratch
from app.models import Person


def test_on_commit_runs_once_per_key_after_the_commit_and_never_after_a_rollback(db):
    ran = []
    on_commit(db.session, lambda: ran.append("a"), key="k")
    on_commit(db.session, lambda: ran.append("b"), key="k")  # the same work asked twice
    on_commit(db.session, lambda: ran.append("c"))
    db.session.add(Person(name="Ada Lovelace"))
    assert ran == []
    db.session.commit()
    assert sorted(ran) == ["b", "c"]
    on_commit(db.session, lambda: ran.append("late"))
    db.session.add(Person(name="Charles Babbage"))
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert "late" not in ran


def test_on_rollback_undoes_only_what_was_not_kept(db, tmp_path):
    kept, dropped = tmp_path / "kept", tmp_path / "dropped"
    kept.write_text("x")
    on_rollback(db.session, lambda: kept.unlink())
    db.session.add(Person(name="Ada Lovelace"))
    db.session.commit()
    dropped.write_text("x")
    on_rollback(db.session, lambda: dropped.unlink())
    db.session.add(Person(name="Charles Babbage"))
    db.session.flush()
    db.session.rollback()
    assert kept.exists() and not dropped.exists()


def test_scratch_lasts_one_transaction(db):
    transaction_scratch(db.session, "seen", set).add(1)
    assert transaction_scratch(db.session, "seen", set) == {1}
    db.session.add(Person(name="Ada Lovelace"))
    db.session.commit()
    assert transaction_scratch(db.session, "seen", set) == set()


def test_before_commit_work_commits_with_the_change_or_not_at_all(db):
    def derive():
        db.session.add(Person(name="Derived"))
        before_commit(db.session, lambda: db.session.add(Person(name="Derived twice")), key=2)

    before_commit(db.session, derive, key=1)
    before_commit(db.session, derive, key=1)  # asked twice, run once
    db.session.add(Person(name="Ada Lovelace"))
    db.session.commit()
    names = sorted(db.session.scalars(db.select(Person.name)))
    assert names == ["Ada Lovelace", "Derived", "Derived twice"]
    before_commit(db.session, lambda: db.session.add(Person(name="Never")))
    db.session.add(Person(name="Charles Babbage"))
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert db.session.scalar(db.select(Person).filter_by(name="Never")) is None


def test_a_failing_follow_up_is_logged_not_raised(db, caplog):
    def broken():
        raise RuntimeError("broker down")

    on_commit(db.session, broken)
    db.session.add(Person(name="Ada Lovelace"))
    with caplog.at_level(logging.ERROR):
        db.session.commit()
    assert "work after the transaction failed" in caplog.text
    assert db.session.query(Person).count() == 1


@pytest.fixture(scope="module")
def probe_app():
    """An application with three probe pages, wrapped like every page of the real one."""
    from app import create_app
    from config import TestingConfig

    bp = Blueprint("probe", __name__)

    @bp.post("/probe/<name>/<int:status>")
    def write(name, status):
        from flask import flash

        from app.extensions import db

        db.session.add(Person(name=name))
        db.session.flush()
        flash("Saved", "success")
        if status >= 400:
            abort(status)
        if status == 201:
            return "made", 201
        return "", 303, {"Location": "/"}

    @bp.post("/probe-busy/<name>")
    def busy(name):
        from app.extensions import db

        db.session.add(Person(name=name))
        db.session.flush()

        @db.event.listens_for(db.session(), "before_commit", once=True)
        def _fail(_session):
            raise OperationalError("COMMIT", {}, Exception("database is locked"))

        return "", 303, {"Location": "/"}

    application = create_app(
        TestingConfig, WTF_CSRF_ENABLED=False, PROPAGATE_EXCEPTIONS_IN_TESTS=False
    )
    # Registered before the wrapping, as create_app registers every real blueprint.
    application.view_functions.clear()
    application.register_blueprint(bp)
    from app.core.web import own_transactions

    own_transactions(application)
    with application.app_context():
        from app.extensions import db

        db.create_all()
    return application


def test_a_request_commits_once_on_success_and_keeps_nothing_on_an_error(probe_app):
    from app.extensions import db

    client = probe_app.test_client()
    assert client.post("/probe/Kept/201").status_code == 201
    assert client.post("/probe/Redirected/303").status_code == 303
    assert client.post("/probe/Refused/409").status_code == 409
    assert client.post("/probe/Missing/404").status_code == 404
    with probe_app.app_context():
        names = set(db.session.scalars(db.select(Person.name)))
    assert {"Kept", "Redirected"} <= names
    assert not names & {"Refused", "Missing"}


def test_a_commit_that_fails_says_so_and_flashes_no_success(probe_app):
    from app.extensions import db

    client = probe_app.test_client()
    response = client.post("/probe-busy/Lost")
    assert response.status_code == 503
    with client.session_transaction() as cookie:
        assert not cookie.get("_flashes")
    with probe_app.app_context():
        assert db.session.scalar(db.select(Person).filter_by(name="Lost")) is None
