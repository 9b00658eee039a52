"""The attendance register, apologies, quorum and declarations of interest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.audit.services import record
from app.committees import services as committee_services
from app.committees.models import VOTING_ROLES, Membership, active_on
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden, ValidationError
from app.core.permissions import person_id_of
from app.extensions import db
from app.meetings.models import (
    Attendance,
    AttendanceStatus,
    Declaration,
    DeclarationKind,
    Meeting,
)
from app.meetings.services import check_record_open
from app.meetings.signals import apologies_sent
from app.people.models import Person

if TYPE_CHECKING:
    from app.agenda.models import AgendaItem


def _item_of(meeting: Meeting, item_id: int | None, field: str) -> AgendaItem | None:
    if item_id in (None, ""):
        return None
    # Through the meeting's own items: the agenda package sits above this one.
    wanted = str(item_id).strip()
    item = next((i for i in meeting.items if str(i.id) == wanted), None)
    if item is None:
        raise ValidationError(
            "That item is not on this meeting's agenda.", {field: ["Not an item of this meeting."]}
        )
    return item


def set_attendance(
    meeting: Meeting,
    person: Person,
    status: AttendanceStatus | str,
    substitute_for: Person | None = None,
    in_chair: bool = False,
    capacity: str | None = None,
    arrived_at_item_id: int | None = None,
    left_at_item_id: int | None = None,
    user=None,
) -> Attendance:
    """Record (or change) one person's attendance; one row per person per meeting."""
    check_record_open(meeting, "its attendance can no longer be changed", "status")
    errors: dict[str, list[str]] = {}
    try:
        status = AttendanceStatus(status)
    except ValueError:
        errors["status"] = ["Choose present, apologies, absent, substitute or in attendance."]
        status = None
    if status == AttendanceStatus.SUBSTITUTE:
        if substitute_for is None:
            errors["substitute_for"] = ["Say whom the substitute is standing in for."]
        elif substitute_for.id == person.id:
            errors["substitute_for"] = ["Someone cannot substitute for themselves."]
        else:
            roles = [
                m.role
                for m in meeting.committee.current_memberships(meeting.local_start.date())
                if m.person_id == substitute_for.id
            ]
            if not roles:
                errors["substitute_for"] = [f"{substitute_for.name} is not a member."]
            elif not any(r in VOTING_ROLES for r in roles):
                # Substitutes fill a voting seat; officers and observers have none.
                errors["substitute_for"] = [
                    f"{substitute_for.name} is not a voting member, so no one substitutes for them."
                ]
    elif substitute_for is not None:
        errors["substitute_for"] = ["Only substitutes stand in for someone."]
    if in_chair and status not in (AttendanceStatus.PRESENT, AttendanceStatus.SUBSTITUTE):
        errors["in_chair"] = ["Only someone present can be in the chair."]
    try:
        arrived = _item_of(meeting, arrived_at_item_id, "arrived_at_item_id")
        left = _item_of(meeting, left_at_item_id, "left_at_item_id")
    except ValidationError as exc:
        errors.update(exc.errors)
        arrived = left = None
    if status is not None and not errors:
        errors.update(_double_counting(meeting, person, status, substitute_for))
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors)
    row = _row_of(meeting, person)
    before = _register_entry(row)
    if row is None:
        row = Attendance(meeting=meeting, person=person, status=status)
        db.session.add(row)
    replaced_chair = None
    if in_chair:
        for other in meeting.attendance:
            if other is not row and other.in_chair:
                other.in_chair = False
                replaced_chair = other.person
    row.status = status
    row.substitute_for = substitute_for
    row.in_chair = bool(in_chair)
    row.capacity = (capacity or "").strip() or None
    row.arrived_at_item_id = arrived.id if arrived else None
    row.left_at_item_id = left.id if left else None
    db.session.flush()
    after = _register_entry(row)
    changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if replaced_chair is not None:
        changes["chair"] = [replaced_chair.display_name, person.display_name]
    if changes:
        # The register page saves every row at once; only rows that changed are news.
        record(
            "attendance_set",
            meeting,
            summary=person.display_name,
            user=user,
            person=person.id,
            status=status.value,
            changes=changes,
        )
    return row


def _register_entry(row: Attendance | None) -> dict:
    """One row of the register as the audit trail shows it: names and numbers, not ids."""
    if row is None:
        return {**dict.fromkeys(_REGISTER_FIELDS), "in_chair": False}
    numbers = {i.id: n for i, n in row.meeting.numbered_items()}

    def at(item_id):
        return f"item {numbers.get(item_id, '?')}" if item_id else None

    return {
        "status": row.status.value.replace("_", " ") if row.status else None,
        "substitute_for": row.substitute_for.display_name if row.substitute_for else None,
        "in_chair": bool(row.in_chair),
        "capacity": row.capacity,
        "arrived_at": at(row.arrived_at_item_id),
        "left_at": at(row.left_at_item_id),
    }


_REGISTER_FIELDS = ("status", "substitute_for", "in_chair", "capacity", "arrived_at", "left_at")


def _row_of(meeting: Meeting, person: Person) -> Attendance | None:
    return db.session.scalar(
        select(Attendance).where(
            Attendance.meeting_id == meeting.id, Attendance.person_id == person.id
        )
    )


def _double_counting(
    meeting: Meeting, person: Person, status: AttendanceStatus, substitute_for: Person | None
) -> dict[str, list[str]]:
    """A member's seat is filled once: by the member or by one substitute, never both, so
    the quorum cannot count it twice."""
    others = [a for a in meeting.attendance if a.person_id != person.id]
    if status == AttendanceStatus.SUBSTITUTE and substitute_for is not None:
        for other in others:
            if other.status == AttendanceStatus.SUBSTITUTE and (
                other.substitute_for_id == substitute_for.id
            ):
                return {
                    "substitute_for": [
                        f"{other.person.display_name} is already substituting for "
                        f"{substitute_for.display_name}; change that row instead."
                    ]
                }
            if other.person_id == substitute_for.id and other.status == AttendanceStatus.PRESENT:
                return {
                    "substitute_for": [
                        f"{substitute_for.display_name} is recorded as present, so no one can "
                        "substitute for them."
                    ]
                }
    if status == AttendanceStatus.PRESENT:
        for other in others:
            if other.status == AttendanceStatus.SUBSTITUTE and other.substitute_for_id == (
                person.id
            ):
                return {
                    "status": [
                        f"{other.person.display_name} is substituting for {person.display_name}; "
                        "change that row before recording them as present."
                    ]
                }
    return {}


def add_to_register(
    meeting: Meeting,
    person: Person,
    status: AttendanceStatus | str = AttendanceStatus.IN_ATTENDANCE,
    capacity: str | None = None,
    user=None,
    substitute_for: Person | None = None,
) -> Attendance:
    """Add someone who is not yet in the register. Unlike set_attendance (which changes a
    row, as the API's PUT does), adding a person twice is refused."""
    existing = _row_of(meeting, person)
    if existing is not None:
        message = (
            f"{person.display_name} is already in the register "
            f"({existing.status.value.replace('_', ' ')}); change their row instead."
        )
        raise ValidationError(message, {"add_person": [message]})
    return set_attendance(
        meeting, person, status, substitute_for=substitute_for, capacity=capacity, user=user
    )


NEW_PERSON_STATUSES = (AttendanceStatus.IN_ATTENDANCE, AttendanceStatus.SUBSTITUTE)


def add_new_person_to_register(
    meeting: Meeting,
    name: str | None,
    organisation: str | None = None,
    status: AttendanceStatus | str = AttendanceStatus.IN_ATTENDANCE,
    substitute_for: Person | None = None,
    capacity: str | None = None,
    user=None,
) -> Attendance:
    """A substitute or guest who is not yet anyone in the system: the person is created by the
    people service and added to the register. Errors name the fields `name`, `organisation`,
    `status` and `substitute_for`; the person is flushed before the register row is checked, so
    the caller rolls back on any error and neither is kept."""
    check_record_open(meeting, "its attendance can no longer be changed", "status")
    errors: dict[str, list[str]] = {}
    try:
        fields = committee_services.clean_person_fields(
            {"name": name, "organisation": organisation}
        )
    except ValidationError as exc:
        errors.update(exc.errors)
    if str(status) not in {s.value for s in NEW_PERSON_STATUSES}:
        errors["status"] = ["Someone new joins the register as a substitute or in attendance."]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors)
    person = committee_services.create_person(**fields)
    return set_attendance(
        meeting, person, status, substitute_for=substitute_for, capacity=capacity, user=user
    )


def send_apologies(meeting: Meeting, user, note: str | None = None) -> Attendance:
    """A member sends their own apologies before the meeting."""
    refusal = meeting.apologies_refusal(user)
    if refusal:
        # Not serving on the committee is a matter of who asks; the rest, of the meeting.
        if not meeting.committee.is_member_user(user):
            raise Forbidden(refusal)
        raise Conflict(refusal, {"status": [refusal]})
    person = db.session.get(Person, person_id_of(user))
    row = set_attendance(meeting, person, AttendanceStatus.APOLOGIES, user=user)
    row.apologies_sent_at = utcnow()
    row.note = (note or "").strip()[:2000] or None
    db.session.flush()
    apologies_sent.send(meeting, attendance=row, user=user)
    return row


@dataclass(frozen=True)
class Quorum:
    voting_members: int
    present: int
    required: int | None

    @property
    def quorate(self) -> bool | None:
        return None if self.required is None else self.present >= self.required


def quorum(meeting: Meeting) -> Quorum:
    """Voting members on the day, how many of them (or their substitutes) are present, and
    how many are needed."""
    on = meeting.local_start.date()
    voting = set(
        db.session.scalars(
            select(Membership.person_id).where(
                Membership.committee_id == meeting.committee_id,
                Membership.role.in_(VOTING_ROLES),
                active_on(on),
            )
        )
    )
    # Count seats, not rows: a member and their substitute, or two substitutes for one
    # member, fill one seat (entry refuses both, but older records may hold them).
    seats = set()
    for row in meeting.attendance:
        if row.status == AttendanceStatus.PRESENT and row.person_id in voting:
            seats.add(row.person_id)
        elif row.status == AttendanceStatus.SUBSTITUTE and row.substitute_for_id in voting:
            seats.add(row.substitute_for_id)
    return Quorum(len(voting), len(seats), meeting.committee.quorum_for(len(voting)))


def add_declaration(
    meeting: Meeting,
    item_id: int,
    person: Person,
    kind: DeclarationKind | str,
    nature: str,
    withdrew: bool = False,
    user=None,
) -> Declaration:
    check_record_open(meeting, "its declarations of interest can no longer be changed", "kind")
    errors: dict[str, list[str]] = {}
    try:
        item = _item_of(meeting, item_id, "agenda_item_id")
        if item is None:
            errors["agenda_item_id"] = ["Choose the item the interest relates to."]
    except ValidationError as exc:
        errors.update(exc.errors)
        item = None
    try:
        kind = DeclarationKind(kind)
    except ValueError:
        errors["kind"] = ["Choose disclosable pecuniary, other registrable or non-registrable."]
    nature = (nature or "").strip()
    if not nature:
        errors["nature"] = ["Describe the interest."]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors)
    declaration = Declaration(
        meeting=meeting,
        item=item,
        person=person,
        kind=kind,
        nature=nature[:5000],
        withdrew=bool(withdrew),
    )
    db.session.add(declaration)
    db.session.flush()
    record("interest_declared", declaration, user=user, item=item.id, person=person.id)
    return declaration
