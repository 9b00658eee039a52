"""Owners' personal update links: signed, expiring, revocable, one action each.

The link carries the action's id, the link's id and a random secret, signed with the app's
secret key (so a mangled or forged link is refused before the database is asked); the
database keeps only a hash of the secret, with who the link is for and when it expires.
A link opens only the action it was made for, and only while that person owns it.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update

from app.actions.models import Action
from app.core.db import utcnow
from app.extensions import db
from app.notifications.models import OwnerLink
from app.notifications.services import link

SALT = "minutebook.owner-link"
DEFAULT_DAYS = 30


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def lifetime() -> timedelta:
    return timedelta(days=int(current_app.config.get("OWNER_LINK_DAYS") or DEFAULT_DAYS))


def make_link(action: Action, now: datetime | None = None) -> str:
    """A new link for the action's current owner, in the caller's transaction; the URL to
    put in a message to them."""
    if action.owner_id is None:
        raise ValueError("an action without an owner has no owner's link")
    made = utcnow()
    # A message queued for a later moment (`notifications send --now`) gets its full time.
    start = max(made, now) if now is not None else made
    secret = secrets.token_urlsafe(32)
    row = OwnerLink(
        action_id=action.id,
        person_id=action.owner_id,
        token_hash=_hash(secret),
        created_at=made,
        expires_at=start + lifetime(),
    )
    db.session.add(row)
    db.session.flush()
    token = _serializer().dumps([action.id, row.id, secret])
    return link("owner_update.update", action_id=action.id, token=token)


class Refusal(enum.StrEnum):
    INVALID = "invalid"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass
class Opened:
    link: OwnerLink | None = None
    action: Action | None = None
    refusal: Refusal | None = None


def open_link(action_id: int, token: str, now: datetime | None = None) -> Opened:
    """The link and its action if the token is good for this action now; otherwise why not.
    Every way a token can be wrong for this action (forged, for another action, unknown)
    gives the same INVALID, so the answer says nothing about other actions' links."""
    now = now or utcnow()
    try:
        payload = _serializer().loads(token)
        token_action, link_id, secret = payload
        token_action, link_id, secret = int(token_action), int(link_id), str(secret)
    except (BadSignature, TypeError, ValueError):
        return Opened(refusal=Refusal.INVALID)
    if token_action != action_id:
        return Opened(refusal=Refusal.INVALID)
    row = db.session.get(OwnerLink, link_id)
    if (
        row is None
        or row.action_id != action_id
        or not secrets.compare_digest(row.token_hash, _hash(secret))
    ):
        return Opened(refusal=Refusal.INVALID)
    action = db.session.get(Action, action_id)
    if action is None:
        return Opened(refusal=Refusal.INVALID)
    if row.revoked_at is not None or action.owner_id != row.person_id:
        return Opened(row, action, Refusal.REVOKED)
    if row.expires_at <= now:
        return Opened(row, action, Refusal.EXPIRED)
    return Opened(row, action)


def revoke_links(action: Action, user=None, keep_person_id: int | None = None) -> int:
    """Revoke the action's live links (all, or all but those for `keep_person_id`); returns
    how many were revoked."""
    now = utcnow()
    stmt = (
        update(OwnerLink)
        .where(OwnerLink.action_id == action.id, OwnerLink.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by_user_id=getattr(user, "id", None) if user else None)
        .execution_options(synchronize_session="fetch")
    )
    if keep_person_id is not None:
        stmt = stmt.where(OwnerLink.person_id != keep_person_id)
    return db.session.execute(stmt).rowcount


def live_links(action: Action, now: datetime | None = None) -> list[OwnerLink]:
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(OwnerLink)
            .where(
                OwnerLink.action_id == action.id,
                OwnerLink.revoked_at.is_(None),
                OwnerLink.expires_at > now,
            )
            .order_by(OwnerLink.created_at, OwnerLink.id)
        )
    )
