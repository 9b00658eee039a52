"""The queue: each message is sent once, retried with backoff after a failure, and recorded;
without MAIL_SERVER it lands in the outbox right after the commit; the CLI sends what is
due."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta

import pytest

from app.core.db import utcnow
from app.notifications import services
from app.notifications.models import Message, MessageStatus
from tests.notifications.conftest import free_port


def _queue(db, key="test:1", recipient="sue@example.org", **kw) -> Message | None:
    fields = {
        "kind": "test",
        "recipient_name": "Sue Wilson",
        "sender": services.sender_for("Children's Partnership"),
        "subject": "Agenda published",
        "body_text": "The agenda is published.\n",
        "body_html": "<p>The agenda is <strong>published</strong>.</p>",
        **kw,
    }
    return services.queue(key=key, recipient=recipient, **fields)


def test_a_message_is_sent_once_over_smtp(db, smtp):
    message = _queue(db)
    assert _queue(db) is None  # the same key again: nothing more is queued
    db.session.commit()
    assert smtp.envelopes == []  # with a server and no broker, it waits for a sender

    assert services.send_due(db.session) == 1
    assert services.send_due(db.session) == 0
    assert smtp.recipients == ["sue@example.org"]
    sent = smtp.messages[0]
    assert sent["To"] == "Sue Wilson <sue@example.org>"
    assert sent["From"] == "Children's Partnership <clerks@example.org>"
    assert smtp.envelopes[0].mail_from == "clerks@example.org"
    assert sent["Subject"] == "Agenda published"
    assert sent["Message-ID"] == message.message_id
    assert sent["Auto-Submitted"] == "auto-generated"
    plain = sent.get_body(("plain",)).get_content()
    html = sent.get_body(("html",)).get_content()
    assert plain.strip() == "The agenda is published."
    assert "<strong>published</strong>" in html

    db.session.expire_all()
    row = db.session.get(Message, message.id)
    assert row.status == MessageStatus.SENT
    assert row.attempts == 1
    assert row.sent_at is not None and row.last_error is None


def test_a_failure_is_recorded_and_retried_after_the_backoff(db, smtp):
    message = _queue(db)
    db.session.commit()
    smtp.refuse = 1
    now = utcnow()

    assert services.send_due(db.session, now=now) == 0
    db.session.expire_all()
    row = db.session.get(Message, message.id)
    assert row.status == MessageStatus.QUEUED
    assert row.attempts == 1
    assert "451" in row.last_error and "Try again later" in row.last_error
    assert row.next_attempt_at == now + services.BACKOFF[0]

    # Not due again before the backoff has passed...
    assert services.send_due(db.session, now=now + timedelta(seconds=59)) == 0
    assert smtp.envelopes == []
    # ...and sent once it has, once.
    assert services.send_due(db.session, now=now + timedelta(seconds=61)) == 1
    assert services.send_due(db.session, now=now + timedelta(days=1)) == 0
    assert smtp.recipients == ["sue@example.org"]
    db.session.expire_all()
    row = db.session.get(Message, message.id)
    assert (row.status, row.attempts, row.last_error) == (MessageStatus.SENT, 2, None)


def test_the_backoff_grows_and_gives_up(db, mail_settings):
    # Nothing listens on this port: every attempt fails to connect.
    mail_settings.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT=2)
    message = _queue(db)
    db.session.commit()
    now = utcnow()
    waits = []
    for _ in range(services.MAX_ATTEMPTS):
        assert services.send_due(db.session, now=now) == 0
        db.session.expire_all()
        row = db.session.get(Message, message.id)
        if row.status == MessageStatus.FAILED:
            break
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert row.status == MessageStatus.FAILED
    assert row.attempts == services.MAX_ATTEMPTS
    assert "ConnectionRefusedError" in row.last_error
    assert waits[:3] == services.BACKOFF[:3]
    assert waits == sorted(waits)
    assert services.send_due(db.session, now=now + timedelta(days=30)) == 0


def test_an_unreachable_server_ends_the_run_at_its_first_message(db, mail_settings):
    mail_settings.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT=2)
    first, second = _queue(db, key="test:1"), _queue(db, key="test:2")
    db.session.commit()
    assert services.send_due(db.session) == 0
    db.session.expire_all()
    assert db.session.get(Message, first.id).attempts == 1
    # Not tried (nor counted as tried) until the next run: no run waits out a timeout per
    # message when the server is down.
    assert db.session.get(Message, second.id).attempts == 0
    assert db.session.get(Message, second.id).last_error is None


def test_a_permanent_refusal_is_not_retried(db, smtp):
    message = _queue(db)
    db.session.commit()
    smtp.refuse, smtp.reply = 1, "550 5.1.1 No such mailbox"
    assert services.send_due(db.session) == 0
    db.session.expire_all()
    row = db.session.get(Message, message.id)
    assert row.status == MessageStatus.FAILED
    assert "550" in row.last_error
    assert services.send_due(db.session, now=utcnow() + timedelta(days=1)) == 0
    assert smtp.envelopes == []


def test_without_a_server_messages_land_in_the_outbox_after_commit(db, outbox, app, caplog):
    caplog.set_level("INFO", logger="app.notifications.mail")
    message = _queue(db)
    assert not outbox.exists() or not list(outbox.iterdir())  # nothing before the commit
    db.session.commit()
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 1
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["To"] == "Sue Wilson <sue@example.org>"
    assert parsed["Subject"] == "Agenda published"
    assert parsed.get_body(("plain",)).get_content().strip() == "The agenda is published."
    assert "sue@example.org" in caplog.text and "Agenda published" in caplog.text
    db.session.expire_all()
    assert db.session.get(Message, message.id).status == MessageStatus.SENT
    # Delivered once: a sender run later finds nothing to do.
    assert services.send_due(db.session) == 0
    assert len(list(outbox.glob("*.eml"))) == 1


def test_a_rolled_back_change_tells_no_one(db, outbox):
    _queue(db)
    db.session.rollback()
    assert not outbox.exists() or not list(outbox.glob("*.eml"))
    assert db.session.query(Message).count() == 0


def test_the_cli_sends_what_is_due_once(app, db, smtp):
    _queue(db, key="test:1")
    _queue(db, key="test:2", recipient="tom@example.org")
    db.session.commit()
    runner = app.test_cli_runner()

    earlier = (utcnow() - timedelta(hours=1)).isoformat()
    result = runner.invoke(args=["notifications", "send", "--now", earlier])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "0 messages sent"

    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2 messages sent"
    result = runner.invoke(args=["notifications", "send"])
    assert result.output.strip() == "0 messages sent"
    assert smtp.recipients == ["sue@example.org", "tom@example.org"]

    result = runner.invoke(args=["notifications", "send", "--now", "yesterday"])
    assert result.exit_code == 2
    assert "--now" in result.output


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-01T09:00", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
        ("2026-12-01T09:00:00+01:00", datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),
    ],
)
def test_the_cli_reads_now_as_iso8601(value, expected):
    from app.notifications.cli import _moment

    assert _moment(value) == expected


def test_a_claimed_message_is_not_sent_by_a_second_sender(db, smtp):
    # A sender that claimed a message and died leaves it to be tried after the lease, not
    # at once by the next sender.
    message = _queue(db)
    db.session.commit()
    now = utcnow()
    assert services._claim(db.session, message.id, now) is not None
    assert services._claim(db.session, message.id, now) is None
    assert services.send_due(db.session, now=now) == 0
    assert services.send_due(db.session, now=now + services.LEASE) == 1
    assert len(smtp.envelopes) == 1
