"""Queueing messages inside the caller's transaction, and sending what is due once each.

A message is a row written in the same transaction as the change it tells of, so a change
that is rolled back tells no one. After the commit it is handed on: to a Celery worker when
a broker is set, straight to the outbox when neither a broker nor an SMTP server is set (so a
developer sees it at once), and otherwise it waits for `flask notifications send`, which
cron or Celery beat runs. Sending claims each row with a guarded UPDATE before the attempt,
so two senders running at once never both send it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.utils import formataddr, make_msgid, parseaddr
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.core.db import on_commit, transaction_scratch, utcnow
from app.core.permissions import Role
from app.extensions import db
from app.notifications import mail
from app.notifications.models import Message, MessageStatus

log = logging.getLogger(__name__)

# After the nth failed attempt the next waits BACKOFF[n - 1] (the last one thereafter).
BACKOFF = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
    timedelta(hours=12),
]
MAX_ATTEMPTS = 8
# A claimed message is tried again after this long if its sender died mid-attempt.
LEASE = timedelta(minutes=15)


def backoff(attempts: int) -> timedelta:
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


class PersonReader:
    """Stands for one person, with or without an account, when deciding what a message to
    them may show: signed in, never staff, so the models' predicates give what that person
    may see as a member of the committees they serve on, and nothing more."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    role = Role.MEMBER

    def __init__(self, person_id: int | None) -> None:
        self.person_id = person_id


# --- links -------------------------------------------------------------------------------


def link(endpoint: str, **values) -> str:
    """An absolute URL on SITE_URL, built the same way in a request, a CLI command or a
    worker (and never from a request's Host header)."""
    base = urlsplit(current_app.config["SITE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)


def sender_for(display_name: str | None) -> str:
    """MAIL_FROM's address under the given display name (the committee's)."""
    configured_name, address = parseaddr(current_app.config["MAIL_FROM"])
    return formataddr((display_name or configured_name or None, address))


# --- queueing ----------------------------------------------------------------------------


def queue(
    *,
    key: str,
    kind: str,
    recipient: str,
    subject: str,
    body_text: str,
    body_html: str,
    sender: str,
    recipient_name: str | None = None,
    person_id: int | None = None,
    subscription_id: int | None = None,
    unsubscribe_url: str | None = None,
    session: Session | None = None,
) -> Message | None:
    """Queue a message in the current transaction, unless one with this key exists already
    (then None: each message is sent once)."""
    session = session or db.session
    recipient = (recipient or "").strip()
    if not recipient:
        return None
    if session.scalar(select(Message.id).where(Message.key == key)) is not None:
        return None
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"
    message = Message(
        key=key[:200],
        kind=kind,
        recipient=recipient,
        recipient_name=recipient_name,
        person_id=person_id,
        subscription_id=subscription_id,
        unsubscribe_url=unsubscribe_url,
        sender=sender,
        subject=" ".join(subject.split())[:300],
        body_text=body_text,
        body_html=body_html,
        message_id=make_msgid(domain=domain),
        next_attempt_at=utcnow(),
    )
    session.add(message)
    session.flush()
    queued = transaction_scratch(session, "notifications", list)
    queued.append(message.id)
    # One hand-over per transaction, for every message it queued (the list is the same
    # object however many times this is called).
    on_commit(session, lambda: _hand_over(list(queued)), key="notifications")
    return message


def _hand_over(ids: list[int]) -> None:
    try:
        config = current_app.config
    except RuntimeError:  # no app context: `notifications send` will find them
        return
    if config.get("CELERY_BROKER_URL"):
        from app.notifications.tasks import send_notifications_task

        send_notifications_task.delay(ids)
    elif not config.get("MAIL_SERVER"):
        # The transaction is over: this needs a session of its own.
        with Session(db.engine) as session:
            send_due(session, ids=ids)


# --- sending -----------------------------------------------------------------------------


def send_due(session: Session, now: datetime | None = None, ids: list[int] | None = None) -> int:
    """Send every queued message that is due at `now` (or only those of `ids` that are), each
    once; returns how many were sent. Commits each claim and each outcome on `session`: a
    message sent must be recorded as sent whatever happens to the next."""
    now = now or utcnow()
    stmt = (
        select(Message.id)
        .where(Message.status == MessageStatus.QUEUED, Message.next_attempt_at <= now)
        .order_by(Message.next_attempt_at, Message.id)
    )
    if ids is not None:
        if not ids:
            return 0
        stmt = stmt.where(Message.id.in_(ids))
    due = list(session.scalars(stmt))
    session.commit()
    if not due:
        return 0
    sent = 0
    with mail.transport() as transport:
        for message_id in due:
            message = _claim(session, message_id, now)
            if message is None:
                continue
            try:
                transport.send(message)
            except mail.ServerUnavailable as exc:
                _failed(session, message, exc, now)
                break
            except Exception as exc:
                _failed(session, message, exc, now)
                continue
            message.status = MessageStatus.SENT
            message.sent_at = utcnow()
            message.last_error = None
            session.commit()
            sent += 1
    return sent


def _claim(session: Session, message_id: int, now: datetime) -> Message | None:
    """Take the message for one attempt, or None if another sender has it or it is done."""
    result = session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            Message.status == MessageStatus.QUEUED,
            Message.next_attempt_at <= now,
        )
        .values(attempts=Message.attempts + 1, next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if result.rowcount != 1:
        return None
    message = session.get(Message, message_id, populate_existing=True)
    return message


def _failed(session: Session, message: Message, exc: Exception, now: datetime) -> None:
    message.last_error = mail.describe(exc)
    if isinstance(exc, mail.PermanentFailure) or message.attempts >= MAX_ATTEMPTS:
        message.status = MessageStatus.FAILED
        log.error("message %s to %s failed for good: %s", message.id, message.recipient, exc)
    else:
        message.next_attempt_at = now + backoff(message.attempts)
        log.warning(
            "message %s to %s failed (attempt %s), trying again at %s: %s",
            message.id,
            message.recipient,
            message.attempts,
            message.next_attempt_at.isoformat(),
            exc,
        )
    session.commit()
