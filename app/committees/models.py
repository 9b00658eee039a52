from __future__ import annotations

import enum
from datetime import date, time
from fractions import Fraction

from flask import has_request_context, request
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Integer,
    String,
    Text,
    Time,
    and_,
    event,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.core.db import created_at, fk, intpk, str_enum, updated_at
from app.core.permissions import CommitteeReader, is_staff, person_id_of
from app.extensions import db
from app.people.models import Person


class Regime(enum.StrEnum):
    """Which access-to-information rules govern publication deadlines."""

    PRINCIPAL = "principal"  # principal councils: five clear working days
    PARISH = "parish"  # parish and town councils: three clear days
    NONE = "none"  # partnerships and boards not bound by Part VA


class MembershipRole(enum.StrEnum):
    CHAIR = "chair"
    VICE_CHAIR = "vice_chair"
    MEMBER = "member"
    SUBSTITUTE = "substitute"
    CO_OPTED = "co_opted"
    OBSERVER = "observer"
    OFFICER = "officer"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    MembershipRole.CHAIR: "Chair",
    MembershipRole.VICE_CHAIR: "Vice-chair",
    MembershipRole.MEMBER: "Member",
    MembershipRole.SUBSTITUTE: "Substitute",
    MembershipRole.CO_OPTED: "Co-opted member",
    MembershipRole.OBSERVER: "Observer",
    MembershipRole.OFFICER: "Officer",
}

# Roles shown first on a committee page and counted towards quorum.
VOTING_ROLES = (
    MembershipRole.CHAIR,
    MembershipRole.VICE_CHAIR,
    MembershipRole.MEMBER,
    MembershipRole.CO_OPTED,
)
ROLE_ORDER = list(MembershipRole)

DEFAULT_SECTIONS = ["For Decision", "For Discussion", "For Information"]

# The standard items a new agenda starts from (kind, title, section).
DEFAULT_AGENDA_TEMPLATE = [
    {"kind": "apologies", "title": "Apologies for absence", "section": None},
    {"kind": "declarations", "title": "Declarations of interest", "section": None},
    {"kind": "previous_minutes", "title": "Minutes of the previous meeting", "section": None},
    {"kind": "matters_arising", "title": "Matters arising and action log", "section": None},
    {"kind": "aob", "title": "Any other business", "section": None},
    {"kind": "next_meeting", "title": "Date and time of next meeting", "section": None},
]


class Committee(db.Model):
    __tablename__ = "committees"
    __table_args__ = (
        CheckConstraint("first_minute_number >= 1", name="first_minute_number_positive"),
        CheckConstraint("quorum_count IS NULL OR quorum_count >= 1", name="quorum_count_positive"),
        CheckConstraint(
            "quorum_count IS NULL OR quorum_fraction IS NULL", name="quorum_count_or_fraction"
        ),
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        CheckConstraint("length(slug) > 0", name="slug_not_blank"),
        CheckConstraint(
            "reminder_days_before >= 0 AND reminder_days_before <= 365",
            name="reminder_days_before_in_range",
        ),
    )

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    default_venue: Mapped[str | None] = mapped_column(String(300))
    default_start_time: Mapped[time | None] = mapped_column(Time)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    regime: Mapped[Regime] = mapped_column(str_enum(Regime, "regime"), default=Regime.PRINCIPAL)
    first_minute_number: Mapped[int] = mapped_column(Integer, default=1)
    minute_prefix: Mapped[str | None] = mapped_column(String(20))
    # The highest minute number ever issued, so a number is never handed out twice even if a
    # minute is removed.
    last_minute_number: Mapped[int | None] = mapped_column(Integer)
    quorum_count: Mapped[int | None] = mapped_column(Integer)
    # A fraction of the voting members such as "1/3", kept as text so it stays exact.
    quorum_fraction: Mapped[str | None] = mapped_column(String(20))
    publish_draft_minutes: Mapped[bool] = mapped_column(Boolean, default=False)
    sections: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_SECTIONS))
    agenda_template: Mapped[list[dict]] = mapped_column(
        JSON, default=lambda: [dict(i) for i in DEFAULT_AGENDA_TEMPLATE]
    )
    clerk_name: Mapped[str | None] = mapped_column(String(200))
    clerk_email: Mapped[str | None] = mapped_column(String(254))
    clerk_phone: Mapped[str | None] = mapped_column(String(50))
    # How many days before an action is due its owner is reminded (0: on the day).
    reminder_days_before: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="committee", cascade="all, delete-orphan"
    )

    def current_memberships(self, on: date | None = None) -> list[Membership]:
        on = on or date.today()
        current = [m for m in self.memberships if m.is_current(on)]
        return sorted(current, key=lambda m: (ROLE_ORDER.index(m.role), m.person.name))

    def has_member(self, person_id: int | None, on: date | None = None) -> bool:
        if person_id is None:
            return False
        return any(m.person_id == person_id for m in self.current_memberships(on))

    def is_member_user(self, user) -> bool:
        return serves_on(self.id, user)

    def can_see_restricted(self, user) -> bool:
        return may_see_restricted(self.id, user)

    def can_edit(self, user) -> bool:
        return is_staff(user)

    def quorum_for(self, voting_members: int) -> int | None:
        if self.quorum_count is not None:
            return self.quorum_count
        if self.quorum_fraction:
            needed = Fraction(self.quorum_fraction) * voting_members
            return max(1, -(-needed.numerator // needed.denominator))  # ceiling
        return None

    def __repr__(self) -> str:
        return f"<Committee {self.slug}>"


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
            name="dates_in_order",
        ),
    )

    id: Mapped[intpk]
    committee_id: Mapped[int] = fk("committees.id", ondelete="CASCADE")
    person_id: Mapped[int] = fk("people.id", ondelete="CASCADE")
    role: Mapped[MembershipRole] = mapped_column(
        str_enum(MembershipRole, "membership_role"), default=MembershipRole.MEMBER
    )
    organisation: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[created_at]

    committee: Mapped[Committee] = relationship(back_populates="memberships")
    person: Mapped[Person] = relationship()

    def is_current(self, on: date) -> bool:
        return (self.start_date is None or self.start_date <= on) and (
            self.end_date is None or self.end_date >= on
        )


_SERVED = "minutebook.committees_served"


def serves_on(committee_id: int, user) -> bool:
    """Whether the signed-in user serves on this committee now (any role)."""
    if isinstance(user, CommitteeReader):
        return user.committee_id == committee_id
    pid = person_id_of(user)
    if pid is None:
        return False
    return committee_id in committees_served(pid)


def may_see_restricted(committee_id: int, user) -> bool:
    """Exempt and confidential papers: clerks, admins and this committee's members. By the
    committee's id, so a meeting or item asks it without loading its committee (a pack
    download asks it on every request)."""
    return is_staff(user) or serves_on(committee_id, user)


def committees_served(person_id: int) -> frozenset[int]:
    """The ids of the committees a person serves on today. Every row of a list asks it (a
    member's decisions register, tracker or API list), so a request reads it once, in one
    query, not once a row; a membership written in the session forgets it (after_flush
    below). Outside a request (CLI, workers) it is read each time."""
    today = date.today()
    memo = request.environ.setdefault(_SERVED, {}) if has_request_context() else {}
    key = (person_id, today)
    if key not in memo:
        memo[key] = frozenset(
            db.session.scalars(
                select(Membership.committee_id).where(
                    Membership.person_id == person_id, active_on(today)
                )
            )
        )
    return memo[key]


@event.listens_for(Session, "after_flush")
def _forget_committees_served(session, _flush_context) -> None:
    if has_request_context() and any(
        isinstance(obj, Membership) for obj in (*session.new, *session.dirty, *session.deleted)
    ):
        request.environ.pop(_SERVED, None)


def active_on(on: date):
    """SQL condition: a membership in force on a date."""
    return and_(
        or_(Membership.start_date.is_(None), Membership.start_date <= on),
        or_(Membership.end_date.is_(None), Membership.end_date >= on),
    )


__all__ = [
    "DEFAULT_AGENDA_TEMPLATE",
    "DEFAULT_SECTIONS",
    "VOTING_ROLES",
    "Committee",
    "Membership",
    "MembershipRole",
    "Regime",
    "active_on",
]
