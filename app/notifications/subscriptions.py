"""Subscriptions to a committee's publications by e-mail, for the public and members alike:
double opt-in, and one-click unsubscribe (RFC 8058).

Subscribing queues a message with a signed link that expires (SUBSCRIPTION_CONFIRM_HOURS, 48
by default); only once it is followed does the address receive anything else. Whatever the
address's state, the visitor is answered the same, so the form tells no one whether an address
is subscribed; an address already confirmed is sent a note with its manage link instead. No
second message about subscribing goes to an address within SUBSCRIPTION_RESEND_MINUTES (10),
however often the form is sent. Each message to a subscriber carries a link to manage or end
the subscription; ending it deletes the row, and nothing queued for it is sent.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app.auth.services import normalise_email
from app.committees.models import Committee
from app.core.db import utcnow
from app.extensions import db
from app.notifications.models import Message, MessageStatus, Subscription
from app.notifications.services import link, queue, sender_for

CONFIRM_SALT = "minutebook.subscription-confirm"
MANAGE_SALT = "minutebook.subscription"


def confirm_lifetime() -> timedelta:
    return timedelta(hours=int(current_app.config.get("SUBSCRIPTION_CONFIRM_HOURS") or 48))


def resend_window() -> timedelta:
    return timedelta(minutes=int(current_app.config.get("SUBSCRIPTION_RESEND_MINUTES") or 10))


# --- links ---------------------------------------------------------------------------------


def _digest(subscription: Subscription) -> str:
    """Ties a link to the row and address it was made for, so a link outlives neither (an id
    used again after a deletion opens nothing), without the address appearing in the link."""
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    data = f"{subscription.id}:{subscription.email}".encode()
    return hmac.new(key, data, hashlib.sha256).hexdigest()[:24]


def _timed() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CONFIRM_SALT)


def _lasting() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=MANAGE_SALT)


def confirm_token(subscription: Subscription) -> str:
    return _timed().dumps([subscription.id, _digest(subscription)])


def manage_token(subscription: Subscription) -> str:
    return _lasting().dumps([subscription.id, _digest(subscription)])


def _row(payload) -> Subscription | None:
    try:
        subscription_id, digest = payload
        subscription = db.session.get(Subscription, int(subscription_id))
    except (TypeError, ValueError):
        return None
    if subscription is None or not hmac.compare_digest(_digest(subscription), str(digest)):
        return None
    return subscription


def from_confirm_token(token: str) -> tuple[Subscription | None, bool]:
    """The subscription a confirmation link is for, and whether the link has expired."""
    try:
        payload = _timed().loads(token, max_age=int(confirm_lifetime().total_seconds()))
    except SignatureExpired:
        return None, True
    except BadSignature:
        return None, False
    return _row(payload), False


def from_manage_token(token: str) -> Subscription | None:
    try:
        return _row(_lasting().loads(token))
    except BadSignature:
        return None


def valid_manage_token(token: str) -> bool:
    """Whether the link was made here, whether or not its subscription still exists."""
    try:
        _lasting().loads(token)
    except BadSignature:
        return False
    return True


def manage_url(subscription: Subscription) -> str:
    return link("notifications.manage", token=manage_token(subscription))


def unsubscribe_url(subscription: Subscription) -> str:
    return link("notifications.unsubscribe", token=manage_token(subscription))


# --- subscribing, confirming, leaving --------------------------------------------------------


def subscribe(committee: Committee, email: str, now: datetime | None = None) -> None:
    """Ask for the committee's publications at `email` (ValidationError if it is no address).
    Returns nothing: what the visitor is told must not depend on the address's state."""
    now = now or utcnow()
    address = normalise_email(email)
    subscription = _find(committee, address)
    if subscription is None:
        subscription = Subscription(committee_id=committee.id, email=address, created_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(subscription)
        except IntegrityError:  # the same address, subscribed at the same moment
            subscription = _find(committee, address)
            if subscription is None:
                raise
    if subscription.notice_sent_at is not None and now - subscription.notice_sent_at < (
        resend_window()
    ):
        return
    if not subscription.confirmed and now - subscription.created_at >= confirm_lifetime():
        # An old request never confirmed: it starts again, so its link has its full time.
        subscription.created_at = now
    subscription.notice_sent_at = now
    db.session.flush()
    _queue_notice(committee, subscription, now)


def _find(committee: Committee, address: str) -> Subscription | None:
    return db.session.scalar(
        select(Subscription).where(
            Subscription.committee_id == committee.id, Subscription.email == address
        )
    )


def _queue_notice(committee: Committee, subscription: Subscription, now: datetime) -> None:
    from app.notifications.messages import render

    if subscription.confirmed:
        subject = f"You already receive {committee.name}'s agendas"
        name = "subscription_existing"
    else:
        subject = f"Confirm your subscription to {committee.name}'s agendas"
        name = "subscription_confirm"
    text, html = render(
        name,
        subject=subject,
        committee=committee,
        confirm_url=link("notifications.confirm", token=confirm_token(subscription)),
        confirm_hours=int(confirm_lifetime().total_seconds() // 3600),
        subscription_url=manage_url(subscription) if subscription.confirmed else None,
    )
    queue(
        key=f"subscription:{subscription.id}:{now.strftime('%Y%m%dT%H%M%S%f')}",
        kind="subscription",
        recipient=subscription.email,
        sender=sender_for(committee.name),
        subject=subject,
        body_text=text,
        body_html=html,
        subscription_id=subscription.id,
    )


def confirm(subscription: Subscription, now: datetime | None = None) -> None:
    if subscription.confirmed_at is None:
        subscription.confirmed_at = now or utcnow()
        db.session.flush()


def unsubscribe(subscription: Subscription) -> None:
    """End the subscription: the row goes, and what is queued for it is never sent."""
    db.session.execute(
        update(Message)
        .where(Message.subscription_id == subscription.id, Message.status == MessageStatus.QUEUED)
        .values(status=MessageStatus.FAILED, last_error="unsubscribed before it was sent")
        .execution_options(synchronize_session=False)
    )
    db.session.delete(subscription)
    db.session.flush()


def confirmed_subscriptions(committee: Committee) -> list[Subscription]:
    return list(
        db.session.scalars(
            select(Subscription)
            .where(
                Subscription.committee_id == committee.id, Subscription.confirmed_at.is_not(None)
            )
            .order_by(Subscription.id)
        )
    )


def purge_unconfirmed(session, now: datetime | None = None) -> int:
    """Forget requests whose confirmation link has expired: an address nobody confirmed is
    not kept."""
    now = now or utcnow()
    result = session.execute(
        delete(Subscription)
        .where(
            Subscription.confirmed_at.is_(None),
            Subscription.created_at <= now - confirm_lifetime(),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
