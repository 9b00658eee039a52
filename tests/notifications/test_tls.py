"""MAIL_USE_TLS: STARTTLS with the server's certificate checked, then the login; a server
that cannot prove who it is, or offers no STARTTLS, never sees the password or a message."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from app.notifications import services
from app.notifications.models import Message, MessageStatus
from tests.notifications.conftest import Recorder, free_port


@pytest.fixture
def certificate(tmp_path):
    if shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is not installed")
        pytest.skip("openssl is not installed (apt-get install openssl)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_smtp(certificate, mail_settings):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    recorder = Recorder()
    recorder.logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        recorder.logins.append((auth_data.login, auth_data.password))
        ok = (auth_data.login, auth_data.password) == (b"mailer", b"s3cret-pass")
        return AuthResult(success=ok)

    port = free_port()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    mail_settings.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_USE_TLS=True,
        MAIL_USERNAME="mailer",
        MAIL_PASSWORD="s3cret-pass",
        MAIL_TIMEOUT=5,
    )
    try:
        yield recorder
    finally:
        controller.stop()


def _queue(db):
    message = services.queue(
        key="tls:1",
        kind="test",
        recipient="sue@example.org",
        sender=services.sender_for("Committee"),
        subject="Over TLS",
        body_text="Hello.\n",
        body_html="<p>Hello.</p>",
    )
    db.session.commit()
    return message


def test_starttls_with_a_trusted_certificate_logs_in_and_sends(
    db, tls_smtp, monkeypatch, certificate
):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust this server's own cert
    _queue(db)
    assert services.send_due(db.session) == 1
    assert tls_smtp.recipients == ["sue@example.org"]
    assert tls_smtp.logins == [(b"mailer", b"s3cret-pass")]


def test_a_certificate_that_cannot_be_checked_stops_before_the_login(db, tls_smtp):
    message = _queue(db)
    assert services.send_due(db.session) == 0
    assert tls_smtp.envelopes == [] and tls_smtp.logins == []
    db.session.expire_all()
    row = db.session.get(Message, message.id)
    assert row.status == MessageStatus.QUEUED
    assert "CERTIFICATE_VERIFY_FAILED" in row.last_error


def test_no_starttls_on_offer_means_no_password_and_no_message(db, smtp, mail_settings):
    mail_settings.update(MAIL_USE_TLS=True, MAIL_USERNAME="mailer", MAIL_PASSWORD="s3cret-pass")
    message = _queue(db)
    assert services.send_due(db.session) == 0
    assert smtp.envelopes == []
    db.session.expire_all()
    assert "STARTTLS" in db.session.get(Message, message.id).last_error
