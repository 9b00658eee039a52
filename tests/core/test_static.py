"""The production server: static files cached for a year under fingerprinted URLs, files handed
to a proxy when USE_X_SENDFILE says one is in front, and `make serve`'s gunicorn and demo step."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app import create_app
from config import TestingConfig

ROOT = Path(__file__).resolve().parents[2]
CSS = "govuk/minutebook.css"


def _stylesheet_url(client) -> str:
    page = client.get("/accessibility").get_data(as_text=True)
    found = re.search(r'href="(/static/govuk/minutebook\.css\?v=[0-9a-f]+)"', page)
    assert found, "the stylesheet's URL carries its fingerprint"
    return found.group(1)


def test_static_files_under_their_fingerprint_are_cached_for_a_year(client):
    url = _stylesheet_url(client)
    response = client.get(url)
    assert response.status_code == 200
    assert response.cache_control.public and response.cache_control.immutable
    assert response.cache_control.max_age == 365 * 24 * 3600
    assert b"govuk" in response.data


@pytest.mark.parametrize("query", ["", "?v=0123456789abcdef"])
def test_a_static_url_without_the_current_fingerprint_is_not_kept(client, query):
    response = client.get(f"/static/{CSS}{query}")
    assert response.status_code == 200
    assert response.cache_control.no_cache and response.cache_control.max_age is None
    assert not response.cache_control.immutable


def test_a_changed_file_gets_a_new_url(app, client):
    folder = Path(app.static_folder)
    probe = folder / "h3-probe.txt"
    try:
        probe.write_text("first")
        with app.test_request_context():
            from flask import url_for

            first = url_for("static", filename="h3-probe.txt")
            probe.write_text("second, longer")
            second = url_for("static", filename="h3-probe.txt")
        assert first != second
        assert client.get(first).cache_control.no_cache  # an old page's link: not kept
        assert client.get(second).cache_control.immutable
    finally:
        probe.unlink(missing_ok=True)


def _app(tmp_path, **config):
    return create_app(TestingConfig, STORAGE_DIR=str(tmp_path / "storage"), **config)


def test_x_sendfile_hands_the_file_to_the_proxy(tmp_path):
    client = _app(tmp_path, USE_X_SENDFILE=True).test_client()
    response = client.get(f"/static/{CSS}")
    assert response.status_code == 200 and response.data == b""
    sent = Path(response.headers["X-Sendfile"])
    assert sent.is_file() and sent.as_posix().endswith(CSS)


def test_x_accel_redirect_names_an_internal_location_for_nginx(tmp_path):
    client = _app(tmp_path, USE_X_SENDFILE=True, X_ACCEL_REDIRECT_PREFIX="/_files/").test_client()
    response = client.get(f"/static/{CSS}")
    assert response.status_code == 200 and response.data == b""
    assert "X-Sendfile" not in response.headers
    assert response.headers["X-Accel-Redirect"] == f"/_files/static/{CSS}"


def test_files_are_sent_whole_without_a_proxy(tmp_path):
    response = _app(tmp_path).test_client().get(f"/static/{CSS}")
    assert "X-Sendfile" not in response.headers and "X-Accel-Redirect" not in response.headers
    assert len(response.data) > 100


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flask(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_make_serve_steps_serve_with_gunicorn_and_load_the_demo_only_when_empty(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "MINUTEBOOK_ENV": "development",
        "MINUTEBOOK_INSTANCE": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
    }
    assert _flask(env, "db", "upgrade").returncode == 0
    first = _flask(env, "demo", "load", "--if-empty")
    assert first.returncode == 0 and "Loaded the demo partnership." in first.stdout
    again = _flask(env, "demo", "load", "--if-empty")
    assert again.returncode == 0 and "the demo is not loaded" in again.stdout
    assert "Demo sign-in" not in again.stdout  # nor are its passwords set again

    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/", timeout=5) as response:
                    page = response.read().decode()
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.3)
        assert "Children, Young People and Families Partnership" in page
        css = re.search(r'href="(/static/govuk/minutebook\.css\?v=[0-9a-f]+)"', page).group(1)
        with urllib.request.urlopen(f"{base}{css}", timeout=5) as response:
            assert "immutable" in response.headers["Cache-Control"]
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert output.count("Booting worker") == 2, output
