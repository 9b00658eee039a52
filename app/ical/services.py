"""Personal feed tokens: secret URLs that calendar apps can poll without cookies."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, url_for
from sqlalchemy import select

from app.audit.services import record
from app.auth.models import User
from app.extensions import db


def _derive(user: User) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"calendar:{user.id}:{user.calendar_nonce}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:40]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_token(user: User) -> str:
    """The user's feed token, made on first use. Only its hash is stored, for lookup."""
    if not user.calendar_nonce:
        reset_calendar_token(user, audit=False)
    return _derive(user)


def reset_calendar_token(user: User, audit: bool = True) -> str:
    """A new token; the old URL stops working at once."""
    user.calendar_nonce = secrets.token_hex(16)
    token = _derive(user)
    user.calendar_token_hash = _hash(token)
    db.session.flush()
    if audit:
        record("calendar_token_reset", user, user=user)
    return token


def user_for_calendar_token(token: str) -> User | None:
    if not token or len(token) > 100:
        return None
    user = db.session.scalar(select(User).where(User.calendar_token_hash == _hash(token)))
    if user is None or not user.is_active or not hmac.compare_digest(_derive(user), token):
        return None
    return user


def feed_urls(user) -> dict[str, str | None]:
    token = calendar_token(user)
    meetings = url_for("ical.personal", token=token, _external=True)
    actions = (
        url_for("ical.personal_actions", token=token, _external=True)
        if user.actions_feed_enabled
        else None
    )
    return {"calendar_feed_url": meetings, "actions_feed_url": actions}
