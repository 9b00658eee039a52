"""Publication with a broker configured: a real Redis and a real Celery worker build the
packs, which then sit in the shared store for the app to serve."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app import create_app
from app.agenda import publication as agenda_publication
from app.agenda import services as agenda
from app.extensions import db as _db
from app.meetings import services as meetings
from config import TestingConfig

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url():
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


def test_publication_enqueues_pack_builds_to_a_worker(redis_url, tmp_path):
    database = f"sqlite:///{tmp_path / 'celery.sqlite3'}"
    storage = tmp_path / "storage"
    settings = {
        "SQLALCHEMY_DATABASE_URI": database,
        "STORAGE_DIR": str(storage),
        "CELERY_BROKER_URL": redis_url,
    }
    app = create_app(TestingConfig, **settings)
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "STORAGE_DIR": str(storage),
        "CELERY_BROKER_URL": redis_url,
        "SECRET_KEY": "testing-only-not-secret",
        "MINUTEBOOK_INSTANCE": str(tmp_path / "instance"),
        "MINUTEBOOK_ENV": "development",
    }
    with app.app_context():
        _db.create_all()
        from app.committees.services import create_committee

        committee = create_committee(name="Worker Committee")
        meeting = meetings.schedule_meeting(committee, datetime.now(UTC) + timedelta(days=30))
        agenda.add_item(meeting, title="Budget")
        _db.session.commit()
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "app.packs.worker",
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            agenda_publication.publish_agenda(meeting)
            _db.session.commit()  # enqueues after the commit
            packs = storage / "packs"
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                built = sorted(packs.glob("pack-*.pdf")) if packs.exists() else []
                if len(built) == 2:
                    break
                time.sleep(0.5)
            else:
                worker.terminate()
                output = worker.communicate(timeout=10)[0].decode(errors="replace")
                pytest.fail(f"the worker built no packs:\n{output[-3000:]}")
            # The app serves the worker's build without building it again.
            from app.packs import cache

            path = cache.pack_file(meeting, "public")
            assert path in built
        finally:
            worker.terminate()
            worker.wait(timeout=20)
        _db.session.remove()
        _db.drop_all()


def test_each_application_sends_to_its_own_broker():
    """One Celery app serves every application a process makes (the tests make many): the
    producers pooled for one broker must not carry the next application's messages there."""
    from app.packs.tasks import celery

    create_app(TestingConfig, CELERY_BROKER_URL="redis://127.0.0.1:1111/0")
    with celery.producer_or_acquire() as producer:
        assert ":1111/" in producer.connection.as_uri()
    create_app(TestingConfig, CELERY_BROKER_URL="redis://127.0.0.1:2222/0")
    with celery.producer_or_acquire() as producer:
        assert ":2222/" in producer.connection.as_uri()
    create_app(TestingConfig)  # and back to none, as the other tests expect
