"""Which messages each recipient wants: the one predicate every message builder asks
(`wants(recipient, kind)`), and the choices a person makes on the preference page.

A person receives every kind until they opt out of it (a row in notification_opt_outs); a
subscriber receives only the agenda and its supplements, and only once confirmed. An action
assigned, apologies and invitations are not a matter of choice: each is about something the
recipient did or must do, so they are always sent (the page says so).
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select

from app.extensions import db
from app.notifications.models import Kind, OptOut, Subscription
from app.notifications.services import link
from app.people.models import Person

SALT = "minutebook.preferences"

# What each queued message's kind is, as a choice (None: always sent).
KIND_OF_MESSAGE: dict[str, Kind | None] = {
    "agenda_published": Kind.AGENDA,
    "minutes_published": Kind.MINUTES,
    "action_reminder": Kind.REMINDERS,
    "action_overdue": Kind.OVERDUE,
    "action_digest": Kind.DIGEST,
    "action_assigned": None,
    "apologies_received": None,
    "apologies_acknowledged": None,
    "invitation": None,
    "subscription": None,
}

LABELS = {
    Kind.AGENDA: "Agendas when they are published, and each supplement",
    Kind.MINUTES: "Draft minutes when they are circulated",
    Kind.REMINDERS: "A reminder before one of your actions is due",
    Kind.OVERDUE: "A notice when one of your actions becomes overdue",
    Kind.DIGEST: "A weekly list of your open actions",
}
# Subscribers (by e-mail address alone) are sent the public agenda and nothing else.
SUBSCRIBER_KINDS = frozenset({Kind.AGENDA})


def wants(recipient, kind: Kind | str | None) -> bool:
    """Whether `recipient` (a Person, a person's id, a Subscription, or None for an address
    that is no one's in the register, such as a committee's clerk) is to be sent a message of
    `kind` (a Kind, or a message's kind such as "action_digest"; None: always sent)."""
    if isinstance(kind, str) and not isinstance(kind, Kind):
        kind = KIND_OF_MESSAGE[kind] if kind in KIND_OF_MESSAGE else Kind(kind)
    if isinstance(recipient, Subscription):
        return recipient.confirmed and (kind is None or kind in SUBSCRIBER_KINDS)
    if kind is None or recipient is None:
        return True
    person_id = recipient.id if isinstance(recipient, Person) else int(recipient)
    return (
        db.session.scalar(
            select(OptOut.id).where(OptOut.person_id == person_id, OptOut.kind == kind)
        )
        is None
    )


def chosen(person_id: int) -> set[Kind]:
    """The kinds the person receives."""
    out = set(db.session.scalars(select(OptOut.kind).where(OptOut.person_id == person_id)))
    return {k for k in Kind if k not in out}


def choose(person_id: int, kinds) -> None:
    """Keep the person's choice: they receive `kinds` and no other choosable kind."""
    wanted = {Kind(k) for k in kinds}
    db.session.execute(
        delete(OptOut)
        .where(OptOut.person_id == person_id, OptOut.kind.in_(list(wanted)))
        .execution_options(synchronize_session=False)
    )
    have = set(db.session.scalars(select(OptOut.kind).where(OptOut.person_id == person_id)))
    for kind in Kind:
        if kind not in wanted and kind not in have:
            db.session.add(OptOut(person_id=person_id, kind=kind))
    db.session.flush()


# --- a person's link to their preferences, for those without an account ----------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def person_token(person_id: int) -> str:
    return _serializer().dumps(["p", int(person_id)])


def person_from_token(token: str) -> Person | None:
    try:
        tag, person_id = _serializer().loads(token)
        if tag != "p":
            return None
        return db.session.get(Person, int(person_id))
    except (BadSignature, TypeError, ValueError):
        return None


def preferences_url(person_id: int | None) -> str | None:
    """The link to the preference page put in each message to a person: it works without
    signing in, as many owners and officers have no account."""
    if person_id is None:
        return None
    return link("notifications.preferences_by_link", token=person_token(person_id))
