"""Actions through the API: raising them, the tracker, one action with its history,
corrections and progress updates."""

from __future__ import annotations

from flask_smorest import abort
from marshmallow import Schema, fields

from app.actions import services as action_services
from app.actions.models import Action, ActionStatus, Rag
from app.api import api_blueprint
from app.api.auth import api_user, require_staff, require_user
from app.api.schemas import (
    Id,
    PageQuery,
    PatchSchema,
    PersonRef,
    QueryBoolean,
    derived,
    found_or_404,
    one_of,
    page_of,
    paginate,
)
from app.committees.api import committee_or_404
from app.core.errors import Forbidden
from app.extensions import db
from app.minutes.models import Resolution

actions_bp = api_blueprint(__name__, "api_actions", "Actions and their updates")


def action_or_404(action_id: int) -> Action:
    return found_or_404(Action, action_id, "action", visible=True)


# --- what is sent -----------------------------------------------------------------------------


class ActionSchema(Schema):
    id = fields.Integer()
    committee = derived(fields.String(), lambda a: a.committee.slug)
    reference = fields.String(allow_none=True)
    title = fields.String()
    owner = fields.Nested(PersonRef, allow_none=True)
    due_date = fields.Date(allow_none=True)
    status = fields.String(validate=one_of(ActionStatus))
    rag = fields.String(allow_none=True, validate=one_of(Rag))
    overdue = derived(fields.Boolean(), lambda a: a.is_overdue())
    resolution = derived(
        fields.String(allow_none=True, metadata={"description": "e.g. 211(1)"}),
        lambda a: a.resolution.reference if a.resolution else None,
    )
    version = fields.Integer()


ActionPage = page_of(ActionSchema, "ActionPage")


class HistoryEntrySchema(Schema):
    kind = fields.String(metadata={"description": "`update` (progress) or `correction`"})
    at = fields.DateTime()
    by = fields.String(allow_none=True, metadata={"description": "The user's name"})
    note = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    rag = fields.String(allow_none=True)
    changes = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Raw(allow_none=True)),
        allow_none=True,
        metadata={"description": "A correction's fields, each as [old, new]"},
    )
    approved_record = fields.Boolean(
        metadata={"description": "Corrected after the minutes it arises from were approved"}
    )


class ActionDetailSchema(ActionSchema):
    history = derived(
        fields.List(fields.Nested(HistoryEntrySchema)), action_services.action_history
    )


class UpdateSchema(Schema):
    id = fields.Integer()
    created_at = derived(fields.String(), lambda u: u.created_at.isoformat())
    note = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    rag = fields.String(allow_none=True)


# --- what is received -------------------------------------------------------------------------


class ActionIn(Schema):
    title = fields.String(required=True)
    owner_id = Id(required=True, allow_none=False)
    due_date = fields.Date(allow_none=True)
    reference = fields.String(allow_none=True)
    committee = fields.String(metadata={"description": "Slug; needed for standalone actions"})


class ActionQuery(PageQuery):
    owner = Id()
    status = fields.String(validate=one_of(ActionStatus))
    rag = fields.String(validate=one_of(Rag))
    committee = fields.String()
    overdue = QueryBoolean()


class UpdateIn(Schema):
    note = fields.String(allow_none=True)
    status = fields.String(allow_none=True, validate=one_of(ActionStatus))
    rag = fields.String(allow_none=True, validate=one_of(Rag))
    version = fields.Integer()


class ActionCorrectionIn(PatchSchema):
    """Send only what is to be corrected; `version` to be told of a clash with another edit."""

    title = fields.String()
    owner_id = Id()
    due_date = fields.Date(allow_none=True)
    reference = fields.String(allow_none=True)
    version = fields.Integer()


# --- endpoints --------------------------------------------------------------------------------


@actions_bp.route("/resolutions/<int:resolution_id>/actions", methods=["POST"])
@actions_bp.arguments(ActionIn)
@actions_bp.response(201, ActionSchema)
def post_resolution_action(body, resolution_id):
    """An action arising from a resolution, in one step."""
    user = require_staff()
    resolution = found_or_404(Resolution, resolution_id, "resolution")
    action = action_services.create_from_resolution(
        resolution, body["title"], body["owner_id"], body.get("due_date"), user=user
    )
    db.session.flush()
    return action


@actions_bp.route("/actions", methods=["POST"])
@actions_bp.arguments(ActionIn)
@actions_bp.response(201, ActionSchema)
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
    return action


@actions_bp.route("/actions")
@actions_bp.arguments(ActionQuery, location="query")
@actions_bp.response(200, ActionPage)
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
    # Filtered in SQL, so the total and the pages are exact.
    return paginate(stmt, args, keep=lambda a: a.can_view(user))


@actions_bp.route("/actions/<int:action_id>")
@actions_bp.response(200, ActionDetailSchema)
def get_action(action_id):
    """One action with its history: progress updates and corrections, oldest first."""
    return action_or_404(action_id)


@actions_bp.route("/actions/<int:action_id>", methods=["PATCH"])
@actions_bp.arguments(ActionCorrectionIn)
@actions_bp.response(200, ActionDetailSchema)
def patch_action(body, action_id):
    """Correct the title, owner, due date or reference (clerks); audited and shown in the
    history. Sending the values it already has changes nothing."""
    user = require_user()
    action = action_or_404(action_id)
    version = body.pop("version", None)
    action_services.correct_action(action, user, expected_version=version, **body)
    db.session.flush()
    return action


@actions_bp.route("/actions/<int:action_id>/updates", methods=["POST"])
@actions_bp.arguments(UpdateIn)
@actions_bp.response(201, UpdateSchema)
def post_update(body, action_id):
    """Owners update their own actions; clerks anyone's."""
    user = require_user()
    action = action_or_404(action_id)
    try:
        update = action_services.post_update(
            action, user, body.get("note"), body.get("status"), body.get("rag"), body.get("version")
        )
    except Forbidden as exc:
        abort(403, message=exc.detail)
    db.session.flush()
    return update
