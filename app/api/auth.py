"""Bearer-token identity for the API. The API never uses the session cookie, so a signed-in
browser cannot be made to call it on someone's behalf (and CSRF does not apply)."""

from __future__ import annotations

from flask import g, request
from flask_login import AnonymousUserMixin
from flask_smorest import abort

from app.auth.services import user_for_token
from app.core.permissions import is_staff


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
        abort(401, message="The token is not valid, or has been revoked.")
    g.api_user = user


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
