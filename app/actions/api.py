"""Actions through the API: raising them, the tracker, one action with its history,
corrections and progress updates, and importing a committee's action plan."""

from __future__ import annotations

import json

from flask_smorest import abort
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import selectinload

from app.actions import plan as action_plan
from app.actions import services as action_services
from app.actions.models import Action, ActionStatus, Rag
from app.agenda.models import AgendaItem
from app.api import api_blueprint
from app.api.auth import api_user, require_staff, require_user
from app.api.schemas import (
    CommitteeSlug,
    CursorPageQuery,
    Id,
    PatchSchema,
    PersonRef,
    QueryBoolean,
    cursor_list,
    cursor_page_of,
    derived,
    found_or_404,
    list_endpoint,
    one_of,
)
from app.committees.api import committee_or_404
from app.core.errors import Forbidden, ValidationError
from app.extensions import db
from app.minutes.models import Minute, Resolution

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


ActionPage = cursor_page_of(ActionSchema, "ActionPage")


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


class ActionQuery(CursorPageQuery):
    owner = Id()
    status = fields.String(validate=one_of(ActionStatus))
    rag = fields.String(validate=one_of(Rag))
    committee = CommitteeSlug()
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


def _minute_loads():
    # What an action's predicate asks of the minute it arises from: its meeting and whether
    # its item (or the item's parent) is restricted.
    return (
        selectinload(Minute.meeting),
        selectinload(Minute.item).selectinload(AgendaItem.parent),
    )


@actions_bp.route("/actions")
@list_endpoint(actions_bp, ActionQuery, ActionPage)
def list_actions(args):
    """Actions the caller may see, by due date (none last); filter by owner, status, rag,
    committee, overdue. Page by `cursor` for pages that cost the same however far on."""
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
    # What each row shows and its predicate asks, loaded with the page, not row by row.
    stmt = stmt.options(
        selectinload(Action.committee),
        selectinload(Action.owner),
        selectinload(Action.minute).options(*_minute_loads()),
        selectinload(Action.resolution)
        .selectinload(Resolution.minute)
        .options(*_minute_loads(), selectinload(Minute.resolutions)),
    )
    # Filtered in SQL, so the total and the pages are exact; in the tracker's order, with its
    # cursors.
    return cursor_list(stmt, args, action_services.TRACKER_ORDER, keep=lambda a: a.can_view(user))


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


# --- action plans -----------------------------------------------------------------------------


class PlanUploadIn(Schema):
    """An action plan, sent as multipart/form-data."""

    file = fields.Raw(
        required=True,
        metadata={"type": "string", "format": "binary", "description": "CSV (UTF-8) or XLSX"},
    )
    dry_run = QueryBoolean(
        load_default=True,
        metadata={"description": "`true` (the default): only say what the import would do"},
    )
    columns = fields.String(
        metadata={
            "description": "JSON object: the file's heading -> field ("
            + ", ".join(action_plan.FIELDS)
            + f", or `{action_plan.IGNORE}`), for headings not recognised or read wrongly"
        }
    )


def _id_of(record) -> int | None:
    return record.id if record is not None else None


class PlanColumnSchema(Schema):
    heading = fields.String()
    field = fields.String(allow_none=True, metadata={"description": "None: left out"})
    recognised = fields.Boolean(metadata={"description": "Found from the heading itself"})


class PlanLeadSchema(Schema):
    name = fields.String()
    email = fields.String(allow_none=True)
    person_id = derived(fields.Integer(allow_none=True), lambda lead: _id_of(lead.person))
    found = derived(
        fields.String(
            metadata={"description": "How: `e-mail`, `name`, `new` (to be added), `ambiguous`"}
        ),
        lambda lead: lead.how,
    )


class PlanRowSchema(Schema):
    line = fields.Integer(metadata={"description": "The row as the spreadsheet numbers it"})
    outcome = fields.String(validate=validate.OneOf(["create", "update", "leave", "error"]))
    action_id = derived(fields.Integer(allow_none=True), lambda r: _id_of(r.action))
    reference = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    theme = fields.String(allow_none=True)
    objective = fields.String(allow_none=True)
    target = fields.String(allow_none=True)
    owner = derived(fields.String(allow_none=True), lambda r: r.owner.name if r.owner else None)
    co_owners = derived(fields.List(fields.String()), lambda r: [x.name for x in r.co_owners])
    due_date = fields.Date(allow_none=True)
    review_date = fields.Date(allow_none=True)
    rag = fields.String(allow_none=True, validate=one_of(Rag))
    status = fields.String(allow_none=True, validate=one_of(ActionStatus))
    changes = fields.List(fields.String())
    notes = fields.List(fields.String(), metadata={"description": "How the row was read"})
    errors = fields.List(fields.String())


class PlanCountsSchema(Schema):
    create = fields.Integer()
    update = fields.Integer()
    leave = fields.Integer()
    error = fields.Integer()


class PlanPreviewSchema(Schema):
    imported = fields.Boolean(metadata={"description": "False for a dry run"})
    filename = fields.String()
    columns = fields.List(fields.Nested(PlanColumnSchema))
    leads = fields.List(fields.Nested(PlanLeadSchema))
    rows = fields.List(fields.Nested(PlanRowSchema))
    counts = fields.Nested(PlanCountsSchema)
    notes = fields.List(fields.String())
    errors = fields.List(fields.String(), metadata={"description": "About the file as a whole"})


@actions_bp.route("/committees/<slug>/action-plan", methods=["POST"])
@actions_bp.arguments(PlanUploadIn, location="files", unknown="raise")
@actions_bp.response(200, PlanPreviewSchema)
def post_action_plan(body, slug):
    """Preview (`dry_run`, the default) or import an action plan as the council keeps it:
    its own headings, theme lines, RAG letters or words, several leads in a cell, dates as
    written. Re-importing the same plan updates its actions by reference and never duplicates
    them. A plan with any row in error imports nothing (422)."""
    user = require_staff()
    committee = committee_or_404(slug)
    columns = None
    if body.get("columns"):
        try:
            columns = json.loads(body["columns"])
        except ValueError:
            raise ValidationError(
                "Columns is not JSON.", {"columns": ["Send a JSON object of heading: field."]}
            ) from None
    try:
        upload = action_plan.upload_from(body["file"])
    except action_plan.PlanFileError as exc:
        raise ValidationError(str(exc), {"file": [str(exc)]}) from None
    if not body["dry_run"]:
        result = action_plan.import_plan(committee, upload, user, columns)
        db.session.flush()
        preview, imported = result.preview, True
    else:
        preview, imported = action_plan.preview_plan(committee, upload, columns), False
        if preview.errors:
            raise ValidationError(preview.errors[0], {"file": preview.errors})
    return {
        "imported": imported,
        "filename": preview.filename,
        "columns": preview.columns,
        "leads": preview.leads,
        "rows": preview.rows,
        "counts": preview.counts,
        "notes": preview.notes,
        "errors": preview.errors,
    }
