from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, created_at, fk, intpk, str_enum, utcnow
from app.extensions import db


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its (next) attempt
    SENT = "sent"  # accepted by the SMTP server, or written to the outbox
    FAILED = "failed"  # refused for good, or out of attempts: never tried again


class Message(db.Model):
    """One e-mail to one recipient. Its key says what it is about and for whom (the agenda of
    meeting 12 at revision 2 for person 7), so the same message is never queued, or sent,
    twice."""

    __tablename__ = "notification_messages"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("status != 'sent' OR sent_at IS NOT NULL", name="sent_is_stamped"),
        CheckConstraint("length(trim(recipient)) > 0", name="recipient_not_blank"),
        # The sender's question: what is due now?
        Index("ix_notification_messages_due", "status", "next_attempt_at"),
    )

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    recipient: Mapped[str] = mapped_column(String(254))
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    person_id: Mapped[int | None] = fk("people.id", ondelete="SET NULL", nullable=True)
    subscription_id: Mapped[int | None] = fk(
        "notification_subscriptions.id", ondelete="SET NULL", nullable=True
    )
    sender: Mapped[str] = mapped_column(String(400))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # Kept from the first attempt on, so a retry is recognisably the same message.
    message_id: Mapped[str] = mapped_column(String(300))
    status: Mapped[MessageStatus] = mapped_column(
        str_enum(MessageStatus, "message_status"), default=MessageStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # RFC 8058 one-click address, sent as List-Unsubscribe: only mail to a subscriber has one.
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[created_at]

    def __repr__(self) -> str:
        return f"<Message {self.id} {self.kind} to {self.recipient} {self.status}>"


class OwnerLink(db.Model):
    """A personal link for an action's owner to report progress without signing in. Only a
    hash of its secret is kept: the link itself lives only in the message it was sent in. It
    stops working when it expires, when a clerk revokes it, or when the action gets another
    owner."""

    __tablename__ = "notification_owner_links"
    __table_args__ = (CheckConstraint("expires_at > created_at", name="expires_after_made"),)

    id: Mapped[intpk]
    action_id: Mapped[int] = fk("actions.id", ondelete="CASCADE")
    person_id: Mapped[int] = fk("people.id", ondelete="CASCADE")
    # sha256 of the link's secret, hex.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[created_at]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_user_id: Mapped[int | None] = fk("users.id", ondelete="SET NULL", nullable=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<OwnerLink {self.id} action {self.action_id} person {self.person_id}>"


class Subscription(db.Model):
    """An e-mail address that asked for a committee's publications. Only what sending needs is
    kept: the address, the committee, when it was confirmed (None until the link in the
    confirmation message is followed) and when it was last written to about subscribing, so a
    second confirmation is never sent within a short window. Unsubscribing deletes the row; an
    unconfirmed one is deleted once its link has expired."""

    __tablename__ = "notification_subscriptions"
    __table_args__ = (
        UniqueConstraint("committee_id", "email"),
        CheckConstraint("length(trim(email)) > 0", name="email_not_blank"),
    )

    id: Mapped[intpk]
    committee_id: Mapped[int] = fk("committees.id", ondelete="CASCADE")
    # Lower case, as normalised when it was given.
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[created_at]
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None

    def __repr__(self) -> str:
        return f"<Subscription {self.id} committee {self.committee_id}>"


class Kind(enum.StrEnum):
    """The kinds of message one may choose not to receive. An action assigned to someone,
    apologies and invitations are always sent: each is about something they did or must do."""

    AGENDA = "agenda"  # an agenda published, and each supplement
    MINUTES = "minutes"  # draft minutes circulated
    REMINDERS = "reminders"  # an action due soon
    OVERDUE = "overdue"  # an action become overdue
    DIGEST = "digest"  # the weekly list of one's open actions


class OptOut(db.Model):
    """A kind of message a person has asked not to receive (app/notifications/preferences.py).
    A person with no rows receives every kind, as before preferences existed."""

    __tablename__ = "notification_opt_outs"
    __table_args__ = (UniqueConstraint("person_id", "kind"),)

    id: Mapped[intpk]
    person_id: Mapped[int] = fk("people.id", ondelete="CASCADE")
    kind: Mapped[Kind] = mapped_column(str_enum(Kind, "notification_kind"))
    created_at: Mapped[created_at]
