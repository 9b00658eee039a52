from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, created_at, fk, intpk, str_enum, updated_at, utcnow
from app.core.permissions import is_staff, person_id_of
from app.extensions import db
from app.people.models import Person

if TYPE_CHECKING:
    from app.committees.models import Committee
    from app.minutes.models import Minute, Resolution


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"
    CANCELLED = "cancelled"

    @property
    def closed(self) -> bool:
        return self in (ActionStatus.COMPLETE, ActionStatus.CANCELLED)


class Rag(enum.StrEnum):
    RED = "red"  # not done or at risk
    AMBER = "amber"  # in progress, slipping
    GREEN = "green"  # on target
    GREY = "grey"  # complete and evidenced


class Action(db.Model):
    """Something a resolution (or an action plan) asks someone to do by a date."""

    __tablename__ = "actions"
    __table_args__ = (
        CheckConstraint("length(trim(title)) > 0", name="title_not_blank"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(
            "status NOT IN ('complete', 'cancelled') OR closed_at IS NOT NULL",
            name="closed_is_stamped",
        ),
        # The tracker's order (actions.services.TRACKER_ORDER: due date, none last, then id),
        # so its pages walk the actions in order and stop at a page of those the reader may
        # see, instead of sorting every visible action first.
        Index("ix_actions_tracker_order", text("(due_date IS NULL)"), "due_date", "id"),
    )

    id: Mapped[intpk]
    committee_id: Mapped[int] = fk("committees.id", ondelete="RESTRICT")
    resolution_id: Mapped[int | None] = fk("resolutions.id", ondelete="SET NULL", nullable=True)
    # An action recorded in a minute's narrative rather than a numbered resolution.
    minute_id: Mapped[int | None] = fk("minutes.id", ondelete="SET NULL", nullable=True)
    reference: Mapped[str | None] = mapped_column(String(50))  # e.g. "1.2.3" in an action plan
    theme: Mapped[str | None] = mapped_column(String(300))
    objective: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = fk("people.id", ondelete="SET NULL", nullable=True)
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    review_date: Mapped[date | None] = mapped_column(Date)
    target_measure: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ActionStatus] = mapped_column(
        str_enum(ActionStatus, "action_status"), default=ActionStatus.OPEN
    )
    rag: Mapped[Rag | None] = mapped_column(str_enum(Rag, "rag"))
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    committee: Mapped[Committee] = relationship()
    resolution: Mapped[Resolution | None] = relationship(back_populates="actions")
    minute: Mapped[Minute | None] = relationship()
    owner: Mapped[Person | None] = relationship()
    updates: Mapped[list[ActionUpdate]] = relationship(
        back_populates="action", cascade="all, delete-orphan", order_by="ActionUpdate.created_at"
    )
    # A plan's row may name several leads ("Geoff Gurney, Rebecca Ransley"): the first is the
    # owner, who updates it; the others are kept here, in the plan's order.
    co_owner_links: Mapped[list[ActionCoOwner]] = relationship(
        cascade="all, delete-orphan", order_by="ActionCoOwner.position"
    )

    @property
    def co_owners(self) -> list[Person]:
        return [link.person for link in self.co_owner_links]

    @property
    def source_minute(self) -> Minute | None:
        return self.resolution.minute if self.resolution is not None else self.minute

    @property
    def record_meeting_id(self) -> int | None:
        # Through its resolution or minute: the meeting whose minutes it arises from.
        minute = self.source_minute
        return minute.record_meeting_id if minute is not None else None

    def is_overdue(self, today: date | None = None) -> bool:
        today = today or date.today()
        return not self.status.closed and self.due_date is not None and self.due_date < today

    @property
    def latest_update(self) -> ActionUpdate | None:
        return self.updates[-1] if self.updates else None

    def can_view(self, user) -> bool:
        if is_staff(user) or (self.owner_id and person_id_of(user) == self.owner_id):
            return True
        minute = self.source_minute
        if minute is not None:
            return minute.can_view(user)
        return self.committee.is_member_user(user)

    def can_update(self, user) -> bool:
        """Owners post progress on their own actions; clerks on anyone's."""
        return is_staff(user) or (self.owner_id is not None and person_id_of(user) == self.owner_id)

    def can_correct(self, user) -> bool:
        """Correcting what the action is (title, owner, due date, reference) is a clerk's job:
        an owner reports progress, but may not move their own deadline."""
        return is_staff(user)


class ActionUpdate(db.Model):
    __tablename__ = "action_updates"

    id: Mapped[intpk]
    action_id: Mapped[int] = fk("actions.id", ondelete="CASCADE")
    author_user_id: Mapped[int | None] = fk("users.id", ondelete="SET NULL", nullable=True)
    # Set when the author has no account, or reported by their personal link without signing in.
    author_person_id: Mapped[int | None] = fk("people.id", ondelete="SET NULL", nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ActionStatus | None] = mapped_column(str_enum(ActionStatus, "action_status"))
    rag: Mapped[Rag | None] = mapped_column(str_enum(Rag, "rag"))

    action: Mapped[Action] = relationship(back_populates="updates")

    @property
    def record_meeting_id(self) -> int | None:
        return self.action.record_meeting_id if self.action is not None else None


class ActionCoOwner(db.Model):
    """A lead an action plan names beside the action's owner."""

    __tablename__ = "action_co_owners"
    __table_args__ = (UniqueConstraint("action_id", "person_id"),)

    id: Mapped[intpk]
    action_id: Mapped[int] = fk("actions.id", ondelete="CASCADE")
    person_id: Mapped[int] = fk("people.id", ondelete="CASCADE")
    position: Mapped[int] = mapped_column(Integer, default=0)

    person: Mapped[Person] = relationship()
