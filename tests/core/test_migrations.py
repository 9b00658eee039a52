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
    if type_ == "column" and name == "fulltext" and getattr(obj, "table", None) is not None:
        return obj.table.name != "search_entries"
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


# SQLite's indexes on expressions are not reflected, so not compared: looked for by name.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
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
                indexes = set(
                    conn.scalars(
                        text("SELECT name FROM sqlite_master WHERE type = 'index'")
                        if conn.dialect.name == "sqlite"
                        else text("SELECT indexname FROM pg_indexes")
                    )
                )
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
    # Indexes on expressions (the tracker's order) are named in the migrated schema too.
    expressions = {
        index.name
        for table in db.metadata.tables.values()
        for index in table.indexes
        if any(not hasattr(e, "name") for e in index.expressions)
    }
    assert expressions and expressions <= indexes, expressions - indexes
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


def test_sub_items_of_restricted_business_are_brought_into_line(tmp_path):
    """Sub-items stored as public under exempt or confidential items (the old default) take
    their parent's visibility and grounds; others are left as they were."""
    with empty_database(tmp_path) as url:
        result = _flask(["db", "upgrade", "b7e2d4a9c1f0"], url, tmp_path)
        assert result.returncode == 0, result.stderr
        engine = create_engine(normalise_database_url(url))
        now = "CURRENT_TIMESTAMP"
        item = (
            "INSERT INTO agenda_items (id, meeting_id, parent_id, position, kind, title, "
            "visibility, public_interest_reason, urgent, created_at, updated_at, version) "
            f"VALUES (:id, 1, :parent, :pos, 'business', :title, :vis, :reason, false, {now}, "
            f"{now}, 1)"
        )
        try:
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO committees (id, name, slug, timezone, regime, "
                        "first_minute_number, publish_draft_minutes, sections, "
                        f"agenda_template, archived, created_at, updated_at) VALUES (1, 'C', "
                        f"'c', 'Europe/London', 'principal', 1, false, '[]', '[]', false, {now}, "
                        f"{now})"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO meetings (id, committee_id, starts_at, timezone, status, "
                        "ical_uid, ical_sequence, agenda_state, agenda_revision, minutes_state, "
                        f"created_at, updated_at, version) VALUES (1, 1, {now}, "
                        "'Europe/London', 'scheduled', 'u1', 0, 'draft', 0, 'none', "
                        f"{now}, {now}, 1)"
                    )
                )
                rows = [
                    (1, None, 0, "Land", "exempt", "Reason."),
                    (2, 1, 0, "Valuation", "public", None),
                    (3, 1, 1, "Own grounds", "exempt", "Its own."),
                    (4, None, 1, "Staff", "confidential", None),
                    (5, 4, 0, "Names", "exempt", "Named."),
                    (6, None, 2, "Budget", "public", None),
                    (7, 6, 0, "Detail", "public", None),
                ]
                for id_, parent, pos, title, vis, reason in rows:
                    conn.execute(
                        text(item),
                        {
                            "id": id_,
                            "parent": parent,
                            "pos": pos,
                            "title": title,
                            "vis": vis,
                            "reason": reason,
                        },
                    )
                conn.execute(
                    text(
                        "INSERT INTO agenda_item_paragraphs (agenda_item_id, paragraph) "
                        "VALUES (1, 3), (3, 1)"
                    )
                )
            result = _flask(["db", "upgrade"], url, tmp_path)
            assert result.returncode == 0, result.stderr
            with engine.connect() as conn:
                items = conn.execute(
                    text(
                        "SELECT id, visibility, public_interest_reason, version "
                        "FROM agenda_items ORDER BY id"
                    )
                ).all()
                paragraphs = conn.execute(
                    text(
                        "SELECT agenda_item_id, paragraph FROM agenda_item_paragraphs "
                        "ORDER BY agenda_item_id, paragraph"
                    )
                ).all()
        finally:
            engine.dispose()
    assert [tuple(r) for r in items] == [
        (1, "exempt", "Reason.", 1),
        (2, "exempt", "Reason.", 2),
        (3, "exempt", "Its own.", 1),
        (4, "confidential", None, 1),
        (5, "confidential", "Named.", 2),
        (6, "public", None, 1),
        (7, "public", None, 1),
    ]
    assert [tuple(r) for r in paragraphs] == [(1, 3), (2, 3), (3, 1)]
