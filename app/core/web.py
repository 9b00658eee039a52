"""Request-level wiring shared by every blueprint: the request's transaction, user loading,
error pages, headers, template helpers."""

from __future__ import annotations

import functools
from datetime import date, datetime
from urllib.parse import urlencode

from flask import Flask, current_app, g, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from app.extensions import db, login_manager


def wants_problem_json() -> bool:
    return request.path.startswith("/api/")


def problem_response(status: int, title: str, detail: str | None = None, errors=None):
    from flask import jsonify

    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def flatten_messages(messages) -> dict[str, list[str]] | None:
    """webargs reports errors by location ({"query": {"per_page": [...]}}); clients want them
    by field."""
    if not messages:
        return None
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            out.setdefault(prefix or "_", []).extend(
                value if isinstance(value, list) else [str(value)]
            )

    for location_errors in (
        messages.values()
        if all(
            k in ("query", "json", "form", "files", "headers", "view_args", "path")
            for k in messages
        )
        else [messages]
    ):
        walk("", location_errors)
    return out


def cursor_links(endpoint: str, page, kept: dict) -> dict:
    """A keyset-paged list's Previous and Next links (`previous_url`, `next_url`: None at
    either end) for its page's template: the list's address by `before` or `after` a cursor
    of the page (app.core.keyset.Page), with the filters in `kept`. The filters are the
    reader's query, so they go into the query string as they are rather than through
    url_for, which would read `endpoint` or `_method` among them as its own arguments."""
    base = url_for(endpoint)
    kept = {k: v for k, v in kept.items() if k not in ("after", "before")}

    def link(name: str, cursor: str | None) -> str | None:
        return f"{base}?{urlencode({name: cursor, **kept})}" if cursor else None

    return {
        "next_url": link("after", page.next_cursor),
        "previous_url": link("before", page.previous_cursor),
    }


def is_unavailable(exc: OperationalError) -> bool:
    """Whether the database refused for now (locked, busy, unreachable) rather than for good."""
    if exc.connection_invalidated or type(exc.orig).__module__.startswith("psycopg"):
        return True  # PostgreSQL's operational errors are lost connections, timeouts, deadlocks
    message = str(exc.orig).lower()
    return any(words in message for words in ("locked", "busy", "unable to open"))


class DatabaseIntConverter(IntegerConverter):
    """`<int:...>` ids that fit the database: anything larger cannot exist, so it is a 404
    rather than an overflow deep in the driver. Such an id still matches its route and names
    nothing (0, which no row has): refusing the match instead would let a route of the same
    path with other methods answer 405 for it."""

    LARGEST = 2**31 - 1

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= self.LARGEST else 0


def own_transactions(app: Flask) -> None:
    """Each request owns one transaction: committed once the view has answered with success
    (2xx or 3xx), rolled back when it answers with an error or raises. Views and API handlers
    never commit, and services neither, with two stated exceptions that must stand although
    their request is answered with an error: sign-in's attempt count and failure
    (auth.services.authenticate) and a pack build's failure (packs.cache). Work that must
    wait for the commit goes through core.db.on_commit. Call once every blueprint is
    registered."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = _in_one_transaction(view)


def _in_one_transaction(view):
    @functools.wraps(view)
    def run(*args, **kwargs):
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code >= 400:
            db.session.rollback()
            return response
        try:
            db.session.commit()
        except BaseException:
            # Nothing was kept, so a "Meeting updated" already flashed must not be shown; the
            # error handlers answer (a 503 when the database is busy).
            session.pop("_flashes", None)
            db.session.rollback()
            raise
        return response

    return run


def init_web(app: Flask) -> None:
    from app.core.errors import ServiceError, ValidationError, integrity_to_validation

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if wants_problem_json():
            data = getattr(exc, "data", None) or {}
            errors = data.get("errors") or flatten_messages(data.get("messages"))
            detail = data.get("message") or (
                "Some of the values sent are not valid." if errors else exc.description
            )
            response = problem_response(exc.code or 500, exc.name, detail, errors)
            for name, value in (data.get("headers") or {}).items():
                response.headers[name] = value
            if exc.code == 401:
                response.headers.setdefault("WWW-Authenticate", "Bearer")
            _allow(exc, response)
            return response
        response = app.make_response(
            (render_template("error.html", code=exc.code, title=exc.name), exc.code)
        )
        _allow(exc, response)
        return response

    def _allow(exc: HTTPException, response) -> None:
        # A 405 names the methods that would work (RFC 9110 requires it).
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: OperationalError):
        # Locked (SQLite's one writer held past the busy timeout) or unreachable: worth trying
        # again shortly, so a 503 with Retry-After rather than a 500. Anything else is a bug.
        db.session.rollback()
        if not is_unavailable(exc):
            return unexpected_error(exc)
        app.logger.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
        message = "The service is busy. Please try again in a few seconds."
        # The page must not ask the database who is signed in: that would fail the same way.
        g._login_user = login_manager.anonymous_user()
        if wants_problem_json():
            response = problem_response(503, "Service unavailable", message)
        else:
            response = app.make_response(
                (
                    render_template(
                        "error.html", code=503, title="Service unavailable", message=message
                    ),
                    503,
                )
            )
        response.headers["Retry-After"] = str(app.config.get("DATABASE_RETRY_AFTER", 5))
        return response

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge):
        # Werkzeug refuses the body before any view or service sees it (MAX_CONTENT_LENGTH), so
        # the only upload-sized body is a paper: say so in the same words as the paper check.
        limit_mb = app.config["MAX_UPLOAD_MB"]
        message = (
            f"The file is larger than {limit_mb} MB, the largest paper Minutebook accepts. "
            "Reduce its size (for example, save it with smaller images) and upload it again."
        )
        if request.is_json:  # a JSON body has a bound of its own (app/api/auth.py)
            message = (getattr(exc, "data", None) or {}).get("message") or (
                "The JSON body is too large."
            )
        if wants_problem_json():
            return problem_response(413, "Content too large", message)
        return render_template(
            "error.html", code=413, title="The file is too large", message=message
        ), 413

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        message = "This form has expired or was not sent from this site. Please try again."
        if wants_problem_json():
            return problem_response(400, "Bad request", message)
        return render_template("error.html", code=400, title="Form expired", message=message), 400

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        db.session.rollback()
        if wants_problem_json():
            response = problem_response(exc.status, exc.title, exc.detail, exc.errors)
        else:
            response = app.make_response(
                (
                    render_template(
                        "error.html", code=exc.status, title=exc.title, message=exc.detail
                    ),
                    exc.status,
                )
            )
        response.headers.update(exc.headers)
        return response

    @app.errorhandler(IntegrityError)
    def integrity_error(exc: IntegrityError):
        # A safety net: services should translate these themselves (constraint_errors).
        app.logger.warning("constraint refused a change on %s", request.path)
        return service_error(integrity_to_validation(exc))

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def out_of_range(exc: Exception):
        # A number too large for the database (from a form or an API body) is bad input.
        app.logger.warning("value out of range on %s", request.path)
        return service_error(
            ValidationError("A number is out of range.", {"_": ["A number is out of range."]})
        )

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        # Log the failure, but never echo it: it may quote data the visitor may not see.
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        if app.testing and app.config.get("PROPAGATE_EXCEPTIONS_IN_TESTS", True):
            raise exc
        if wants_problem_json():
            return problem_response(500, "Internal server error")
        return render_template("error.html", code=500, title="Something went wrong"), 500

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
        if app.config.get("HSTS_SECONDS"):
            response.headers.setdefault(
                "Strict-Transport-Security", f"max-age={app.config['HSTS_SECONDS']}"
            )
        _no_store_when_personal(response)
        return response

    def _no_store_when_personal(response) -> None:
        """API answers and whatever a signed-in person sees are never kept by a browser or a
        shared cache (a back button after sign-out, a shared computer, a proxy).

        A response that says it is private (a members' pack, a restricted paper) is tightened
        to no-store; one that says it is public (a public pack, a feed) keeps its caching.
        """
        if request.endpoint == "static":
            return  # the same for everyone, and worth caching
        if response.cache_control.private or (
            (request.path.startswith("/api/") or _signed_in()) and not response.cache_control.public
        ):
            response.headers["Cache-Control"] = "no-store"

    def _signed_in() -> bool:
        # Only a loaded user counts: asking would load one for every anonymous request.
        user = g.get("_login_user")
        return user is not None and user.is_authenticated

    app.jinja_env.filters["local_datetime"] = format_local_datetime
    app.jinja_env.filters["local_date"] = format_local_date
    app.jinja_env.filters["local_time"] = format_local_time
    app.jinja_env.globals["site_name"] = app.config["SITE_NAME"]


def _day(d: int) -> str:
    return str(d)


def format_local_date(value: datetime | date | None, tz: str | None = None) -> str:
    """'Wednesday 22 May 2013' in the meeting's own timezone."""
    if value is None:
        return ""
    if isinstance(value, datetime) and tz:
        from zoneinfo import ZoneInfo

        value = value.astimezone(ZoneInfo(tz))
    return f"{value:%A} {_day(value.day)} {value:%B %Y}"


def format_local_time(value: datetime | None, tz: str | None = None) -> str:
    """'2pm', '2.30pm' (GOV.UK style) in the given timezone."""
    if value is None:
        return ""
    if tz:
        from zoneinfo import ZoneInfo

        value = value.astimezone(ZoneInfo(tz))
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    if value.hour == 12 and value.minute == 0:
        return "midday"
    if value.minute:
        return f"{hour}.{value.minute:02d}{suffix}"
    return f"{hour}{suffix}"


def format_local_datetime(value: datetime | None, tz: str | None = None) -> str:
    if value is None:
        return ""
    return f"{format_local_date(value, tz)}, {format_local_time(value, tz)}"
