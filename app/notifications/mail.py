"""Delivering one message: over SMTP (Flask-Mailman) when MAIL_SERVER is set, otherwise into
instance/outbox/ as an .eml file and the log."""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
from pathlib import Path

from flask import current_app
from flask_mailman import DNS_NAME, EmailMultiAlternatives, Mail
from flask_mailman.backends.smtp import EmailBackend

from app.notifications.models import Message

log = logging.getLogger(__name__)

_mail = Mail()


class PermanentFailure(Exception):
    """The server refused the message for good (a 5xx answer): trying again cannot help."""


class ServerUnavailable(Exception):
    """No connection to the SMTP server: the rest of the batch waits for the next run rather
    than each trying (and timing out) in turn."""


def _ensure_mail() -> None:
    # Flask-Mailman keeps its settings in app.extensions; the messages read the charset there.
    if "mailman" not in current_app.extensions:
        _mail.init_app(current_app)


def email_of(message: Message) -> EmailMultiAlternatives:
    _ensure_mail()
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=message.sender,
        to=[_address(message.recipient, message.recipient_name)],
        headers={
            "Message-ID": message.message_id,
            # RFC 3834: no out-of-office replies to, or loops with, an automatic message.
            "Auto-Submitted": "auto-generated",
        },
    )
    if message.unsubscribe_url:
        # RFC 2369 and RFC 8058: mail programs offer "unsubscribe", and a POST to the address
        # with this body ends the subscription without anything more being asked.
        email.extra_headers["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email.extra_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.attach_alternative(message.body_html, "text/html")
    return email


def _address(email: str, name: str | None) -> str:
    from email.utils import formataddr

    return formataddr((name, email)) if name else email


def outbox_dir() -> Path:
    return Path(current_app.instance_path) / "outbox"


class Outbox:
    """Writes each message as an .eml file a mail program opens, and logs it."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def send(self, message: Message) -> None:
        folder = outbox_dir()
        folder.mkdir(parents=True, exist_ok=True)
        data = email_of(message).message().as_bytes()
        name = f"{message.created_at:%Y%m%d-%H%M%S}-{message.id}-{message.kind}.eml"
        # Written whole or not at all: a reader never opens half a message.
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, folder / name)
        log.info(
            "mail to %s: %s (no MAIL_SERVER, kept as %s)\n%s",
            message.recipient,
            message.subject,
            folder / name,
            message.body_text,
        )


class VerifiedSmtpBackend(EmailBackend):
    """Flask-Mailman's SMTP backend, but STARTTLS checks the server's certificate and name
    (smtplib's default context does not, which would hand MAIL_PASSWORD to anyone in the
    middle), and a server that offers no STARTTLS when MAIL_USE_TLS asks for it is refused
    before any password is sent."""

    def open(self):
        if self.connection:
            return False
        params = {"local_hostname": DNS_NAME.get_fqdn()}
        if self.timeout is not None:
            params["timeout"] = self.timeout
        self.connection = smtplib.SMTP(self.host, self.port, **params)
        try:
            if self.use_tls:
                self.connection.starttls(context=ssl.create_default_context())
            if self.username and self.password:
                self.connection.login(self.username, self.password)
        except BaseException:
            self.connection.close()
            self.connection = None
            raise
        return True


class Smtp:
    """One SMTP connection for a batch of messages, reopened after a failure."""

    def __init__(self) -> None:
        _ensure_mail()
        config = current_app.config
        self.connection = _mail.get_connection(
            backend=VerifiedSmtpBackend,
            host=config["MAIL_SERVER"],
            port=int(config.get("MAIL_PORT") or 25),
            # Empty rather than None: None would fall back to what Flask-Mailman read when
            # it was first set up, not the settings in force now.
            username=config.get("MAIL_USERNAME") or "",
            password=config.get("MAIL_PASSWORD") or "",
            use_tls=bool(config.get("MAIL_USE_TLS")),
            use_ssl=False,
            timeout=float(config.get("MAIL_TIMEOUT") or 30),
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._close()

    def _close(self) -> None:
        try:
            self.connection.close()
        except (OSError, smtplib.SMTPException):
            self.connection.connection = None

    def send(self, message: Message) -> None:
        try:
            self.connection.open()
        except (OSError, smtplib.SMTPException) as exc:
            self._close()
            raise ServerUnavailable(describe(exc)) from exc
        try:
            sent = self.connection.send_messages([email_of(message)])
        except smtplib.SMTPRecipientsRefused as exc:
            self._close()
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentFailure(_smtp_words(exc)) from exc
            raise
        except smtplib.SMTPResponseException as exc:
            self._close()
            if exc.smtp_code >= 500 and exc.smtp_code not in (421,):
                raise PermanentFailure(_smtp_words(exc)) from exc
            raise
        except (OSError, smtplib.SMTPException):
            self._close()
            raise
        if not sent:
            raise smtplib.SMTPException("the server accepted no recipient")


def _smtp_words(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{addr}: {code} {_text(reply)}" for addr, (code, reply) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return str(exc)


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def describe(exc: Exception) -> str:
    """What went wrong, for the message's record (never the password: smtplib's errors carry
    only the server's reply)."""
    words = _smtp_words(exc) if isinstance(exc, smtplib.SMTPException) else str(exc)
    return f"{type(exc).__name__}: {words}"[:2000]


def transport():
    """SMTP when a server is set; the outbox otherwise."""
    return Smtp() if current_app.config.get("MAIL_SERVER") else Outbox()
