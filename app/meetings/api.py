"""Meetings through the API: scheduling, the register of attendance, declarations of interest
and publication of the agenda."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import url_for
from flask_smorest import abort
from marshmallow import Schema, fields, post_dump, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.agenda import publication as agenda_publication
from app.api import api_blueprint
from app.api.auth import api_user, require_staff, require_user
from app.api.schemas import (
    Boolean,
    CommitteeSlug,
    CursorPageQuery,
    Id,
    PatchSchema,
    PersonRef,
    cursor_list,
    cursor_page_of,
    derived,
    found_or_404,
    iso,
    list_endpoint,
    one_of,
)
from app.committees.api import committee_or_404
from app.core.keyset import Key, Keyset
from app.core.permissions import is_staff, person_id_of
from app.extensions import db
from app.meetings import attendance as attendance_services
from app.meetings import services as meeting_services
from app.meetings.models import (
    MEMBERS_PACK,
    AgendaState,
    AttendanceStatus,
    DeclarationKind,
    Meeting,
    MeetingStatus,
    MinutesState,
)
from app.minutes.queries import declarations_by_item
from app.people.models import Person

meetings_bp = api_blueprint(__name__, "api_meetings", "Meetings and their agendas")
record_bp = api_blueprint(__name__, "api_record", "Attendance, minutes, resolutions and approval")


def meeting_or_404(meeting_id: int) -> Meeting:
    return found_or_404(Meeting, meeting_id, "meeting", visible=True)


def record_or_404(meeting_id: int) -> Meeting:
    """Attendance, declarations and minutes are shown together on the meeting page, once the
    reader may see its minutes; before then, for them, there is no record to read."""
    meeting = meeting_or_404(meeting_id)
    if not meeting.can_see_minutes(api_user()):
        abort(404, message="This meeting has no minutes you may see.")
    return meeting


def person_or_422(person_id: int | None, field: str) -> Person | None:
    if person_id is None:
        return None
    person = db.session.get(Person, person_id)
    if person is None:
        abort(422, message="There is no person with that id.", errors={field: ["Unknown person."]})
    return person


# --- what is sent -----------------------------------------------------------------------------


def file_links(m: Meeting) -> dict:
    """The files this reader may follow: the same tests the file routes answer with, so a
    link is there exactly when following it gives the file."""
    user, links = api_user(), {}
    if m.may_fetch_pack(user):
        links["pack_url"] = url_for("packs.pack", meeting_id=m.id, _external=True)
    if m.may_fetch_pack(user, MEMBERS_PACK):
        links["members_pack_url"] = url_for(
            "packs.pack", meeting_id=m.id, variant=MEMBERS_PACK, _external=True
        )
    if m.can_see_minutes(user):
        links["minutes_pdf_url"] = url_for("packs.minutes", meeting_id=m.id, _external=True)
    return links


class MeetingRef(Schema):
    id = fields.Integer()
    committee = derived(
        fields.String(metadata={"description": "The committee's slug"}), lambda m: m.committee.slug
    )
    starts_at = derived(
        fields.String(metadata={"description": "ISO 8601 with offset"}),
        lambda m: iso(m.local_start),
    )
    url = derived(
        fields.String(), lambda m: url_for("meetings.show", meeting_id=m.id, _external=True)
    )


class MeetingSchema(MeetingRef):
    """Times in the meeting's own timezone, with the offset (2013-05-22T14:00:00+01:00)."""

    title = fields.String(allow_none=True)
    ends_at = derived(fields.String(allow_none=True), lambda m: iso(m.local_end))
    timezone = fields.String()
    venue = fields.String(allow_none=True)
    status = fields.String(validate=one_of(MeetingStatus))
    status_reason = fields.String(allow_none=True)
    uid = fields.String(attribute="ical_uid")
    sequence = fields.Integer(attribute="ical_sequence")
    agenda_state = fields.String(validate=one_of(AgendaState))
    agenda_published_at = derived(
        fields.String(allow_none=True),
        lambda m: iso(m.agenda_published_at.astimezone(m.tz)) if m.agenda_published_at else None,
    )
    agenda_revision = fields.Integer()
    minutes_state = fields.String(validate=one_of(MinutesState))
    # Each only where the token's user would get the file (absent otherwise): file_links.
    pack_url = fields.String()
    members_pack_url = fields.String()
    minutes_pdf_url = fields.String()

    @post_dump(pass_original=True)
    def link_files(self, data: dict, meeting: Meeting, **kwargs) -> dict:
        return {**data, **file_links(meeting)}


MeetingPage = cursor_page_of(MeetingSchema, "MeetingPage")


class AttendanceRow(Schema):
    person_id = fields.Integer()
    status = fields.String(validate=one_of(AttendanceStatus))
    substitute_for = fields.Integer(
        attribute="substitute_for_id",
        allow_none=True,
        metadata={"description": "The person a substitute stood in for"},
    )
    in_chair = fields.Boolean()
    arrived_at_item = fields.Integer(
        attribute="arrived_at_item_id", allow_none=True, metadata={"description": "Agenda item id"}
    )
    left_at_item = fields.Integer(
        attribute="left_at_item_id", allow_none=True, metadata={"description": "Agenda item id"}
    )


class AttendeeOut(AttendanceRow):
    """One line of the register."""

    person = fields.Nested(PersonRef)
    capacity = fields.String(allow_none=True)


class AttendanceSchema(AttendanceRow):
    """One person's attendance as recorded, with whether the meeting is now quorate."""

    quorate = derived(
        fields.Boolean(allow_none=True), lambda a: attendance_services.quorum(a.meeting).quorate
    )


class QuorumOut(Schema):
    present = fields.Integer()
    required = fields.Integer(allow_none=True)
    quorate = fields.Boolean(allow_none=True)


class AttendanceList(Schema):
    items = derived(
        fields.List(fields.Nested(AttendeeOut)),
        lambda m: [a for status in AttendanceStatus for a in m.attendance_by_status(status)],
    )
    quorum = derived(fields.Nested(QuorumOut), attendance_services.quorum)


class DeclarationSchema(Schema):
    """A declaration as recorded."""

    id = fields.Integer()
    person_id = fields.Integer()
    agenda_item_id = fields.Integer()
    kind = fields.String(validate=one_of(DeclarationKind))
    nature = fields.String()
    withdrew = fields.Boolean()


class DeclarationOut(DeclarationSchema):
    """A declaration as the register lists it."""

    person = fields.Nested(PersonRef)


def declarations_shown(meeting: Meeting) -> list:
    """One on exempt or confidential business only for those who may see that business, as
    the meeting page decides."""
    by_item = declarations_by_item(meeting, meeting.can_see_restricted(api_user()))
    return sorted((d for ds in by_item.values() for d in ds), key=lambda d: d.id)


class DeclarationList(Schema):
    items = derived(fields.List(fields.Nested(DeclarationOut)), declarations_shown)


class PublicationSchema(Schema):
    published_at = derived(fields.String(), lambda p: iso(p.published_at.astimezone(p.meeting.tz)))
    revision = fields.Integer()
    deadline = derived(
        fields.String(allow_none=True),
        lambda p: iso(p.deadline.astimezone(p.meeting.tz)) if p.deadline else None,
    )
    late = fields.Boolean()
    late_reason = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)


# --- what is received -------------------------------------------------------------------------


# What `from` and `to` take (parsed by parse_when).
DATE_OR_TIME = [{"format": "date"}, {"format": "date-time"}]
NOT_EMPTY = "Give a date or a time, or leave the parameter out."


class MeetingQuery(CursorPageQuery):
    committee = CommitteeSlug()
    from_ = fields.String(
        data_key="from",
        metadata={
            "description": "ISO 8601 date or time; a naive time is the committee's timezone",
            "anyOf": DATE_OR_TIME,
        },
        validate=validate.Length(min=1, error=NOT_EMPTY),
    )
    to = fields.String(
        metadata={"description": "ISO 8601 date or time", "anyOf": DATE_OR_TIME},
        validate=validate.Length(min=1, error=NOT_EMPTY),
    )


class MeetingIn(Schema):
    committee = fields.String(required=True, metadata={"description": "The committee's slug"})
    starts_at = fields.DateTime(
        required=True,
        metadata={"description": "ISO 8601; with an offset, or naive for the committee's timezone"},
    )
    ends_at = fields.DateTime(allow_none=True)
    venue = fields.String(allow_none=True)
    title = fields.String(allow_none=True)


class MeetingPatch(PatchSchema):
    NOT_CHANGES = frozenset({"version", "status_reason"})  # a reason goes with a status

    starts_at = fields.DateTime()
    ends_at = fields.DateTime(allow_none=True)
    venue = fields.String(allow_none=True)
    title = fields.String(
        allow_none=True, metadata={"description": "Empty or null: the committee's name is used"}
    )
    status = fields.String(validate=one_of(MeetingStatus))
    status_reason = fields.String(allow_none=True)
    version = fields.Integer(metadata={"description": "For optimistic locking"})


class AttendanceIn(Schema):
    status = fields.String(required=True, validate=one_of(AttendanceStatus))
    substitute_for = Id(allow_none=True)
    in_chair = Boolean(load_default=False)
    arrived_at_item = Id(allow_none=True)
    left_at_item = Id(allow_none=True)
    capacity = fields.String(allow_none=True)


class DeclarationIn(Schema):
    person_id = Id(required=True)
    agenda_item_id = Id(required=True)
    kind = fields.String(required=True, validate=one_of(DeclarationKind))
    nature = fields.String(required=True)
    withdrew = Boolean(load_default=False)


class PublishIn(Schema):
    late_reason = fields.String(allow_none=True)
    summary = fields.String(
        allow_none=True,
        metadata={"description": "An optional note, published after the list of changes"},
    )


# --- meetings ---------------------------------------------------------------------------------


def parse_when(value: str | None, field: str, tz: ZoneInfo, end: bool = False):
    """An ISO 8601 date or date-time; a naive value means the given timezone."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time.max if end else time.min, tzinfo=tz)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        abort(
            422,
            message=f"'{field}' is not an ISO 8601 date or time.",
            errors={field: ["Use a date like 2013-07-17 or a time like 2013-07-17T14:00."]},
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


# Oldest first, the id between meetings at the same time: the list's order and its cursor.
MEETINGS_ORDER = Keyset(
    (Key(Meeting.starts_at, datetime), Key(Meeting.id)), lambda m: (m.starts_at, m.id)
)


@meetings_bp.route("/meetings")
@list_endpoint(meetings_bp, MeetingQuery, MeetingPage)
def list_meetings(args):
    """Meetings in time order; filter by committee slug and a from/to window. Page by
    `cursor` (`next_cursor`, or the Link header) for pages that cost the same however far on."""
    # What each row shows and its file links ask (committee, whether it has items), loaded
    # with the page rather than meeting by meeting.
    stmt = select(Meeting).options(selectinload(Meeting.committee), selectinload(Meeting.items))
    tz = ZoneInfo("Europe/London")
    if args.get("committee"):
        committee = committee_or_404(args["committee"])
        tz = ZoneInfo(committee.timezone)
        stmt = stmt.where(Meeting.committee_id == committee.id)
    start = parse_when(args.get("from_"), "from", tz)
    end = parse_when(args.get("to"), "to", tz, end=True)
    if start:
        stmt = stmt.where(Meeting.starts_at >= start)
    if end:
        stmt = stmt.where(Meeting.starts_at <= end)
    return cursor_list(stmt, args, MEETINGS_ORDER)


@meetings_bp.route("/meetings", methods=["POST"])
@meetings_bp.arguments(MeetingIn)
@meetings_bp.response(201, MeetingSchema)
def create_meeting(body):
    """Schedule a meeting; a naive time is in the committee's timezone."""
    require_staff()
    committee = committee_or_404(body["committee"])
    meeting = meeting_services.schedule_meeting(
        committee, body["starts_at"], body.get("ends_at"), body.get("venue"), body.get("title")
    )
    db.session.flush()
    return meeting


@meetings_bp.route("/meetings/<int:meeting_id>")
@meetings_bp.response(200, MeetingSchema)
def get_meeting(meeting_id):
    """One meeting."""
    return meeting_or_404(meeting_id)


@meetings_bp.route("/meetings/<int:meeting_id>", methods=["PATCH"])
@meetings_bp.arguments(MeetingPatch)
@meetings_bp.response(200, MeetingSchema)
def update_meeting(body, meeting_id):
    """Reschedule (same identity, SEQUENCE raised), retitle, cancel, postpone or reinstate."""
    user = require_staff()
    meeting = meeting_or_404(meeting_id)
    version = body.get("version")
    if {"starts_at", "ends_at", "venue"} & body.keys():
        meeting_services.reschedule(
            meeting,
            body.get("starts_at"),
            body.get("ends_at"),
            body.get("venue"),
            expected_version=version,
        )
        version = None  # checked once
    if "title" in body:
        meeting_services.retitle(meeting, body["title"], expected_version=version, user=user)
        version = None
    if "status" in body:
        meeting_services.set_status(
            meeting, body["status"], body.get("status_reason"), expected_version=version
        )
    db.session.flush()
    return meeting


@meetings_bp.route("/meetings/<int:meeting_id>/publish", methods=["POST"])
@meetings_bp.arguments(PublishIn)
@meetings_bp.response(201, PublicationSchema)
def publish(body, meeting_id):
    """Publish the agenda, or a numbered supplement whose summary lists what changed since the
    last revision (409 when nothing has); late first publication needs a reason."""
    user = require_staff()
    meeting = meeting_or_404(meeting_id)
    publication = agenda_publication.publish_agenda(
        meeting, user, body.get("late_reason"), body.get("summary")
    )
    db.session.flush()
    return publication


# --- the record of the meeting: attendance and declarations ----------------------------------


@record_bp.route("/meetings/<int:meeting_id>/attendance")
@record_bp.response(200, AttendanceList)
def get_attendance(meeting_id):
    """The register: who was present, sent apologies, was absent, substituted or attended,
    with the quorum. 404 until the reader may see the meeting's minutes, as on its page."""
    return record_or_404(meeting_id)


@record_bp.route("/meetings/<int:meeting_id>/attendance/<int:person_id>", methods=["PUT"])
@record_bp.arguments(AttendanceIn)
@record_bp.response(200, AttendanceSchema)
def put_attendance(body, meeting_id, person_id):
    """Record one person's attendance. Members may send their own apologies."""
    user = require_user()
    meeting = meeting_or_404(meeting_id)
    person = person_or_422(person_id, "person_id")
    if not is_staff(user):
        if body["status"] != "apologies" or person_id_of(user) != person_id:
            abort(403, message="Members may only send their own apologies.")
        row = attendance_services.send_apologies(meeting, user)
    else:
        row = attendance_services.set_attendance(
            meeting,
            person,
            body["status"],
            substitute_for=person_or_422(body.get("substitute_for"), "substitute_for"),
            in_chair=body.get("in_chair", False),
            capacity=body.get("capacity"),
            arrived_at_item_id=body.get("arrived_at_item"),
            left_at_item_id=body.get("left_at_item"),
            user=user,
        )
    db.session.flush()
    return row


@record_bp.route("/meetings/<int:meeting_id>/declarations")
@record_bp.response(200, DeclarationList)
def get_declarations(meeting_id):
    """Declarations of interest; one on exempt or confidential business only for those who
    may see that business. 404 until the reader may see the meeting's minutes."""
    return record_or_404(meeting_id)


@record_bp.route("/meetings/<int:meeting_id>/declarations", methods=["POST"])
@record_bp.arguments(DeclarationIn)
@record_bp.response(201, DeclarationSchema)
def post_declaration(body, meeting_id):
    """Record a declaration of interest on an item."""
    user = require_staff()
    meeting = meeting_or_404(meeting_id)
    declaration = attendance_services.add_declaration(
        meeting,
        body["agenda_item_id"],
        person_or_422(body["person_id"], "person_id"),
        body["kind"],
        body["nature"],
        body["withdrew"],
        user=user,
    )
    db.session.flush()
    return declaration
