"""A real SMTP server on loopback (aiosmtpd) and the mail settings pointed at it."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller

MAIL_SETTINGS = (
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USE_TLS",
    "MAIL_FROM",
    "MAIL_TIMEOUT",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "CELERY_BROKER_URL",
)


class Recorder:
    """Keeps every message it accepts; refuses the next `refuse` messages with `reply`."""

    def __init__(self) -> None:
        self.envelopes = []
        self.refuse = 0
        self.reply = "451 4.3.0 Try again later"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            self.refuse -= 1
            return self.reply
        self.envelopes.append(envelope)
        return "250 2.0.0 OK"

    @property
    def messages(self):
        return [
            email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes
        ]

    def to(self, address: str):
        return [m for m in self.messages if address in m["To"]]

    @property
    def recipients(self) -> list[str]:
        return sorted(r for e in self.envelopes for r in e.rcpt_tos)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mail_settings(app):
    """The mail settings of the suite's one app, put back after the test."""
    saved = {k: app.config.get(k) for k in MAIL_SETTINGS}
    app.config.update(MAIL_SERVER=None, CELERY_BROKER_URL=None, MAIL_FROM="clerks@example.org")
    yield app.config
    app.config.update(saved)


@pytest.fixture
def smtp_server():
    """An SMTP server on a free loopback port; its recorder knows the port."""
    recorder = Recorder()
    recorder.port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=recorder.port)
    controller.start()
    try:
        yield recorder
    finally:
        controller.stop()


@pytest.fixture
def smtp(smtp_server, mail_settings):
    mail_settings.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, MAIL_USE_TLS=False)
    return smtp_server


@pytest.fixture
def outbox(app, mail_settings, tmp_path):
    """No MAIL_SERVER: messages go to this test's own instance/outbox/."""
    saved = app.instance_path
    app.instance_path = str(tmp_path / "instance")
    yield tmp_path / "instance" / "outbox"
    app.instance_path = saved
