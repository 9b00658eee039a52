"""With a broker set, a real Celery worker sends what a commit queued, over real SMTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from app import create_app
from app.extensions import db as _db
from app.notifications import services
from app.notifications.models import Message, MessageStatus
from config import TestingConfig
from tests.packs.test_celery import redis_url  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_sends_what_the_commit_queued(redis_url, smtp_server, tmp_path):  # noqa: F811
    database = f"sqlite:///{tmp_path / 'celery.sqlite3'}"
    settings = {
        "SQLALCHEMY_DATABASE_URI": database,
        "STORAGE_DIR": str(tmp_path / "storage"),
        "CELERY_BROKER_URL": redis_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_FROM": "clerks@example.org",
    }
    app = create_app(TestingConfig, **settings)
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "STORAGE_DIR": str(tmp_path / "storage"),
        "CELERY_BROKER_URL": redis_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_server.port),
        "MAIL_FROM": "clerks@example.org",
        "SECRET_KEY": "testing-only-not-secret",
        "MINUTEBOOK_INSTANCE": str(tmp_path / "instance"),
        "MINUTEBOOK_ENV": "development",
    }
    with app.app_context():
        _db.create_all()
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
            message = services.queue(
                key="celery:1",
                kind="test",
                recipient="sue@example.org",
                sender=services.sender_for("Worker Committee"),
                subject="Sent by the worker",
                body_text="Hello.\n",
                body_html="<p>Hello.</p>",
            )
            _db.session.commit()  # hands the message to the worker after the commit
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not smtp_server.envelopes:
                time.sleep(0.2)
            if not smtp_server.envelopes:
                worker.terminate()
                output = worker.communicate(timeout=10)[0].decode(errors="replace")
                raise AssertionError(f"the worker sent nothing:\n{output[-3000:]}")
            assert smtp_server.recipients == ["sue@example.org"]
            assert smtp_server.messages[0]["From"] == "Worker Committee <clerks@example.org>"
            for _ in range(50):
                _db.session.expire_all()
                row = _db.session.get(Message, message.id)
                if row.status == MessageStatus.SENT:
                    break
                time.sleep(0.1)
            assert row.status == MessageStatus.SENT
            assert row.attempts == 1
            # Sent once: the sender run by cron or beat finds nothing left.
            assert services.send_due(_db.session) == 0
        finally:
            worker.terminate()
            worker.wait(timeout=20)
        _db.session.remove()
        _db.drop_all()


def test_beat_runs_the_sender_every_minute():
    from celery.signals import import_modules

    from app.notifications.tasks import SEND_TASK
    from app.packs.tasks import celery

    import_modules.send(sender=celery)
    entry = celery.conf.beat_schedule["send-notifications"]
    assert entry == {"task": SEND_TASK, "schedule": 60.0}
