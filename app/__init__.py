"""Minutebook: committee meetings, agenda packs, minutes and actions."""

from __future__ import annotations

import gc
import logging
import os
import re
import sys
from pathlib import Path

from flask import Flask
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS, Config, ConfigError, instance_secret_key

log = logging.getLogger(__name__)


def create_app(config_class: type[Config] | None = None, **overrides) -> Flask:
    if config_class is None:
        config_class = CONFIGS.get(os.environ.get("MINUTEBOOK_ENV", "development"), Config)
    app = Flask(__name__, instance_path=str(config_class.INSTANCE_PATH))
    from app.core.web import DatabaseIntConverter

    app.url_map.converters["int"] = DatabaseIntConverter
    app.config.from_object(config_class)
    app.config.update(overrides)
    try:
        _finish_config(app)
        _init_extensions(app)
        _register_blueprints(app)
        _register_cli(app)
        from app.core.web import init_web, own_transactions

        init_web(app)
        from app.core.static import init_static

        init_static(app)
        own_transactions(app)
        if not app.config.get("SKIP_DATABASE_CHECK") and not app.testing:
            check_database(app)
    except ConfigError as exc:
        # One clear line, not a traceback: the person starting the app needs the cause only.
        print(f"minutebook: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if app.config.get("GC_FREEZE_AT_START"):
        gc.collect()
        gc.freeze()
    return app


def _finish_config(app: Flask) -> None:
    instance = Path(app.instance_path)
    if not app.config.get("SECRET_KEY"):
        try:
            app.config["SECRET_KEY"] = instance_secret_key(instance)
        except OSError as exc:
            raise ConfigError(
                f"cannot keep a secret key in {instance}: {exc.strerror}; set SECRET_KEY"
            ) from exc
    raw_limit = str(app.config["MAX_UPLOAD_MB"]).strip()
    if not raw_limit.isdigit() or int(raw_limit) < 1:
        raise ConfigError(f"MAX_UPLOAD_MB must be a whole number of megabytes, not {raw_limit!r}")
    app.config["MAX_UPLOAD_MB"] = int(raw_limit)
    for name, kind, low, high in NUMBERS:
        app.config[name] = _number(app.config.get(name), name, kind, low, high)
    raw_proxies = str(app.config.get("PROXY_COUNT") or "0").strip()
    if not raw_proxies.isdigit():
        raise ConfigError(f"PROXY_COUNT must be a whole number of proxies, not {raw_proxies!r}")
    app.config["PROXY_COUNT"] = int(raw_proxies)
    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)
    # Werkzeug refuses larger bodies before a view runs; the extra megabyte leaves room for the
    # other fields of a multipart upload.
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = (int(raw_limit) + 1) * 1024 * 1024
    storage = Path(app.config["STORAGE_DIR"])
    try:
        storage.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot use STORAGE_DIR {storage}: {exc.strerror}") from exc
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith(("sqlite:", "postgresql")):
        raise ConfigError(
            f"DATABASE_URL must be a sqlite:// or postgresql:// URL, not {_without_password(uri)!r}"
        )
    try:
        url = make_url(uri)
        url.port  # noqa: B018  (a port that is not a number only fails when it is read)
    except (ArgumentError, ValueError):
        raise ConfigError(
            f"DATABASE_URL is not a valid URL: {_without_password(uri)!r} "
            "(expected e.g. postgresql://user:password@host:5432/name)"
        ) from None
    if url.get_backend_name() == "sqlite":
        # The driver's timeout is SQLite's busy timeout: wait for the writer rather than fail.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {
            "timeout": float(app.config["DATABASE_BUSY_TIMEOUT"]),
            **options.get("connect_args", {}),
        }
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if url.get_backend_name() == "postgresql":
        # PostgreSQL compiles a query to machine code when its estimated cost is high, and
        # the visibility filters' estimates are (correlated EXISTS under OR) while they run
        # in milliseconds: on a council's record JIT spent 970 ms compiling the public
        # tracker's 40 ms query, on every request. Off for the app's connections, as for
        # most short-query web applications; connect_args given in settings come first.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"options": "-c jit=off", **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        folder = Path(url.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the folder {folder} for the SQLite database: {exc.strerror}"
            ) from None


# Settings that are numbers: (name, whole or not, smallest, largest).
NUMBERS = [
    ("DATABASE_BUSY_TIMEOUT", float, 0, 3600),
    ("PDF_CHECK_CPU_SECONDS", int, 1, 3600),
    ("PDF_CHECK_MEMORY_MB", int, 64, 1_048_576),
    ("PDF_CHECK_SECONDS", int, 1, 3600),
    ("MAIL_PORT", int, 1, 65535),
    ("MAIL_TIMEOUT", float, 1, 3600),
    ("PACK_RETRY_AFTER", int, 1, 3600),
]


def _number(raw, name: str, kind: type, low: float, high: float):
    text = str(raw).strip()
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name} must be {what} from {low} to {high}, not {text!r}")
    return value


def _without_password(uri: str) -> str:
    # Start-up errors go to logs; a URL that cannot be parsed may still carry a password.
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", uri)


def check_database(app: Flask) -> None:
    from app.extensions import db

    with app.app_context():
        try:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            safe_url = db.engine.url.render_as_string(hide_password=True)
            raise ConfigError(f"cannot connect to the database {safe_url}: {reason}") from None


def _load_receivers() -> None:
    """Modules that react to what lower packages do (signals, session hooks), loaded in every
    process (web, CLI, worker) before anything can happen that they must see."""
    from app.actions import services as _actions  # noqa: F401  (a minute its actions need)
    from app.auth import services as _auth  # noqa: F401  (the session user loader)
    from app.minutes import services as _minutes  # noqa: F401  (an item its minute needs)
    from app.notifications import messages as _mail  # noqa: F401  (queues who is told what)
    from app.notifications import tasks as _mail_tasks  # noqa: F401  (the sending task)
    from app.packs import cache as _packs  # noqa: F401  (looks at each paper once, when kept)
    from app.packs import tasks as _tasks  # noqa: F401  (builds packs once published)
    from app.search import services as _search  # noqa: F401  (keeps the index current)


def _init_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (every table in the metadata before anything uses it)
    from app.extensions import api, csrf, db, login_manager, migrate
    from app.packs.tasks import init_celery

    _load_receivers()
    try:
        db.init_app(app)  # makes the engine, which is where a URL it cannot use is refused
    except ArgumentError as exc:
        uri = _without_password(app.config["SQLALCHEMY_DATABASE_URI"])
        reason = str(exc).strip().splitlines()[0]
        raise ConfigError(f"DATABASE_URL {uri!r} cannot be used: {reason}") from None
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    api.init_app(app)
    WTFormsHelpers(app)
    init_celery(app)

    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("app"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )


def _register_blueprints(app: Flask) -> None:
    from app.actions.views import bp as actions_bp
    from app.agenda.views import bp as agenda_bp
    from app.api import register as register_api
    from app.auth.views import bp as auth_bp
    from app.committees.views import bp as committees_bp
    from app.ical.views import bp as ical_bp
    from app.main.views import bp as main_bp
    from app.meetings.views import bp as meetings_bp
    from app.minutes.views import bp as minutes_bp
    from app.notifications.pages import bp as notifications_bp
    from app.notifications.views import bp as owner_update_bp
    from app.packs.views import bp as packs_bp
    from app.people.views import bp as people_bp

    for bp in (
        main_bp,
        auth_bp,
        committees_bp,
        meetings_bp,
        agenda_bp,
        minutes_bp,
        actions_bp,
        ical_bp,
        packs_bp,
        owner_update_bp,
        people_bp,
        notifications_bp,
    ):
        app.register_blueprint(bp)
    register_api(app)


def _register_cli(app: Flask) -> None:
    from app.auth.cli import tokens_cli, users_cli
    from app.demo.cli import demo_cli
    from app.notifications.cli import notifications_cli
    from app.packs.cli import packs_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(packs_cli)
    app.cli.add_command(notifications_cli)
