from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import (
    UTCDateTime,
    created_at,
    fk,
    intpk,
    meeting_id_through,
    str_enum,
    updated_at,
    utcnow,
)
from app.extensions import db
from app.people.models import Person

if TYPE_CHECKING:
    from app.actions.models import Action
    from app.agenda.models import AgendaItem
    from app.committees.models import Committee
    from app.meetings.models import Meeting


class ResolutionKind(enum.StrEnum):
    RESOLVED = "resolved"
    RECOMMENDED = "recommended"  # recommended to another body
    NOTED = "noted"


class VoteChoice(enum.StrEnum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


class RevisionKind(enum.StrEnum):
    EDIT = "edit"  # while the minutes are a draft
    CORRECTION = "correction"  # after approval, with a reason


class Minute(db.Model):
    """One numbered minute. Numbers run on across a committee's meetings and are never
    reused, so (committee, number) is unique."""

    __tablename__ = "minutes"
    __table_args__ = (
        UniqueConstraint("committee_id", "number"),
        UniqueConstraint("agenda_item_id"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[intpk]
    committee_id: Mapped[int] = fk("committees.id", ondelete="RESTRICT")
    meeting_id: Mapped[int] = fk("meetings.id", ondelete="CASCADE")
    agenda_item_id: Mapped[int | None] = fk("agenda_items.id", ondelete="SET NULL", nullable=True)
    number: Mapped[int] = mapped_column(Integer)
    # The committee's prefix as the minutes were approved with it: a later change of prefix
    # (a new municipal year's, say) must not renumber the approved record. None until then.
    prefix: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text, default="")  # Markdown
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]
    version: Mapped[int] = mapped_column(Integer, default=1)

    committee: Mapped[Committee] = relationship()
    meeting: Mapped[Meeting] = relationship()
    item: Mapped[AgendaItem | None] = relationship()
    resolutions: Mapped[list[Resolution]] = relationship(
        back_populates="minute", cascade="all, delete-orphan", order_by="Resolution.ordinal"
    )
    revisions: Mapped[list[MinuteRevision]] = relationship(
        back_populates="minute", cascade="all, delete-orphan", order_by="MinuteRevision.version"
    )

    @property
    def display_number(self) -> str:
        prefix = self.prefix if self.prefix is not None else self.committee.minute_prefix
        return f"{prefix or ''}{self.number}"

    @property
    def restricted(self) -> bool:
        return self.item is not None and self.item.restricted

    @property
    def locked(self) -> bool:
        return self.meeting.minutes_locked

    @property
    def record_meeting_id(self) -> int | None:
        return meeting_id_through(self.meeting_id, self.meeting)

    def can_view(self, user) -> bool:
        if not self.meeting.can_see_minutes(user):
            return False
        if self.restricted:
            return self.meeting.can_see_restricted(user)
        return True


class MinuteRevision(db.Model):
    """The text of a minute as it stood at each version: edits while draft, corrections after
    approval (with the reason), so nothing approved is ever overwritten without trace."""

    __tablename__ = "minute_revisions"
    __table_args__ = (
        UniqueConstraint("minute_id", "version"),
        CheckConstraint("kind != 'correction' OR reason IS NOT NULL", name="correction_has_reason"),
    )

    id: Mapped[intpk]
    minute_id: Mapped[int] = fk("minutes.id", ondelete="CASCADE")
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[RevisionKind] = mapped_column(
        str_enum(RevisionKind, "revision_kind"), default=RevisionKind.EDIT
    )
    reason: Mapped[str | None] = mapped_column(Text)
    edited_by_id: Mapped[int | None] = fk("users.id", ondelete="SET NULL", nullable=True)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    minute: Mapped[Minute] = relationship(back_populates="revisions")

    @property
    def record_meeting_id(self) -> int | None:
        return self.minute.record_meeting_id if self.minute is not None else None


class Resolution(db.Model):
    __tablename__ = "resolutions"
    __table_args__ = (
        UniqueConstraint("minute_id", "ordinal"),
        CheckConstraint("ordinal >= 1", name="ordinal_positive"),
        CheckConstraint("length(trim(text)) > 0", name="text_not_blank"),
        CheckConstraint(
            "(votes_for IS NULL OR votes_for >= 0) AND (votes_against IS NULL OR "
            "votes_against >= 0) AND (abstentions IS NULL OR abstentions >= 0)",
            name="vote_counts_not_negative",
        ),
        CheckConstraint(
            "kind != 'recommended' OR recommended_to IS NOT NULL", name="recommendation_names_body"
        ),
    )

    id: Mapped[intpk]
    minute_id: Mapped[int] = fk("minutes.id", ondelete="CASCADE")
    ordinal: Mapped[int] = mapped_column(Integer)
    kind: Mapped[ResolutionKind] = mapped_column(
        str_enum(ResolutionKind, "resolution_kind"), default=ResolutionKind.RESOLVED
    )
    text: Mapped[str] = mapped_column(Text)
    recommended_to: Mapped[str | None] = mapped_column(String(300))
    votes_for: Mapped[int | None] = mapped_column(Integer)
    votes_against: Mapped[int | None] = mapped_column(Integer)
    abstentions: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[created_at]

    minute: Mapped[Minute] = relationship(back_populates="resolutions")
    votes: Mapped[list[ResolutionVote]] = relationship(
        back_populates="resolution", cascade="all, delete-orphan"
    )
    actions: Mapped[list[Action]] = relationship(back_populates="resolution")

    @property
    def reference(self) -> str:
        """How minutes cite it: "211(1)"; a lone resolution is cited by the minute number."""
        if len(self.minute.resolutions) == 1:
            return self.minute.display_number
        return f"{self.minute.display_number}({self.ordinal})"

    @property
    def record_meeting_id(self) -> int | None:
        return self.minute.record_meeting_id if self.minute is not None else None

    def can_view(self, user) -> bool:
        return self.minute.can_view(user)


class ResolutionVote(db.Model):
    """A named vote, where the minutes record how each member voted."""

    __tablename__ = "resolution_votes"
    __table_args__ = (UniqueConstraint("resolution_id", "person_id"),)

    id: Mapped[intpk]
    resolution_id: Mapped[int] = fk("resolutions.id", ondelete="CASCADE")
    person_id: Mapped[int] = fk("people.id", ondelete="RESTRICT")
    vote: Mapped[VoteChoice] = mapped_column(str_enum(VoteChoice, "vote_choice"))

    resolution: Mapped[Resolution] = relationship(back_populates="votes")
    person: Mapped[Person] = relationship()

    @property
    def record_meeting_id(self) -> int | None:
        return self.resolution.record_meeting_id if self.resolution is not None else None
