"""Pack builds on Celery workers when CELERY_BROKER_URL is set (Redis); in process otherwise.

Publication asks for the packs after its transaction commits, so a worker never looks for a
publication that is not there yet. Workers start with:
    celery -A app.packs.worker worker --pool=solo
"""

from __future__ import annotations

from celery import Celery
from flask import Flask, current_app
from sqlalchemy.orm import Session

from app.agenda import signals as agenda_signals
from app.core.db import on_commit
from app.extensions import db
from app.packs.builder import MEMBERS, PUBLIC

celery = Celery("minutebook")


def init_celery(app: Flask) -> Celery:
    broker = app.config.get("CELERY_BROKER_URL")
    # One Celery app per process, but each application made may name another broker: the
    # connections pooled for the last one must not carry its messages to the old broker.
    # close() drops the connection pool; Celery 5.7 keeps its producer pool (bound to the
    # old broker) even so, hence the second line.
    celery.close()
    if "amqp" in celery.__dict__:
        celery.amqp._producer_pool = None
    celery.conf.update(
        broker_url=broker or "memory://",
        task_ignore_result=True,
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
    )

    class AppContextTask(celery.Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery.Task = AppContextTask
    app.extensions["celery"] = celery
    return celery


@celery.task(name="minutebook.build_pack")
def build_pack_task(
    meeting_id: int, variant: str, revision=None, supplement_only: bool = False
) -> str | None:
    from app.extensions import db
    from app.meetings.models import Meeting
    from app.packs import cache

    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not meeting.items:
        return None
    try:
        # A failure is recorded (once) by the cache and the last good pack kept.
        path = cache.pack_file(meeting, variant, revision, supplement_only)
    except (cache.PackUnavailable, LookupError):
        return None
    finally:
        db.session.remove()
    return path.name


@agenda_signals.agenda_published.connect
def _build_published(meeting, **_kw) -> None:
    request_pack_builds(db.session, meeting.id)


def request_pack_builds(session: Session, meeting_id: int) -> None:
    """Ask for the meeting's packs once the current transaction has committed."""
    on_commit(session, lambda: _enqueue(meeting_id), key=("packs", meeting_id))


def _enqueue(meeting_id: int) -> None:
    try:
        broker = current_app.config.get("CELERY_BROKER_URL")
    except RuntimeError:  # no app context: nothing to enqueue to
        return
    if not broker:
        return  # without a broker, packs are built on their first request
    for variant in (PUBLIC, MEMBERS):
        build_pack_task.delay(meeting_id, variant)
