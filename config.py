"""Configuration classes, read from the environment.

Every setting has a safe default so `make run` works on a fresh machine with nothing set; a
deployment overrides them with environment variables (or a `.env` file in the project root).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_INSTANCE = BASE_DIR / "instance"


class ConfigError(RuntimeError):
    """A setting is present but unusable; reported at start-up as one line."""


def instance_secret_key(instance_path: Path) -> str:
    """The SECRET_KEY kept in the instance folder, made on first use.

    Several processes may start together, so the file is created exclusively and a loser of the
    race reads the winner's key instead of writing its own.
    """
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def normalise_database_url(url: str) -> str:
    """Accept the common `postgres://` and `postgresql://` spellings and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    INSTANCE_PATH = Path(os.environ.get("MINUTEBOOK_INSTANCE", DEFAULT_INSTANCE))
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_PATH / 'minutebook.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SECRET_KEY = os.environ.get("SECRET_KEY") or None  # filled from the instance folder
    STORAGE_DIR = Path(os.environ.get("STORAGE_DIR", INSTANCE_PATH / "storage"))
    # Checked and turned into MAX_CONTENT_LENGTH by the app factory, where a bad value can be
    # reported in one line rather than as an import-time traceback.
    MAX_UPLOAD_MB = os.environ.get("MAX_UPLOAD_MB") or "50"
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or None
    SITE_NAME = os.environ.get("SITE_NAME", "Minutebook")
    DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "Europe/London")

    # Both sign-in cookies are out of scripts' reach and not sent on cross-site requests in
    # every environment; HTTPS-only follows SESSION_COOKIE_SECURE (on by default in production
    # only, since development serves plain HTTP), and always applies to both cookies alike.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    WTF_CSRF_TIME_LIMIT = None  # a clerk may keep a long form open all morning
    # How many reverse proxies stand in front of the app. X-Forwarded-For (and -Proto, -Host)
    # are believed only from that many hops: with none, anyone could claim any address and
    # dodge (or aim) sign-in throttling.
    PROXY_COUNT = os.environ.get("PROXY_COUNT") or "0"
    # Behind a proxy that serves files itself (Apache mod_xsendfile, lighttpd), packs, papers
    # and static files are sent as an X-Sendfile header naming the file and no body; for nginx,
    # X_ACCEL_REDIRECT_PREFIX makes that X-Accel-Redirect to an internal location
    # (app/core/static.py). Without such a proxy in front, files would arrive empty.
    USE_X_SENDFILE = os.environ.get("USE_X_SENDFILE", "0") == "1"
    X_ACCEL_REDIRECT_PREFIX = os.environ.get("X_ACCEL_REDIRECT_PREFIX") or None
    # Strict-Transport-Security max-age, sent only when set (production sets it).
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS") or 0)
    # SQLite has one writer: others wait this long for it before the request is answered 503.
    # Numbers are read as given and checked by create_app, which names a bad one in one line.
    DATABASE_BUSY_TIMEOUT = os.environ.get("DATABASE_BUSY_TIMEOUT") or 5
    DATABASE_RETRY_AFTER = 5  # seconds, in the Retry-After of a 503
    # Limits on the child process that reads each uploaded PDF (app/agenda/pdfsafety.py): a
    # real paper takes well under a second; a PDF bomb is refused when it passes one of them.
    PDF_CHECK_CPU_SECONDS = os.environ.get("PDF_CHECK_CPU_SECONDS") or 30
    PDF_CHECK_MEMORY_MB = os.environ.get("PDF_CHECK_MEMORY_MB") or 2048
    PDF_CHECK_SECONDS = os.environ.get("PDF_CHECK_SECONDS") or 90

    # Mail (app/notifications): without MAIL_SERVER, messages are written to the log and to
    # instance/outbox/ as .eml files, so nothing is needed to try the app.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = os.environ.get("MAIL_PORT") or 25
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "0").lower() in ("1", "true", "yes")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_FROM = os.environ.get("MAIL_FROM") or "minutebook@localhost"
    MAIL_TIMEOUT = os.environ.get("MAIL_TIMEOUT") or 30
    # Where links in messages point. Never taken from a request's Host header, which a sender
    # could set to send a clerk a link to somewhere else.
    SITE_URL = os.environ.get("SITE_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or 5000}"

    API_TITLE = "Minutebook API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    TESTING = False
    DEBUG = False
    # Move what start-up made (modules, templates, metadata: never garbage) out of the cyclic
    # collector's way. Pack builds allocate heavily, and each full collection otherwise walks
    # all of it again: measured with scripts/bench_pack.py, about 10% of a cold build.
    GC_FREEZE_AT_START = True
    # A pack not built yet is built on a worker or a thread, and the reader is told to come
    # back after PACK_RETRY_AFTER seconds (503), rather than a web worker being held for it.
    PACK_BUILDS_OFF_REQUEST = os.environ.get("PACK_BUILDS_OFF_REQUEST", "1") == "1"
    PACK_RETRY_AFTER = os.environ.get("PACK_RETRY_AFTER") or 10


class DevelopmentConfig(Config):
    DEBUG = os.environ.get("FLASK_DEBUG", "0") == "1"
    # One developer at a time: the pack is built while they wait.
    PACK_BUILDS_OFF_REQUEST = os.environ.get("PACK_BUILDS_OFF_REQUEST", "0") == "1"


class TestingConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    )
    SECRET_KEY = "testing-only-not-secret"
    WTF_CSRF_ENABLED = False
    GC_FREEZE_AT_START = False  # the suite makes many apps; frozen ones would never be freed
    CELERY_BROKER_URL = None
    PACK_BUILDS_OFF_REQUEST = False  # tests/packs/test_background.py turns it on
    MAIL_SERVER = None  # tests send to their own server on loopback, or to the outbox


class ProductionConfig(Config):
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS") or 365 * 24 * 3600)
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
