"""The meeting record through the API (issue 5): attendance, declarations, minutes,
resolutions, actions and approval, on the same services as the pages."""

from __future__ import annotations

from flask_smorest import Blueprint, abort
from sqlalchemy import func, select

from app.actions import services as action_services
from app.actions.models import Action
from app.agenda.models import AgendaItem
from app.api import schemas
from app.api.auth import api_user, guard_request, require_staff, require_user
from app.api.resources import committee_or_404, meeting_or_404
from app.core.errors import Forbidden
from app.core.permissions import is_staff, person_id_of
from app.extensions import db
from app.meetings import attendance as attendance_services
from app.meetings.models import Meeting
from app.minutes import services as minute_services
from app.minutes.models import Minute, Resolution
from app.people.models import Person

record_bp = Blueprint(
    "api_record",
    __name__,
    url_prefix="/api/v1",
    description="Attendance, minutes, resolutions and approval",
)
actions_bp = Blueprint(
    "api_actions", __name__, url_prefix="/api/v1", description="Actions and their updates"
)
for _blueprint in (record_bp, actions_bp):
    _blueprint.before_request(guard_request)


def _person(person_id: int | None, field: str) -> Person | None:
    if person_id is None:
        return None
    person = db.session.get(Person, person_id)
    if person is None:
        abort(422, message="There is no person with that id.", errors={field: ["Unknown person."]})
    return person


@record_bp.route("/meetings/<int:meeting_id>/attendance/<int:person_id>", methods=["PUT"])
@record_bp.arguments(schemas.AttendanceIn)
@record_bp.response(200, schemas.AttendanceSchema)
def put_attendance(body, meeting_id, person_id):
    """Record one person's attendance. Members may send their own apologies."""
    user = require_user()
    meeting = meeting_or_404(meeting_id)
    person = _person(person_id, "person_id")
    if not is_staff(user):
        if body["status"] != "apologies" or person_id_of(user) != person_id:
            abort(403, message="Members may only send their own apologies.")
        row = attendance_services.send_apologies(meeting, user)
    else:
        row = attendance_services.set_attendance(
            meeting,
            person,
            body["status"],
            substitute_for=_person(body.get("substitute_for"), "substitute_for"),
            in_chair=body.get("in_chair", False),
            capacity=body.get("capacity"),
            arrived_at_item_id=body.get("arrived_at_item"),
            left_at_item_id=body.get("left_at_item"),
            user=user,
        )
    db.session.flush()
    return {
        "person_id": row.person_id,
        "status": row.status.value,
        "substitute_for": row.substitute_for_id,
        "in_chair": row.in_chair,
        "arrived_at_item": row.arrived_at_item_id,
        "left_at_item": row.left_at_item_id,
        "quorate": attendance_services.quorum(meeting).quorate,
    }


@record_bp.route("/meetings/<int:meeting_id>/declarations", methods=["POST"])
@record_bp.arguments(schemas.DeclarationIn)
@record_bp.response(201, schemas.DeclarationSchema)
def post_declaration(body, meeting_id):
    """Record a declaration of interest on an item."""
    user = require_staff()
    meeting = meeting_or_404(meeting_id)
    declaration = attendance_services.add_declaration(
        meeting,
        body["agenda_item_id"],
        _person(body["person_id"], "person_id"),
        body["kind"],
        body["nature"],
        body["withdrew"],
        user=user,
    )
    db.session.flush()
    return {
        "id": declaration.id,
        "person_id": declaration.person_id,
        "agenda_item_id": declaration.agenda_item_id,
        "kind": declaration.kind.value,
        "nature": declaration.nature,
        "withdrew": declaration.withdrew,
    }


def minute_out(minute: Minute) -> dict:
    return {
        "id": minute.id,
        "number": minute.number,
        "display_number": minute.display_number,
        "title": minute.title,
        "text": minute.text,
        "version": minute.version,
        "locked": minute.locked,
    }


@record_bp.route("/agenda-items/<int:item_id>/minute", methods=["PUT"])
@record_bp.arguments(schemas.MinuteIn)
@record_bp.response(200, schemas.MinuteSchema)
def put_minute(body, item_id):
    """Write an item's minute. The first call numbers the meeting's minutes in agenda order;
    a stale `version` gets 409 with the current text."""
    user = require_staff()
    item = db.session.get(AgendaItem, item_id)
    if item is None:
        abort(404, message="No agenda item with that id.")
    minute = db.session.scalar(select(Minute).where(Minute.agenda_item_id == item.id))
    if minute is None:
        if item.parent_id is not None:
            abort(
                422,
                message="Sub-items are minuted with their parent item.",
                errors={"item_id": ["Use the parent item."]},
            )
        minute_services.draft_minutes(item.meeting, user)
        minute = db.session.scalar(select(Minute).where(Minute.agenda_item_id == item.id))
    minute_services.save_minute(
        minute, body["text"], body.get("version"), user, title=body.get("title")
    )
    db.session.flush()
    return minute_out(minute)


@record_bp.route("/minutes/<int:minute_id>", methods=["DELETE"])
@record_bp.response(204)
def delete_minute(minute_id):
    """Delete a draft minute; its number is never reused. 409 once the minutes are approved
    or when actions arise from it."""
    user = require_staff()
    minute = db.session.get(Minute, minute_id)
    if minute is None:
        abort(404, message="No minute with that id.")
    minute_services.delete_minute(minute, user)


@record_bp.route("/minutes/<int:minute_id>/resolutions", methods=["POST"])
@record_bp.arguments(schemas.ResolutionIn)
@record_bp.response(201, schemas.ResolutionSchema)
def post_resolution(body, minute_id):
    """Add the next numbered resolution to a minute (409 once the minutes are approved)."""
    user = require_staff()
    minute = db.session.get(Minute, minute_id)
    if minute is None:
        abort(404, message="No minute with that id.")
    votes = [(v.get("person_id", v.get("name")), v["vote"]) for v in body.pop("votes", None) or []]
    resolution = minute_services.add_resolution(minute, user=user, named_votes=votes, **body)
    db.session.flush()
    return {
        "id": resolution.id,
        "ordinal": resolution.ordinal,
        "reference": resolution.reference,
        "kind": resolution.kind.value,
        "text": resolution.text,
        "votes_for": resolution.votes_for,
        "votes_against": resolution.votes_against,
        "abstentions": resolution.abstentions,
        "votes": [
            {"person_id": v.person_id, "name": v.person.display_name, "vote": v.vote.value}
            for v in resolution.votes
        ],
    }


@record_bp.route("/meetings/<int:meeting_id>/minutes/approve", methods=["POST"])
@record_bp.arguments(schemas.ApproveIn)
@record_bp.response(200, schemas.MeetingSchema)
def approve(body, meeting_id):
    """Approve the minutes as a correct record at a later meeting; they are then locked."""
    from app.api.serializers import meeting_out

    user = require_staff()
    meeting = meeting_or_404(meeting_id)
    # A meeting named in the body is bad input (422), as the rest of the API has it; 404 is
    # for what the path names.
    at = db.session.get(Meeting, body["at_meeting_id"])
    if at is None or not at.can_view(user):
        abort(
            422,
            message="There is no meeting with that id.",
            errors={"at_meeting_id": ["Unknown meeting."]},
        )
    minute_services.approve_minutes(
        meeting, at, body.get("amendments"), body.get("chair_name"), body.get("signed_on"), user
    )
    db.session.flush()
    return meeting_out(meeting)


def action_out(action: Action) -> dict:
    return {
        "id": action.id,
        "committee": action.committee.slug,
        "reference": action.reference,
        "title": action.title,
        "owner": {"id": action.owner.id, "name": action.owner.display_name}
        if action.owner
        else None,
        "due_date": action.due_date,
        "status": action.status.value,
        "rag": action.rag.value if action.rag else None,
        "overdue": action.is_overdue(),
        "resolution": action.resolution.reference if action.resolution else None,
        "version": action.version,
    }


@actions_bp.route("/resolutions/<int:resolution_id>/actions", methods=["POST"])
@actions_bp.arguments(schemas.ActionIn)
@actions_bp.response(201, schemas.ActionSchema)
def post_resolution_action(body, resolution_id):
    """An action arising from a resolution, in one step."""
    user = require_staff()
    resolution = db.session.get(Resolution, resolution_id)
    if resolution is None:
        abort(404, message="No resolution with that id.")
    action = action_services.create_from_resolution(
        resolution, body["title"], body["owner_id"], body.get("due_date"), user=user
    )
    db.session.flush()
    return action_out(action)


@actions_bp.route("/actions", methods=["POST"])
@actions_bp.arguments(schemas.ActionIn)
@actions_bp.response(201, schemas.ActionSchema)
def post_action(body):
    """A standalone action (say, from an action plan)."""
    user = require_staff()
    if not body.get("committee"):
        abort(422, message="Name the committee.", errors={"committee": ["Required."]})
    committee = committee_or_404(body["committee"])
    action = action_services.create_action(
        committee,
        body["title"],
        body["owner_id"],
        body.get("due_date"),
        reference=body.get("reference"),
        user=user,
    )
    db.session.flush()
    return action_out(action)


@actions_bp.route("/actions")
@actions_bp.arguments(schemas.ActionQuery, location="query")
@actions_bp.response(200, schemas.ActionPage)
def list_actions(args):
    """Actions the caller may see; filter by owner, status, rag, committee, overdue."""
    user = api_user()
    committee = committee_or_404(args["committee"]) if args.get("committee") else None
    stmt = action_services.tracker_query(
        committee.id if committee else None,
        args.get("owner"),
        args.get("status"),
        args.get("rag"),
        bool(args.get("overdue")),
        user=user,
        for_reader=True,
    )
    page, per_page = args["page"], args["per_page"]
    # Filtered in SQL, so the total and the pages are exact.
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    window = db.session.scalars(stmt.offset((page - 1) * per_page).limit(per_page))
    return {
        "items": [action_out(a) for a in window if a.can_view(user)],
        "page": page,
        "per_page": per_page,
        "total": total,
    }


def _action_or_404(action_id: int, user) -> Action:
    action = db.session.get(Action, action_id)
    if action is None or not action.can_view(user):
        abort(404, message="No action with that id.")
    return action


def action_detail_out(action: Action) -> dict:
    history = [
        {
            "kind": h.kind,
            "at": h.at,
            "by": h.by,
            "note": h.note,
            "status": h.status.value if h.status else None,
            "rag": h.rag.value if h.rag else None,
            "changes": h.changes,
            "approved_record": h.approved_record,
        }
        for h in action_services.action_history(action)
    ]
    return {**action_out(action), "history": history}


@actions_bp.route("/actions/<int:action_id>")
@actions_bp.response(200, schemas.ActionDetailSchema)
def get_action(action_id):
    """One action with its history: progress updates and corrections, oldest first."""
    return action_detail_out(_action_or_404(action_id, api_user()))


@actions_bp.route("/actions/<int:action_id>", methods=["PATCH"])
@actions_bp.arguments(schemas.ActionCorrectionIn)
@actions_bp.response(200, schemas.ActionDetailSchema)
def patch_action(body, action_id):
    """Correct the title, owner, due date or reference (clerks); audited and shown in the
    history. Sending the values it already has changes nothing."""
    user = require_user()
    action = _action_or_404(action_id, user)
    version = body.pop("version", None)
    action_services.correct_action(action, user, expected_version=version, **body)
    db.session.flush()
    return action_detail_out(action)


@actions_bp.route("/actions/<int:action_id>/updates", methods=["POST"])
@actions_bp.arguments(schemas.UpdateIn)
@actions_bp.response(201, schemas.UpdateSchema)
def post_update(body, action_id):
    """Owners update their own actions; clerks anyone's."""
    user = require_user()
    action = db.session.get(Action, action_id)
    if action is None or not action.can_view(user):
        abort(404, message="No action with that id.")
    try:
        update = action_services.post_update(
            action, user, body.get("note"), body.get("status"), body.get("rag"), body.get("version")
        )
    except Forbidden as exc:
        abort(403, message=exc.detail)
    db.session.flush()
    return {
        "id": update.id,
        "created_at": update.created_at.isoformat(),
        "note": update.note,
        "status": update.status.value if update.status else None,
        "rag": update.rag.value if update.rag else None,
    }


opendata_bp = Blueprint(
    "api_opendata",
    __name__,
    url_prefix="/api/v1",
    description="Open data: Open Civic Data events and Popolo",
)
opendata_bp.before_request(guard_request)


@opendata_bp.route("/meetings/<int:meeting_id>/ocd-event")
@opendata_bp.response(200, schemas.OpenDataSchema)
def ocd_event(meeting_id):
    """The meeting as an Open Civic Data Event; exempt flags in `extras`, no exempt content
    for those who may not see it."""
    from flask import request

    from app.opendata.builders import meeting_to_ocd_event

    meeting = meeting_or_404(meeting_id)
    return meeting_to_ocd_event(meeting, api_user(), request.host_url)


@opendata_bp.route("/popolo")
@opendata_bp.arguments(schemas.PopoloQuery, location="query")
@opendata_bp.response(200, schemas.OpenDataSchema)
def popolo(args):
    """Organisations, people, memberships, motions and vote events (Popolo)."""
    from app.committees.models import Committee
    from app.minutes.queries import decisions_query
    from app.opendata.builders import popolo_export

    user = api_user()
    committees = db.session.scalars(select(Committee).order_by(Committee.name)).all()
    if args.get("committee"):
        committees = [committee_or_404(args["committee"])]
    stmt = decisions_query(committee_id=committees[0].id if args.get("committee") else None)
    resolutions = db.session.scalars(stmt.limit(5000)).all()
    return popolo_export(committees, resolutions, user, include_email=is_staff(user))
