"""Bearer-token identity for the API. The API never uses the session cookie, so a signed-in
browser cannot be made to call it on someone's behalf (and CSRF does not apply)."""

from __future__ import annotations

import functools
import re

from flask import after_this_request, current_app, g, render_template, request
from flask_login import AnonymousUserMixin
from flask_smorest import abort
from werkzeug.exceptions import Unauthorized

from app.auth.services import user_for_token
from app.core.permissions import is_staff

# Every API write needs a token (members and owners have theirs too), so an anonymous one is
# refused before its body is read, let alone validated.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# No write takes more than a few kilobytes of JSON, nor nests more than a few levels; the
# bounds keep a crafted body from exhausting the parser (deep nesting is a RecursionError).
MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")


def guard_request() -> None:
    """Before any API view: who is asking, then whether a write may be read at all."""
    load_api_user()
    if request.method in WRITE_METHODS and not g.api_user.is_authenticated:
        abort(401, message="This needs an API token.")
    if request.is_json:
        check_json_body()


def check_json_body() -> None:
    if (request.content_length or 0) > MAX_JSON_BYTES:
        abort(413, message=_too_large())
    # A body sent without a length stops being read at the bound (Werkzeug raises 413).
    request.max_content_length = MAX_JSON_BYTES
    depth = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub(b"", request.get_data(cache=True))):
        depth += 1 if bracket.group() in (b"[", b"{") else -1
        if depth > MAX_JSON_DEPTH:
            abort(
                400,
                message=f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.",
            )


def _too_large() -> str:
    return f"The JSON body is larger than {MAX_JSON_BYTES // 1024} KB."


def load_api_user() -> None:
    header = request.headers.get("Authorization")
    g.api_user = AnonymousUserMixin()
    if header is None:
        return
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, message="Send the token as 'Authorization: Bearer <token>'.")
    user = user_for_token(token)
    if user is None:
        abort(401, message="The token is not valid, has expired or has been revoked.")
    # The token's last use (noted at most once a minute) is kept with the request's commit.
    g.api_user = user
    # What the services read as the request's user (the audit trail's "who") is the token's
    # user for this request only: nothing is written to the session, and it is forgotten
    # before anything else shares the application context (as the test client's requests do).
    current_app.login_manager._update_request_context_with_user(user)

    @after_this_request
    def forget_user(response):
        g.pop("_login_user", None)
        return response


def api_user():
    return getattr(g, "api_user", None) or AnonymousUserMixin()


def require_user():
    user = api_user()
    if not user.is_authenticated:
        abort(401, message="This needs an API token.")
    return user


def require_staff():
    user = require_user()
    if not is_staff(user):
        abort(403, message="This needs a clerk's or an administrator's token.")
    return user


def bearer_reader(view):
    """For the file routes (packs, the minutes PDF, papers) alone: with `Authorization: Bearer
    <token>` the token's user is the reader of that request, as in the API, so a members' app
    fetches what its user may see and gets the same 404 as a signed-in browser otherwise. A bad
    token is a 401, never the public's view. Other schemes are left alone: a proxy's Basic
    credentials in front of the site must not break downloads for signed-in browsers."""

    @functools.wraps(view)
    def read_as_token_user(*args, **kwargs):
        scheme = request.headers.get("Authorization", "").partition(" ")[0]
        if scheme.lower() == "bearer":
            try:
                load_api_user()
            except Unauthorized as exc:
                message = (getattr(exc, "data", None) or {}).get("message")
                response = current_app.make_response(
                    (render_template("error.html", code=401, title=exc.name, message=message), 401)
                )
                response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
                return response
        return view(*args, **kwargs)

    return read_as_token_user
