"""Minutes through the API: writing them, their resolutions and named votes, approval, and
reading them back (a meeting's minutes, one minute, one resolution, the decisions register),
each through the pages' own predicates and queries."""

from __future__ import annotations

from flask import g, get_template_attribute, url_for
from flask_smorest import abort
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    missing,
    post_dump,
    validate,
    validates_schema,
)
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.actions.services import actions_by_minute
from app.agenda.api import item_or_404
from app.agenda.models import Visibility
from app.api import api_blueprint
from app.api.auth import api_user, require_staff
from app.api.schemas import (
    CommitteeSlug,
    CursorPageQuery,
    Id,
    cursor_list,
    cursor_page_of,
    derived,
    found_or_404,
    iso,
    list_endpoint,
    one_of,
)
from app.committees.api import committee_or_404
from app.extensions import db
from app.meetings.api import MeetingRef, MeetingSchema, meeting_or_404, record_or_404
from app.meetings.models import Meeting, MinutesState
from app.minutes import services as minute_services
from app.minutes.models import Minute, Resolution, ResolutionKind, ResolutionVote, VoteChoice
from app.minutes.queries import DECISIONS_ORDER, decisions_query

minutes_bp = api_blueprint(__name__, "api_minutes", "Minutes, resolutions and approval")


def minute_or_404(minute_id: int) -> Minute:
    return found_or_404(Minute, minute_id, "minute")


# --- what is sent -----------------------------------------------------------------------------


def visible_ids(actions) -> list[int]:
    user = api_user()
    return [a.id for a in actions if a.can_view(user)]


class NamedVoteOut(Schema):
    person_id = fields.Integer()
    name = derived(fields.String(), lambda v: v.person.display_name)
    vote = fields.String(validate=one_of(VoteChoice))


class ResolutionSchema(Schema):
    """A resolution as written."""

    id = fields.Integer()
    ordinal = fields.Integer()
    reference = fields.String(metadata={"description": "How the minutes cite it: 211(1)"})
    kind = fields.String(validate=one_of(ResolutionKind))
    text = fields.String()
    votes_for = fields.Integer(allow_none=True)
    votes_against = fields.Integer(allow_none=True)
    abstentions = fields.Integer(allow_none=True)
    votes = derived(
        fields.List(fields.Nested(NamedVoteOut), metadata={"description": "Named votes"}),
        lambda r: sorted(r.votes, key=lambda v: v.id),
    )


class ResolutionOut(ResolutionSchema):
    """A resolution read back, with the actions arising that the reader may see."""

    minute_id = fields.Integer()
    meeting_id = derived(fields.Integer(), lambda r: r.minute.meeting_id)
    recommended_to = fields.String(allow_none=True)
    action_ids = derived(
        fields.List(fields.Integer(), metadata={"description": "Actions arising"}),
        lambda r: visible_ids(sorted(r.actions, key=lambda a: a.id)),
    )


class MinuteRef(Schema):
    id = fields.Integer()
    number = fields.Integer()
    display_number = fields.String()
    title = fields.String()


class MinuteSchema(MinuteRef):
    """A minute as written."""

    text = fields.String(metadata={"description": "Markdown"})
    version = fields.Integer()
    locked = fields.Boolean()


def minute_actions(m: Minute) -> list:
    """The actions recorded in the minute, from those a list of minutes loaded at once
    (minutes_listed) or, for one minute, its own."""
    loaded = g.get("minute_actions")
    if loaded is not None and m.id in loaded:
        return loaded[m.id]
    return actions_by_minute([m]).get(m.id, [])


def withheld(m: Minute) -> bool:
    """A minute on business the reader may not see keeps its place as the page shows it."""
    return not m.can_view(api_user())


WITHHELD_SHOWS = ("number", "display_number", "agenda_item_id", "withheld", "heading")


def withheld_heading(m: Minute) -> str:
    heading = get_template_attribute("minutes/_record.html", "withheld_heading")
    return " ".join(str(heading(m)).split())


class MinuteOut(MinuteSchema):
    """A minute. One on business the reader may not see appears (in a meeting's minutes only)
    as the public page shows it: `withheld`, its number and the heading citing the grounds."""

    meeting_id = fields.Integer()
    agenda_item_id = fields.Integer(allow_none=True)
    withheld = derived(fields.Boolean(), withheld)
    heading = derived(
        fields.String(metadata={"description": "Only for a withheld minute"}),
        lambda m: withheld_heading(m) if withheld(m) else missing,
    )
    visibility = derived(
        fields.String(metadata={"description": "Of the business minuted"}),
        lambda m: m.item.effective_visibility if m.item is not None else Visibility.PUBLIC,
    )
    exempt_paragraphs = derived(
        fields.List(fields.Integer()),
        lambda m: (
            m.item.exempt_paragraphs if m.item is not None and m.item.exempt_paragraphs else missing
        ),
    )
    resolutions = fields.List(fields.Nested(ResolutionOut))
    action_ids = derived(
        fields.List(fields.Integer(), metadata={"description": "Actions recorded in the minute"}),
        lambda m: [] if withheld(m) else visible_ids(minute_actions(m)),
    )

    @post_dump(pass_original=True)
    def withhold(self, data: dict, minute: Minute, **kwargs) -> dict:
        if data["withheld"]:
            return {k: v for k, v in data.items() if k in WITHHELD_SHOWS}
        return data


def minutes_listed(meeting: Meeting) -> list[Minute]:
    """The meeting's minutes in order, those the reader may not see as headings only; the
    actions of the ones shown are loaded together."""
    user = api_user()
    found = db.session.scalars(
        select(Minute)
        .where(Minute.meeting_id == meeting.id)
        .options(
            selectinload(Minute.resolutions)
            .selectinload(Resolution.votes)
            .selectinload(ResolutionVote.person),
            selectinload(Minute.resolutions).selectinload(Resolution.actions),
        )
        .order_by(Minute.number)
    ).all()
    listed = [m for m in found if m.can_view(user) or m.restricted]
    g.minute_actions = actions_by_minute([m for m in listed if m.can_view(user)])
    return listed


class ApprovalOut(Schema):
    at_meeting_id = derived(
        fields.Integer(allow_none=True),
        lambda m: m.approved_at_meeting.id if m.approved_at_meeting else None,
    )
    at_meeting_starts_at = derived(
        fields.String(allow_none=True),
        lambda m: iso(m.approved_at_meeting.local_start) if m.approved_at_meeting else None,
    )
    amendments = fields.String(attribute="approval_amendments", allow_none=True)
    signed_by = fields.String(attribute="chair_signed_name", allow_none=True)
    signed_on = fields.Date(attribute="chair_signed_on", allow_none=True)


class MeetingMinutesOut(Schema):
    meeting_id = fields.Integer(attribute="id")
    state = fields.String(attribute="minutes_state", validate=one_of(MinutesState))
    approval = derived(
        fields.Nested(ApprovalOut, metadata={"description": "Once approved"}),
        lambda m: m if m.minutes_state == MinutesState.APPROVED else missing,
    )
    minutes = derived(fields.List(fields.Nested(MinuteOut)), minutes_listed)
    minutes_pdf_url = derived(
        fields.String(), lambda m: url_for("packs.minutes", meeting_id=m.id, _external=True)
    )


class DecisionOut(ResolutionOut):
    minute = fields.Nested(MinuteRef)
    meeting = derived(fields.Nested(MeetingRef), lambda r: r.minute.meeting)


DecisionPage = cursor_page_of(DecisionOut, "DecisionPage")


# --- what is received -------------------------------------------------------------------------


class MinuteIn(Schema):
    text = fields.String(required=True)
    title = fields.String()
    version = fields.Integer(metadata={"description": "For optimistic locking; 409 if stale"})


class NamedVote(Schema):
    person_id = Id(metadata={"description": "The voter; or give their name"})
    name = fields.String(metadata={"description": "A voting member's (or substitute's) name"})
    vote = fields.String(required=True, validate=one_of(VoteChoice))

    @validates_schema
    def one_voter(self, data, **kwargs):
        if ("person_id" in data) == ("name" in data):
            raise ValidationError("Give the voter's person_id or their name.", "person_id")


class ResolutionIn(Schema):
    text = fields.String(required=True)
    kind = fields.String(
        load_default=ResolutionKind.RESOLVED.value, validate=one_of(ResolutionKind)
    )
    recommended_to = fields.String(allow_none=True)
    votes_for = fields.Integer(allow_none=True, validate=validate.Range(min=0))
    votes_against = fields.Integer(allow_none=True, validate=validate.Range(min=0))
    abstentions = fields.Integer(allow_none=True, validate=validate.Range(min=0))
    votes = fields.List(
        fields.Nested(NamedVote),
        metadata={"description": "Named votes, where the minutes record how each member voted"},
    )


class ApproveIn(Schema):
    at_meeting_id = Id(required=True)
    amendments = fields.String(allow_none=True)
    chair_name = fields.String(allow_none=True)
    signed_on = fields.Date(allow_none=True)


class DecisionQuery(CursorPageQuery):
    q = fields.String(validate=validate.Length(max=200))
    committee = CommitteeSlug()
    from_ = fields.Date(data_key="from", metadata={"description": "ISO 8601 date"})
    to = fields.Date(metadata={"description": "ISO 8601 date"})
    kind = fields.String(validate=one_of(ResolutionKind))


# --- writing ----------------------------------------------------------------------------------


@minutes_bp.route("/agenda-items/<int:item_id>/minute", methods=["PUT"])
@minutes_bp.arguments(MinuteIn)
@minutes_bp.response(200, MinuteSchema)
def put_minute(body, item_id):
    """Write an item's minute. The first call numbers the meeting's minutes in agenda order;
    a stale `version` gets 409 with the current text."""
    user = require_staff()
    item = item_or_404(item_id)
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
    return minute


@minutes_bp.route("/minutes/<int:minute_id>", methods=["DELETE"])
@minutes_bp.response(204)
def delete_minute(minute_id):
    """Delete a draft minute; its number is never reused. 409 once the minutes are approved
    or when actions arise from it."""
    user = require_staff()
    minute_services.delete_minute(minute_or_404(minute_id), user)


@minutes_bp.route("/minutes/<int:minute_id>/resolutions", methods=["POST"])
@minutes_bp.arguments(ResolutionIn)
@minutes_bp.response(201, ResolutionSchema)
def post_resolution(body, minute_id):
    """Add the next numbered resolution to a minute (409 once the minutes are approved)."""
    user = require_staff()
    minute = minute_or_404(minute_id)
    votes = [(v.get("person_id", v.get("name")), v["vote"]) for v in body.pop("votes", None) or []]
    resolution = minute_services.add_resolution(minute, user=user, named_votes=votes, **body)
    db.session.flush()
    return resolution


@minutes_bp.route("/meetings/<int:meeting_id>/minutes/approve", methods=["POST"])
@minutes_bp.arguments(ApproveIn)
@minutes_bp.response(200, MeetingSchema)
def approve(body, meeting_id):
    """Approve the minutes as a correct record at a later meeting; they are then locked."""
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
    return meeting


# --- reading ----------------------------------------------------------------------------------


@minutes_bp.route("/meetings/<int:meeting_id>/minutes")
@minutes_bp.response(200, MeetingMinutesOut)
def get_meeting_minutes(meeting_id):
    """The minutes in order, with their resolutions (named votes, actions arising) and, once
    approved, the approval. A minute on business the reader may not see keeps its place as a
    heading only, as on the meeting page."""
    return record_or_404(meeting_id)


@minutes_bp.route("/minutes/<int:minute_id>")
@minutes_bp.response(200, MinuteOut)
def get_minute(minute_id):
    """One minute with its resolutions; 404 for one the reader may not see."""
    return found_or_404(Minute, minute_id, "minute", visible=True)


@minutes_bp.route("/resolutions/<int:resolution_id>")
@minutes_bp.response(200, ResolutionOut)
def get_resolution(resolution_id):
    """One resolution with its named votes and the actions arising from it."""
    return found_or_404(Resolution, resolution_id, "resolution", visible=True)


@minutes_bp.route("/decisions")
@list_endpoint(minutes_bp, DecisionQuery, DecisionPage)
def list_decisions(args):
    """The decisions register: resolutions the reader may see, newest meeting first; filter by
    words (q), committee slug, kind and a from/to date. Page by `cursor` for pages that cost
    the same however far on."""
    user = api_user()
    committee = committee_or_404(args["committee"]) if args.get("committee") else None
    stmt = decisions_query(
        args.get("q"),
        committee.id if committee else None,
        args.get("from_"),
        args.get("to"),
        args.get("kind"),
        user,
        for_reader=True,
    )
    # Named votes and the actions arising, loaded with the page rather than row by row.
    stmt = stmt.options(
        selectinload(Resolution.votes).selectinload(ResolutionVote.person),
        selectinload(Resolution.actions),
    )
    # Visibility is filtered in SQL, as for the register's page, so the total is exact; the
    # predicate is asked again of each resolution shown.
    return cursor_list(stmt, args, DECISIONS_ORDER, keep=lambda r: r.can_view(user))
