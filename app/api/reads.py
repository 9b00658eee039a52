"""Reading the record back (issue 14): attendance, declarations, minutes, resolutions, papers,
the decisions register and search. Each answers with what the pages show the same reader,
through the same predicates and queries (Minute.can_view, declarations_by_item,
decisions_query, the search service); what the reader may not see is left out, not nulled."""

from __future__ import annotations

from flask import get_template_attribute, url_for
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.actions.services import actions_by_minute
from app.agenda.models import Document
from app.api import schemas
from app.api.auth import api_user, guard_request
from app.api.resources import committee_or_404, meeting_or_404
from app.api.serializers import document_file_url, iso
from app.extensions import db
from app.meetings import attendance as attendance_services
from app.meetings.models import AttendanceStatus, DeclarationKind, Meeting, MinutesState
from app.minutes.models import Minute, Resolution, ResolutionKind, ResolutionVote
from app.minutes.queries import decisions_query, declarations_by_item

reads_bp = Blueprint(
    "api_reads",
    __name__,
    url_prefix="/api/v1",
    description="The record read back: attendance, declarations, minutes, resolutions, "
    "papers, decisions and search",
)
reads_bp.before_request(guard_request)

SEARCH_LIMIT = 200  # hits read for one search, before the kind filter and paging


# --- output schemas (kept here until the API's schemas are merged per domain) -------------


def _values(enum) -> list[str]:
    return [e.value for e in enum]


class PersonRefOut(Schema):
    id = fields.Integer()
    name = fields.String()


class AttendeeOut(Schema):
    person_id = fields.Integer()
    person = fields.Nested(PersonRefOut)
    status = fields.String(validate=validate.OneOf(_values(AttendanceStatus)))
    substitute_for = fields.Integer(
        allow_none=True, metadata={"description": "The person a substitute stood in for"}
    )
    in_chair = fields.Boolean()
    capacity = fields.String(allow_none=True)
    arrived_at_item = fields.Integer(allow_none=True, metadata={"description": "Agenda item id"})
    left_at_item = fields.Integer(allow_none=True, metadata={"description": "Agenda item id"})


class QuorumOut(Schema):
    present = fields.Integer()
    required = fields.Integer(allow_none=True)
    quorate = fields.Boolean(allow_none=True)


class AttendanceList(Schema):
    items = fields.List(fields.Nested(AttendeeOut))
    quorum = fields.Nested(QuorumOut)


class DeclarationOut(Schema):
    id = fields.Integer()
    person_id = fields.Integer()
    person = fields.Nested(PersonRefOut)
    agenda_item_id = fields.Integer()
    kind = fields.String(validate=validate.OneOf(_values(DeclarationKind)))
    nature = fields.String()
    withdrew = fields.Boolean()


class DeclarationList(Schema):
    items = fields.List(fields.Nested(DeclarationOut))


class VoteOut(Schema):
    person_id = fields.Integer()
    name = fields.String()
    vote = fields.String()


class ResolutionOut(Schema):
    id = fields.Integer()
    minute_id = fields.Integer()
    meeting_id = fields.Integer()
    ordinal = fields.Integer()
    reference = fields.String(metadata={"description": "How the minutes cite it: 211(1)"})
    kind = fields.String(validate=validate.OneOf(_values(ResolutionKind)))
    text = fields.String()
    recommended_to = fields.String(allow_none=True)
    votes_for = fields.Integer(allow_none=True)
    votes_against = fields.Integer(allow_none=True)
    abstentions = fields.Integer(allow_none=True)
    votes = fields.List(fields.Nested(VoteOut), metadata={"description": "Named votes"})
    action_ids = fields.List(fields.Integer(), metadata={"description": "Actions arising"})


class MinuteOut(Schema):
    """A minute. One on business the reader may not see appears (in a meeting's minutes only)
    as the public page shows it: `withheld`, its number and the heading citing the grounds."""

    id = fields.Integer()
    meeting_id = fields.Integer()
    agenda_item_id = fields.Integer(allow_none=True)
    number = fields.Integer()
    display_number = fields.String()
    withheld = fields.Boolean()
    heading = fields.String(metadata={"description": "Only for a withheld minute"})
    title = fields.String()
    text = fields.String(metadata={"description": "Markdown"})
    visibility = fields.String(metadata={"description": "Of the business minuted"})
    exempt_paragraphs = fields.List(fields.Integer())
    version = fields.Integer()
    locked = fields.Boolean()
    resolutions = fields.List(fields.Nested(ResolutionOut))
    action_ids = fields.List(
        fields.Integer(), metadata={"description": "Actions recorded in the minute"}
    )


class ApprovalOut(Schema):
    at_meeting_id = fields.Integer(allow_none=True)
    at_meeting_starts_at = fields.String(allow_none=True)
    amendments = fields.String(allow_none=True)
    signed_by = fields.String(allow_none=True)
    signed_on = fields.Date(allow_none=True)


class MeetingMinutesOut(Schema):
    meeting_id = fields.Integer()
    state = fields.String(validate=validate.OneOf(_values(MinutesState)))
    approval = fields.Nested(ApprovalOut, metadata={"description": "Once approved"})
    minutes = fields.List(fields.Nested(MinuteOut))
    minutes_pdf_url = fields.String()


class DocumentOut(Schema):
    id = fields.Integer()
    agenda_item_id = fields.Integer()
    meeting_id = fields.Integer()
    title = fields.String()
    page_count = fields.Integer()
    sha256 = fields.String()
    visibility = fields.String()
    exempt_paragraphs = fields.List(fields.Integer())
    file_url = fields.String()


class MeetingRef(Schema):
    id = fields.Integer()
    committee = fields.String(metadata={"description": "The committee's slug"})
    starts_at = fields.String()
    url = fields.String()


class DecisionOut(ResolutionOut):
    minute = fields.Nested(lambda: MinuteRef())
    meeting = fields.Nested(MeetingRef)


class MinuteRef(Schema):
    id = fields.Integer()
    number = fields.Integer()
    display_number = fields.String()
    title = fields.String()


class DecisionPage(schemas.PageMeta):
    items = fields.List(fields.Nested(DecisionOut))


class DecisionQuery(schemas.PageQuery):
    q = fields.String(validate=validate.Length(max=200))
    committee = fields.String(metadata={"description": "A committee's slug"})
    from_ = fields.Date(data_key="from", metadata={"description": "ISO 8601 date"})
    to = fields.Date(metadata={"description": "ISO 8601 date"})
    kind = fields.String(validate=validate.OneOf(_values(ResolutionKind)))


SEARCH_KINDS = ("item", "document", "minute", "resolution")


class SearchQuery(schemas.PageQuery):
    q = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(validate=validate.OneOf(SEARCH_KINDS))


class SearchHitOut(Schema):
    kind = fields.String(validate=validate.OneOf(SEARCH_KINDS))
    id = fields.Integer(metadata={"description": "The item's, paper's, minute's or resolution's"})
    title = fields.String()
    excerpt = fields.String()
    meeting = fields.Nested(MeetingRef)
    url = fields.String(metadata={"description": "Where the pages show it"})


class SearchPage(schemas.PageMeta):
    items = fields.List(fields.Nested(SearchHitOut))


# --- shaping ----------------------------------------------------------------------------------


def _ref(person) -> dict | None:
    return {"id": person.id, "name": person.display_name} if person is not None else None


def _action_ids(actions, user) -> list[int]:
    return [a.id for a in actions if a.can_view(user)]


def resolution_out(r: Resolution, user) -> dict:
    return {
        "id": r.id,
        "minute_id": r.minute_id,
        "meeting_id": r.minute.meeting_id,
        "ordinal": r.ordinal,
        "reference": r.reference,
        "kind": r.kind.value,
        "text": r.text,
        "recommended_to": r.recommended_to,
        "votes_for": r.votes_for,
        "votes_against": r.votes_against,
        "abstentions": r.abstentions,
        "votes": [
            {"person_id": v.person_id, "name": v.person.display_name, "vote": v.vote.value}
            for v in sorted(r.votes, key=lambda v: v.id)
        ],
        "action_ids": _action_ids(sorted(r.actions, key=lambda a: a.id), user),
    }


def minute_out(m: Minute, user, actions=None) -> dict:
    """A minute the reader may see (the caller has asked m.can_view(user))."""
    out = {
        "id": m.id,
        "meeting_id": m.meeting_id,
        "agenda_item_id": m.agenda_item_id,
        "number": m.number,
        "display_number": m.display_number,
        "withheld": False,
        "title": m.title,
        "text": m.text,
        "visibility": m.item.effective_visibility.value if m.item is not None else "public",
        "version": m.version,
        "locked": m.locked,
        "resolutions": [resolution_out(r, user) for r in m.resolutions],
    }
    if m.item is not None and m.item.exempt_paragraphs:
        out["exempt_paragraphs"] = m.item.exempt_paragraphs
    if actions is None:
        actions = actions_by_minute([m]).get(m.id, [])
    out["action_ids"] = _action_ids(actions, user)
    return out


def withheld_out(m: Minute) -> dict:
    """Exactly what the meeting page shows of a minute the reader may not see."""
    heading = get_template_attribute("minutes/_record.html", "withheld_heading")
    return {
        "number": m.number,
        "display_number": m.display_number,
        "agenda_item_id": m.agenda_item_id,
        "withheld": True,
        "heading": " ".join(str(heading(m)).split()),
    }


def _meeting_ref(meeting: Meeting) -> dict:
    return {
        "id": meeting.id,
        "committee": meeting.committee.slug,
        "starts_at": iso(meeting.local_start),
        "url": url_for("meetings.show", meeting_id=meeting.id, _external=True),
    }


def _record_or_404(meeting_id: int, user) -> Meeting:
    """Attendance, declarations and minutes are shown together on the meeting page, once the
    reader may see its minutes; before then, for them, there is no record to read."""
    meeting = meeting_or_404(meeting_id)
    if not meeting.can_see_minutes(user):
        abort(404, message="This meeting has no minutes you may see.")
    return meeting


# --- endpoints --------------------------------------------------------------------------------


@reads_bp.route("/meetings/<int:meeting_id>/attendance")
@reads_bp.response(200, AttendanceList)
def get_attendance(meeting_id):
    """The register: who was present, sent apologies, was absent, substituted or attended,
    with the quorum. 404 until the reader may see the meeting's minutes, as on its page."""
    user = api_user()
    meeting = _record_or_404(meeting_id, user)
    quorum = attendance_services.quorum(meeting)
    return {
        "items": [
            {
                "person_id": a.person_id,
                "person": _ref(a.person),
                "status": a.status.value,
                "substitute_for": a.substitute_for_id,
                "in_chair": a.in_chair,
                "capacity": a.capacity,
                "arrived_at_item": a.arrived_at_item_id,
                "left_at_item": a.left_at_item_id,
            }
            for status in AttendanceStatus
            for a in meeting.attendance_by_status(status)
        ],
        "quorum": {
            "present": quorum.present,
            "required": quorum.required,
            "quorate": quorum.quorate,
        },
    }


@reads_bp.route("/meetings/<int:meeting_id>/declarations")
@reads_bp.response(200, DeclarationList)
def get_declarations(meeting_id):
    """Declarations of interest; one on exempt or confidential business only for those who
    may see that business. 404 until the reader may see the meeting's minutes."""
    user = api_user()
    meeting = _record_or_404(meeting_id, user)
    by_item = declarations_by_item(meeting, meeting.can_see_restricted(user))
    found = sorted((d for ds in by_item.values() for d in ds), key=lambda d: d.id)
    return {
        "items": [
            {
                "id": d.id,
                "person_id": d.person_id,
                "person": _ref(d.person),
                "agenda_item_id": d.agenda_item_id,
                "kind": d.kind.value,
                "nature": d.nature,
                "withdrew": d.withdrew,
            }
            for d in found
        ]
    }


@reads_bp.route("/meetings/<int:meeting_id>/minutes")
@reads_bp.response(200, MeetingMinutesOut)
def get_meeting_minutes(meeting_id):
    """The minutes in order, with their resolutions (named votes, actions arising) and, once
    approved, the approval. A minute on business the reader may not see keeps its place as a
    heading only, as on the meeting page."""
    user = api_user()
    meeting = _record_or_404(meeting_id, user)
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
    shown = [m for m in listed if m.can_view(user)]
    actions = actions_by_minute(shown)
    out = {
        "meeting_id": meeting.id,
        "state": meeting.minutes_state.value,
        "minutes": [
            minute_out(m, user, actions.get(m.id, [])) if m in shown else withheld_out(m)
            for m in listed
        ],
        "minutes_pdf_url": url_for("packs.minutes", meeting_id=meeting.id, _external=True),
    }
    if meeting.minutes_state == MinutesState.APPROVED:
        at = meeting.approved_at_meeting
        out["approval"] = {
            "at_meeting_id": at.id if at else None,
            "at_meeting_starts_at": iso(at.local_start) if at else None,
            "amendments": meeting.approval_amendments,
            "signed_by": meeting.chair_signed_name,
            "signed_on": meeting.chair_signed_on,
        }
    return out


@reads_bp.route("/minutes/<int:minute_id>")
@reads_bp.response(200, MinuteOut)
def get_minute(minute_id):
    """One minute with its resolutions; 404 for one the reader may not see."""
    user = api_user()
    minute = db.session.get(Minute, minute_id)
    if minute is None or not minute.can_view(user):
        abort(404, message="No minute with that id.")
    return minute_out(minute, user)


@reads_bp.route("/resolutions/<int:resolution_id>")
@reads_bp.response(200, ResolutionOut)
def get_resolution(resolution_id):
    """One resolution with its named votes and the actions arising from it."""
    user = api_user()
    resolution = db.session.get(Resolution, resolution_id)
    if resolution is None or not resolution.can_view(user):
        abort(404, message="No resolution with that id.")
    return resolution_out(resolution, user)


@reads_bp.route("/documents/<int:document_id>")
@reads_bp.response(200, DocumentOut)
def get_document(document_id):
    """One paper's details and its file; 404 for one the reader may not see."""
    document = db.session.get(Document, document_id)
    if document is None or not document.can_view(api_user()):
        abort(404, message="No paper with that id.")
    out = {
        "id": document.id,
        "agenda_item_id": document.agenda_item_id,
        "meeting_id": document.item.meeting_id,
        "title": document.title,
        "page_count": document.page_count,
        "sha256": document.sha256,
        "visibility": document.visibility.value,
        "file_url": document_file_url(document),
    }
    if document.exempt_paragraphs:
        out["exempt_paragraphs"] = document.exempt_paragraphs
    return out


def _minute_ref(m: Minute) -> dict:
    return {
        "id": m.id,
        "number": m.number,
        "display_number": m.display_number,
        "title": m.title,
    }


@reads_bp.route("/decisions")
@reads_bp.arguments(DecisionQuery, location="query")
@reads_bp.response(200, DecisionPage)
def list_decisions(args):
    """The decisions register: resolutions the reader may see, newest meeting first; filter by
    words (q), committee slug, kind and a from/to date."""
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
    page, per_page = args["page"], args["per_page"]
    # Visibility is filtered in SQL, as for the register's page, so the total is exact; the
    # predicate is asked again of each resolution shown.
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.offset((page - 1) * per_page).limit(per_page))
    items = [
        {
            **resolution_out(r, user),
            "minute": _minute_ref(r.minute),
            "meeting": _meeting_ref(r.minute.meeting),
        }
        for r in rows
        if r.can_view(user)
    ]
    return {"items": items, "page": page, "per_page": per_page, "total": total}


def _hit_url(hit) -> str:
    """Where the search page links the hit."""
    if hit.kind == "document":
        return document_file_url(hit.obj)
    if hit.kind in ("minute", "resolution"):
        minute = hit.obj if hit.kind == "minute" else hit.obj.minute
        anchor = f"minute-{minute.number}"
    else:
        anchor = f"item-{hit.obj.id}"
    return url_for("meetings.show", meeting_id=hit.meeting.id, _anchor=anchor, _external=True)


@reads_bp.route("/search")
@reads_bp.arguments(SearchQuery, location="query")
@reads_bp.response(200, SearchPage)
def search(args):
    """Full-text search over agendas, papers, minutes and resolutions the reader may see (the
    search page's own search, best match first, at most 200 hits); `kind` keeps one kind."""
    from app.search.services import search as run_search

    hits = run_search(args["q"], api_user(), limit=SEARCH_LIMIT)
    found, seen = [], set()
    for hit in hits:
        # A match in an item's purpose is a hit on the item, as the search page links it.
        kind = "item" if hit.kind == "purpose" else hit.kind
        if (args.get("kind") and kind != args["kind"]) or (kind, hit.obj.id) in seen:
            continue
        seen.add((kind, hit.obj.id))
        found.append(
            {
                "kind": kind,
                "id": hit.obj.id,
                "title": hit.title,
                "excerpt": hit.excerpt,
                "meeting": _meeting_ref(hit.meeting),
                "url": _hit_url(hit),
            }
        )
    page, per_page = args["page"], args["per_page"]
    start = (page - 1) * per_page
    return {
        "items": found[start : start + per_page],
        "page": page,
        "per_page": per_page,
        "total": len(found),
    }
