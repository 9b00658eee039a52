"""Configuration: secrets kept out of the code, bad settings reported in one line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import TestingConfig, instance_secret_key, normalise_database_url

ROOT = Path(__file__).resolve().parents[2]


def test_secret_key_is_generated_once_and_kept(tmp_path):
    first = instance_secret_key(tmp_path)
    assert len(first) == 64
    assert instance_secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # readable by the owner only


def test_app_without_secret_key_uses_instance_key(tmp_path):
    from app import create_app

    class NoSecret(TestingConfig):
        SECRET_KEY = None
        INSTANCE_PATH = tmp_path / "inst"

    app = create_app(NoSecret, STORAGE_DIR=str(tmp_path / "storage"))
    assert app.config["SECRET_KEY"] == (tmp_path / "inst" / "secret_key").read_text()


def test_database_url_spellings():
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def _start(env_overrides, tmp_path):
    env = {
        **os.environ,
        "MINUTEBOOK_INSTANCE": str(tmp_path / "i"),
        "MINUTEBOOK_ENV": "development",
        **env_overrides,
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "routes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bad_upload_limit_is_one_clear_line(tmp_path):
    result = _start({"MAX_UPLOAD_MB": "lots"}, tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "MAX_UPLOAD_MB must be a whole number" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAIL_PORT", "smtp"),
        ("MAIL_PORT", "70000"),
        ("MAIL_TIMEOUT", "soon"),
        ("DATABASE_BUSY_TIMEOUT", "-1"),
        ("PDF_CHECK_CPU_SECONDS", "1.5"),
        ("PDF_CHECK_MEMORY_MB", "lots"),
        ("PDF_CHECK_SECONDS", "0"),
    ],
)
def test_a_bad_number_is_one_clear_line(tmp_path, name, value):
    result = _start({name: value}, tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"{name} must be" in result.stderr and repr(value) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        # /dev/null is a file, so no folder can ever be made under it, even by root.
        ("sqlite:////dev/null/db/minutebook.sqlite3", "cannot create the folder /dev/null/db"),
        ("postgresql://u:secret@localhost:abc/db", "DATABASE_URL is not a valid URL"),
        ("postgresql://u:secret@[::1/db", "DATABASE_URL is not a valid URL"),
        ("sqlite://host/minutebook.sqlite3", "cannot be used: Invalid SQLite URL"),
        ("mysql://u:secret@host/db", "must be a sqlite:// or postgresql:// URL"),
    ],
)
def test_bad_database_url_is_one_clear_line(tmp_path, url, message):
    result = _start({"DATABASE_URL": url}, tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("minutebook: ") and message in lines[0]
    assert "secret" not in result.stderr


def test_good_config_starts(tmp_path):
    result = _start({}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "/api/v1/openapi.json" in result.stdout


def test_upload_limit_sets_request_body_limit(app):
    assert app.config["MAX_UPLOAD_MB"] == 50
    assert app.config["MAX_CONTENT_LENGTH"] == 51 * 1024 * 1024


def test_postgresql_connections_run_without_jit(app, db):
    """JIT compiling cost 970 ms of a 40 ms visibility query on a council's record."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    from sqlalchemy import text

    assert db.session.scalar(text("SHOW jit")) == "off"
