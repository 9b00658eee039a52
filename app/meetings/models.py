from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    column,
    exists,
    inspect,
    select,
    table,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, object_session, relationship

from app.committees.models import Committee, may_see_restricted
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
from app.core.permissions import is_staff
from app.extensions import db
from app.people.models import Person

if TYPE_CHECKING:
    from app.agenda.models import AgendaItem


# The two versions of an agenda pack (built by app/packs).
PUBLIC_PACK, MEMBERS_PACK = "public", "members"


class MeetingStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    POSTPONED = "postponed"
    HELD = "held"


class AgendaState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class MinutesState(enum.StrEnum):
    NONE = "none"  # nothing written yet
    DRAFT = "draft"  # being written: clerks only
    PUBLISHED = "published"  # circulated as a draft for approval
    APPROVED = "approved"  # approved as a correct record: locked


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"
    APOLOGIES = "apologies"
    ABSENT = "absent"
    SUBSTITUTE = "substitute"
    IN_ATTENDANCE = "in_attendance"


class DeclarationKind(enum.StrEnum):
    DISCLOSABLE_PECUNIARY = "disclosable_pecuniary"
    OTHER_REGISTRABLE = "other_registrable"
    NON_REGISTRABLE = "non_registrable"


def new_ical_uid() -> str:
    return f"{uuid.uuid4()}@minutebook"


class Meeting(db.Model):
    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("ical_sequence >= 0", name="ical_sequence_not_negative"),
        CheckConstraint("agenda_revision >= 0", name="agenda_revision_not_negative"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(
            "status NOT IN ('cancelled', 'postponed') OR status_reason IS NOT NULL",
            name="cancellation_has_reason",
        ),
        CheckConstraint(
            "minutes_state != 'approved' OR minutes_approved_at IS NOT NULL",
            name="approval_is_stamped",
        ),
        # Calendar feeds ask "what changed last?" on every poll (app/ical/cache.py).
        Index("ix_meetings_updated_at", "updated_at"),
        # A committee's meetings in time order, for the lists of one committee (the decisions
        # register, the API's meetings) read newest or oldest first a page at a time.
        Index("ix_meetings_committee_id_starts_at", "committee_id", "starts_at"),
    )

    id: Mapped[intpk]
    committee_id: Mapped[int] = fk("committees.id", ondelete="RESTRICT")
    title: Mapped[str | None] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The zone the meeting was arranged in, so it is shown and exported in local time.
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    venue: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[MeetingStatus] = mapped_column(
        str_enum(MeetingStatus, "meeting_status"), default=MeetingStatus.SCHEDULED
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    ical_uid: Mapped[str] = mapped_column(String(200), unique=True, default=new_ical_uid)
    ical_sequence: Mapped[int] = mapped_column(Integer, default=0)
    agenda_state: Mapped[AgendaState] = mapped_column(
        str_enum(AgendaState, "agenda_state"), default=AgendaState.DRAFT
    )
    agenda_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agenda_revision: Mapped[int] = mapped_column(Integer, default=0)
    minutes_state: Mapped[MinutesState] = mapped_column(
        str_enum(MinutesState, "minutes_state"), default=MinutesState.NONE
    )
    minutes_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    minutes_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at_meeting_id: Mapped[int | None] = fk(
        "meetings.id", ondelete="SET NULL", nullable=True
    )
    approval_amendments: Mapped[str | None] = mapped_column(Text)
    chair_signed_name: Mapped[str | None] = mapped_column(String(200))
    chair_signed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]
    version: Mapped[int] = mapped_column(Integer, default=1)

    committee: Mapped[Committee] = relationship()
    approved_at_meeting: Mapped[Meeting | None] = relationship(remote_side="Meeting.id")
    items: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting",
        cascade="all, delete-orphan",
        order_by="AgendaItem.position",
    )
    attendance: Mapped[list[Attendance]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan"
    )
    declarations: Mapped[list[Declaration]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan"
    )
    publications: Mapped[list[AgendaPublication]] = relationship(
        back_populates="meeting",
        cascade="all, delete-orphan",
        order_by="AgendaPublication.revision",
    )

    # --- time ---------------------------------------------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.tz)

    @property
    def local_end(self) -> datetime | None:
        return self.ends_at.astimezone(self.tz) if self.ends_at else None

    @property
    def display_title(self) -> str:
        return self.title or self.committee.name

    @property
    def record_meeting_id(self) -> int | None:
        return self.id

    # --- permissions --------------------------------------------------------------------
    def can_view(self, user) -> bool:
        """The existence, date, venue and status of a meeting are public from the moment it
        is scheduled (they appear in calendars); its contents are guarded separately."""
        return True

    def can_edit(self, user) -> bool:
        return is_staff(user)

    def can_see_agenda(self, user) -> bool:
        return self.agenda_state == AgendaState.PUBLISHED or is_staff(user)

    def can_see_minutes(self, user) -> bool:
        if is_staff(user):
            return True
        if self.minutes_state == MinutesState.APPROVED:
            return True
        if self.minutes_state == MinutesState.PUBLISHED:
            return self.committee.publish_draft_minutes or self.committee.is_member_user(user)
        return False

    def can_see_restricted(self, user) -> bool:
        return may_see_restricted(self.committee_id, user)

    @property
    def has_items(self) -> bool:
        """Whether the agenda has any item, without loading them all when they are not."""
        session = object_session(self)
        loaded = inspect(self).dict
        if session is None or self.id is None or "items" in loaded:
            return bool(self.items)
        if "items_exist" in loaded:
            return bool(loaded["items_exist"])
        return bool(session.scalar(select(Meeting.items_exist).where(Meeting.id == self.id)))

    def pack_variant_for(self, user) -> str | None:
        """The one version of the agenda pack this reader is offered: the members' one for
        whoever may see restricted business (it carries the draft minutes and all the action
        log, exempt papers or none), else the public one; None when there is no pack for them.
        Asked by the pack route, the API's links and the publication e-mail."""
        if not self.can_see_agenda(user) or not self.has_items:
            return None
        return MEMBERS_PACK if self.can_see_restricted(user) else PUBLIC_PACK

    def may_fetch_pack(self, user, variant: str = PUBLIC_PACK) -> bool:
        """Whether this reader gets that version of the pack rather than a 404. The members'
        version is not something others may know about; everyone who may read the agenda may
        have the public one."""
        offered = self.pack_variant_for(user)
        if offered is None:
            return False
        return variant in (PUBLIC_PACK, offered)

    @property
    def minutes_locked(self) -> bool:
        return self.minutes_state == MinutesState.APPROVED

    def locked_reason(self, consequence: str) -> str | None:
        """Why the record of this meeting may not change (see meetings.services.locked_reason,
        which every service asks)."""
        if self.minutes_locked:
            return f"The minutes of this meeting are approved and locked, so {consequence}."
        return None

    def record_refusal(self, user, consequence: str) -> str | None:
        """Why this user may not change what this meeting's minutes record (attendance and
        chair, declarations, minutes, resolutions and votes, actions arising, the date, venue
        and status), None when they may: clerks, until the minutes are approved."""
        if not is_staff(user):
            return "Only clerks can change the record of a meeting."
        return self.locked_reason(consequence)

    def can_edit_record(self, user) -> bool:
        return self.record_refusal(user, "its record can no longer be changed") is None

    def apologies_refusal(self, user) -> str | None:
        """Why this user may not send their own apologies for this meeting (None: they may).
        The one rule for the meeting page's button, its form and the API."""
        if not self.committee.is_member_user(user):
            return "Only members of this committee can send apologies for it."
        locked = self.locked_reason("its attendance can no longer be changed")
        if locked:
            return locked
        if self.status == MeetingStatus.CANCELLED:
            return "This meeting has been cancelled."
        if self.status == MeetingStatus.POSTPONED:
            # Apologies are for a date; a postponed meeting has none until it is rearranged.
            return "This meeting has been postponed; send apologies once it has a new date."
        if self.status == MeetingStatus.HELD or self.starts_at <= utcnow():
            return "This meeting has already started; ask the clerk to record apologies."
        return None

    def can_send_apologies(self, user) -> bool:
        return self.apologies_refusal(user) is None

    # --- agenda -------------------------------------------------------------------------
    def numbered_items(self) -> list[tuple[AgendaItem, str]]:
        """Items in agenda order with their computed numbers: 1, 2, 2a, 2b, 3, ..."""
        top = sorted((i for i in self.items if i.parent_id is None), key=lambda i: i.position)
        out = []
        for n, item in enumerate(top, start=1):
            out.append((item, str(n)))
            children = sorted(item.children, key=lambda i: i.position)
            for k, child in enumerate(children):
                out.append((child, f"{n}{_letters(k)}"))
        return out

    def attendance_by_status(self, status: AttendanceStatus) -> list[Attendance]:
        rows = [a for a in self.attendance if a.status == status]
        return sorted(rows, key=lambda a: (not a.in_chair, a.person.name))

    @property
    def chair(self) -> Person | None:
        for a in self.attendance:
            if a.in_chair:
                return a.person
        return None

    def __repr__(self) -> str:
        return f"<Meeting {self.id} {self.starts_at:%Y-%m-%d}>"


def _letters(k: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa: sub-item suffixes."""
    s = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        s = chr(ord("a") + r) + s
    return s


# Whether the agenda has an item, read with the meeting by whoever asks (undefer): the pack
# route, where it saves a statement on every download. It goes stale once items change in the
# same session, so has_items trusts it only as loaded with the meeting. The items' table by
# name: its model imports this one.
_AGENDA_ITEMS = table("agenda_items", column("meeting_id"))
Meeting.items_exist = column_property(
    exists().where(_AGENDA_ITEMS.c.meeting_id == Meeting.id), deferred=True
)


class AgendaPublication(db.Model):
    """One publication of an agenda: revision 1 is the agenda, later ones are supplements."""

    __tablename__ = "agenda_publications"
    __table_args__ = (
        UniqueConstraint("meeting_id", "revision"),
        CheckConstraint("revision >= 1", name="revision_positive"),
        CheckConstraint("NOT late OR late_reason IS NOT NULL", name="late_has_reason"),
    )

    id: Mapped[intpk]
    meeting_id: Mapped[int] = fk("meetings.id", ondelete="CASCADE")
    revision: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = fk("users.id", ondelete="SET NULL", nullable=True)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    late_reason: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    # The agenda as published (agenda.revisions.snapshot_of): what the public and members read
    # until the next revision. Never changed once written. None only for publications made
    # before snapshots were kept; they read as the working copy.
    snapshot: Mapped[dict | None] = mapped_column(JSON)

    meeting: Mapped[Meeting] = relationship(back_populates="publications")

    @property
    def record_meeting_id(self) -> int | None:
        return meeting_id_through(self.meeting_id, self.meeting)


class Attendance(db.Model):
    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("meeting_id", "person_id"),
        CheckConstraint(
            "(status = 'substitute') = (substitute_for_id IS NOT NULL)",
            name="substitute_names_whom",
        ),
        CheckConstraint(
            "substitute_for_id IS NULL OR substitute_for_id != person_id", name="not_own_substitute"
        ),
        CheckConstraint(
            "NOT in_chair OR status IN ('present', 'substitute')", name="chair_is_present"
        ),
    )

    id: Mapped[intpk]
    meeting_id: Mapped[int] = fk("meetings.id", ondelete="CASCADE")
    person_id: Mapped[int] = fk("people.id", ondelete="RESTRICT")
    status: Mapped[AttendanceStatus] = mapped_column(
        str_enum(AttendanceStatus, "attendance_status")
    )
    substitute_for_id: Mapped[int | None] = fk("people.id", ondelete="RESTRICT", nullable=True)
    in_chair: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity: Mapped[str | None] = mapped_column(String(200))  # e.g. an officer's job title
    arrived_at_item_id: Mapped[int | None] = fk(
        "agenda_items.id", ondelete="SET NULL", nullable=True
    )
    left_at_item_id: Mapped[int | None] = fk("agenda_items.id", ondelete="SET NULL", nullable=True)
    apologies_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[updated_at]

    meeting: Mapped[Meeting] = relationship(back_populates="attendance")
    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    substitute_for: Mapped[Person | None] = relationship(foreign_keys=[substitute_for_id])

    @property
    def record_meeting_id(self) -> int | None:
        return meeting_id_through(self.meeting_id, self.meeting)


class Declaration(db.Model):
    __tablename__ = "declarations"
    __table_args__ = (CheckConstraint("length(trim(nature)) > 0", name="nature_not_blank"),)

    id: Mapped[intpk]
    meeting_id: Mapped[int] = fk("meetings.id", ondelete="CASCADE")
    agenda_item_id: Mapped[int] = fk("agenda_items.id", ondelete="CASCADE")
    person_id: Mapped[int] = fk("people.id", ondelete="RESTRICT")
    kind: Mapped[DeclarationKind] = mapped_column(str_enum(DeclarationKind, "declaration_kind"))
    nature: Mapped[str] = mapped_column(Text)
    withdrew: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[created_at]

    meeting: Mapped[Meeting] = relationship(back_populates="declarations")
    person: Mapped[Person] = relationship()
    item: Mapped[AgendaItem] = relationship()

    @property
    def record_meeting_id(self) -> int | None:
        return meeting_id_through(self.meeting_id, self.meeting)
