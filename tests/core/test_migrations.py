"""`flask db upgrade` on an empty database yields exactly the schema the models describe."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import CheckConstraint, UniqueConstraint, create_engine, inspect, text
from sqlalchemy.engine import make_url

from app.extensions import db
from config import normalise_database_url

ROOT = Path(__file__).resolve().parents[2]


def include_object(obj, name, type_, reflected, compare_to):
    # The same filter as migrations/env.py: the search index objects are made by a migration.
    if type_ == "index" and name == "ix_search_entries_fulltext":
        return False
    return not (type_ == "table" and name and name.startswith("search_fts"))


@contextmanager
def empty_database(tmp_path):
    """A brand-new database of the kind the suite runs on."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    url = make_url(normalise_database_url(base))
    name = f"mb_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _flask(args, database_url, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MINUTEBOOK_INSTANCE": str(tmp_path / "instance"),
        "MINUTEBOOK_ENV": "development",
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_upgrade_from_empty_matches_models(tmp_path):
    with empty_database(tmp_path) as url:
        result = _flask(["db", "upgrade"], url, tmp_path)
        assert result.returncode == 0, result.stderr
        engine = create_engine(normalise_database_url(url))
        try:
            with engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"include_object": include_object})
                diffs = compare_metadata(context, db.metadata)
                tables = set(inspect(conn).get_table_names())
                inspector = inspect(conn)
                checks = {
                    t: {c["name"] for c in inspector.get_check_constraints(t)}
                    for t in db.metadata.tables
                }
                uniques = {
                    t: {u["name"] for u in inspector.get_unique_constraints(t)}
                    for t in db.metadata.tables
                }
        finally:
            engine.dispose()
    assert diffs == [], f"models and migrations disagree: {diffs}"
    assert set(db.metadata.tables) <= tables
    # Alembic's comparison ignores CHECK constraints and is loose about UNIQUE ones, so every
    # named invariant of the models is looked for in the migrated schema by name: errors are
    # mapped to fields by these names.
    for name, table in db.metadata.tables.items():
        expected_checks = {
            c.name for c in table.constraints if isinstance(c, CheckConstraint) and c.name
        }
        expected_uniques = {
            c.name for c in table.constraints if isinstance(c, UniqueConstraint) and c.name
        }
        assert expected_checks <= checks[name], (name, expected_checks - checks[name])
        assert expected_uniques <= uniques[name], (name, expected_uniques - uniques[name])
    assert "ck_minutes_number_positive" in checks["minutes"]
    assert "uq_minutes_committee_id_number" in uniques["minutes"]


def test_downgrade_to_base_and_up_again(tmp_path):
    with empty_database(tmp_path) as url:
        for args in (["db", "upgrade"], ["db", "downgrade", "base"], ["db", "upgrade"]):
            result = _flask(args, url, tmp_path)
            assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("bad", ["postgresql://nobody@127.0.0.1:1/none", "mysql://x/y"])
def test_unusable_database_url_fails_with_one_line(tmp_path, bad):
    result = _flask(["db", "upgrade"], bad, tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("minutebook: ")


def test_audit_events_get_their_meeting_from_their_data(tmp_path):
    """Events recorded before the indexed column existed are found by their meeting too."""
    with empty_database(tmp_path) as url:
        result = _flask(["db", "upgrade", "7fff06808294"], url, tmp_path)
        assert result.returncode == 0, result.stderr
        engine = create_engine(normalise_database_url(url))
        try:
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO audit_events (occurred_at, verb, data) VALUES "
                        "(CURRENT_TIMESTAMP, 'agenda_item_deleted', :a), "
                        "(CURRENT_TIMESTAMP, 'signed_in', :b), "
                        "(CURRENT_TIMESTAMP, 'signed_out', NULL)"
                    ),
                    {"a": '{"meeting_id": 42, "title": "Budget"}', "b": '{"email": "x"}'},
                )
            result = _flask(["db", "upgrade"], url, tmp_path)
            assert result.returncode == 0, result.stderr
            with engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT verb, meeting_id FROM audit_events ORDER BY id")
                ).all()
        finally:
            engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("agenda_item_deleted", 42),
        ("signed_in", None),
        ("signed_out", None),
    ]
