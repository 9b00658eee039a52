"""Sending on Celery workers when CELERY_BROKER_URL is set: after each commit that queued
messages (services._hand_over), and every minute from Celery beat for reminders, digests and
retries that come due:
    celery -A app.packs.worker worker --pool=solo
    celery -A app.packs.worker beat
The task is shared (bound to the app's one Celery instance when it is made), so this package
needs nothing from the packs, where that instance lives."""

from __future__ import annotations

from celery import shared_task
from celery.signals import import_modules
from flask import has_app_context

SEND_TASK = "minutebook.send_notifications"


@shared_task(name=SEND_TASK)
def send_notifications_task(ids: list[int] | None = None) -> int:
    from app.extensions import db
    from app.notifications.services import send_due

    if not has_app_context():  # the worker's tasks run in the Flask app (packs.tasks)
        raise RuntimeError("notifications can only be sent inside the Flask application")
    try:
        if ids is None:  # beat's run, not a hand-over: what has come due is queued first
            from app.notifications.due import queue_due

            queue_due(db.session)
        return send_due(db.session, ids=ids)
    finally:
        db.session.remove()


@import_modules.connect
def _schedule(sender=None, **_kw) -> None:
    # Workers and beat both import their modules before beat reads its schedule.
    if sender is not None:
        sender.conf.beat_schedule.setdefault(
            "send-notifications", {"task": SEND_TASK, "schedule": 60.0}
        )
