"""The agenda through the API: its items, numbered as the pages number them, and their papers."""

from __future__ import annotations

from flask import request, url_for
from flask_smorest import abort
from marshmallow import Schema, fields, missing, validate

from app.agenda import revisions
from app.agenda import services as agenda_services
from app.agenda.documents import add_document, remove_document
from app.agenda.models import AgendaItem, Document, ItemKind, Visibility
from app.api import api_blueprint
from app.api.auth import api_user, require_staff
from app.api.schemas import TEMPLATE_KINDS, Id, PatchSchema, derived, found_or_404, one_of
from app.extensions import db
from app.meetings.api import meeting_or_404

agenda_bp = api_blueprint(__name__, "api_agenda", "Agenda items and their papers")


def item_or_404(item_id: int) -> AgendaItem:
    return found_or_404(AgendaItem, item_id, "agenda item")


# --- what is sent -----------------------------------------------------------------------------


def file_url(d: Document) -> str:
    # A paper as an earlier revision published it is fetched as that revision has it.
    earlier = getattr(d, "revision", None)
    if earlier is not None and earlier == d.item.meeting.agenda_revision:
        earlier = None
    return url_for(
        "agenda.document",
        document_id=d.id,
        filename=d.filename,
        revision=earlier,
        _external=True,
    )


class PaperFields(Schema):
    id = fields.Integer()
    title = fields.String()
    page_count = fields.Integer()
    sha256 = fields.String()
    visibility = fields.String(validate=one_of(Visibility))


class DocumentSchema(PaperFields):
    """A paper as its agenda item lists it."""

    url = derived(fields.String(), file_url)


class DocumentOut(PaperFields):
    """One paper read by itself."""

    agenda_item_id = fields.Integer()
    meeting_id = derived(fields.Integer(), lambda d: d.item.meeting_id)
    exempt_paragraphs = derived(
        fields.List(fields.Integer()), lambda d: d.exempt_paragraphs or missing
    )
    file_url = derived(fields.String(), file_url)


def papers_shown(item: AgendaItem) -> bool:
    """The public agenda shows an exempt item's title and paragraphs, nothing more; the
    special circumstances of urgency describe the business, so they are withheld with it."""
    return item.can_see_papers(api_user())


def if_papers_shown(value_of, hidden):
    return lambda item: value_of(item) if papers_shown(item) else hidden


class AgendaItemSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    parent_id = fields.Integer(allow_none=True)
    position = fields.Integer()
    section = fields.String(allow_none=True)
    kind = fields.String(validate=one_of(ItemKind))
    title = fields.String()
    purpose = derived(fields.String(allow_none=True), if_papers_shown(lambda i: i.purpose, None))
    presenter = fields.String(attribute="presenter_name", allow_none=True)
    visibility = fields.String(attribute="effective_visibility", validate=one_of(Visibility))
    exempt_paragraphs = fields.List(fields.Integer())
    # The published reason for the exemption: public like the paragraphs it explains (the
    # public pack's NOT FOR PUBLICATION page and the meeting page print it too).
    public_interest_reason = fields.String(allow_none=True)
    urgent = fields.Boolean()
    urgent_reason = derived(
        fields.String(allow_none=True), if_papers_shown(lambda i: i.urgent_reason, None)
    )
    documents = derived(
        fields.List(fields.Nested(DocumentSchema)),
        if_papers_shown(lambda i: [d for d in i.documents if d.can_view(api_user())], []),
    )


class AgendaItemList(Schema):
    revision = fields.Integer(
        allow_none=True,
        metadata={"description": "The published revision read; null for the working copy"},
    )
    items = fields.List(fields.Nested(AgendaItemSchema))


class RevisionQuery(Schema):
    revision = fields.String(
        metadata={
            "description": "A published revision's number, or `draft` (the working copy, for "
            "those who edit it). By default the public and members read the latest revision "
            "and clerks the working copy."
        }
    )


def agenda_or_404(meeting, revision):
    try:
        return revisions.agenda_for(meeting, api_user(), revisions.parse_revision(revision))
    except revisions.NoSuchRevision:
        abort(404, message="This meeting has no such revision of its agenda.")


# --- what is received -------------------------------------------------------------------------


class AgendaItemIn(Schema):
    title = fields.String(required=True)
    section = fields.String(allow_none=True)
    parent_id = Id(allow_none=True)
    position = fields.Integer(allow_none=True, validate=validate.Range(min=0))
    presenter = fields.String(allow_none=True, metadata={"description": "Free-text presenter"})
    presenter_id = Id(allow_none=True)
    purpose = fields.String(allow_none=True)
    kind = fields.String(validate=validate.OneOf(TEMPLATE_KINDS))
    visibility = fields.String(validate=one_of(Visibility))
    exempt_paragraphs = fields.List(fields.Integer())
    public_interest_reason = fields.String(allow_none=True)
    urgent_reason = fields.String(allow_none=True)


class AgendaItemPatch(PatchSchema, AgendaItemIn):
    title = fields.String()
    version = fields.Integer(metadata={"description": "For optimistic locking"})


class DocumentUpload(Schema):
    """A paper, sent as multipart/form-data: the PDF and what the agenda says of it."""

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
    title = fields.String(required=True)
    visibility = fields.String(validate=one_of(Visibility))
    exempt_paragraphs = fields.List(
        fields.Integer(),
        metadata={"description": "Schedule 12A paragraphs, for an exempt paper; repeat the field"},
    )
    public_interest_reason = fields.String(allow_none=True)


# --- agenda items -----------------------------------------------------------------------------


class Numbered:
    """An item with the number its agenda gives it (numbers are computed, never stored)."""

    def __init__(self, item: AgendaItem, number: str):
        self._item, self.number = item, number

    def __getattr__(self, name):
        return getattr(self._item, name)


@agenda_bp.route("/meetings/<int:meeting_id>/agenda-items")
@agenda_bp.arguments(RevisionQuery, location="query")
@agenda_bp.response(200, AgendaItemList)
def list_agenda_items(query, meeting_id):
    """The agenda in order with computed numbers, as published (`?revision=N` for an earlier
    revision). A draft agenda is 404 to those who may not see it, as if it did not exist."""
    meeting = meeting_or_404(meeting_id)
    if not meeting.can_see_agenda(api_user()):
        abort(404, message="This meeting has no published agenda.")
    if revisions.reads_working_copy(api_user()):
        # Staff may read the working copy, which reads the rows themselves: all at once.
        revisions.load_working_copies([meeting.id])
    agenda = agenda_or_404(meeting, query.get("revision"))
    return {
        "revision": agenda.revision,
        "items": [Numbered(item, number) for item, number in agenda.numbered_items()],
    }


def _item_fields(body: dict) -> dict:
    fields = dict(body)
    if "presenter" in fields:
        fields["presenter_text"] = fields.pop("presenter")
    return fields


@agenda_bp.route("/meetings/<int:meeting_id>/agenda-items", methods=["POST"])
@agenda_bp.arguments(AgendaItemIn)
@agenda_bp.response(201, AgendaItemSchema)
def create_agenda_item(body, meeting_id):
    """Add an item; numbers are computed, never sent."""
    require_staff()
    meeting = meeting_or_404(meeting_id)
    parent = None
    if body.get("parent_id"):
        parent = db.session.get(AgendaItem, body["parent_id"])
        if parent is None or parent.meeting_id != meeting.id:
            abort(
                422,
                message="That parent item is not on this agenda.",
                errors={"parent_id": ["Not an item of this meeting."]},
            )
    fields = _item_fields(body)
    fields.pop("parent_id", None)
    position = fields.pop("position", None)
    urgent_reason = fields.get("urgent_reason")
    item = agenda_services.add_item(
        meeting, parent=parent, position=position, urgent=bool(urgent_reason), **fields
    )
    db.session.flush()
    return item


@agenda_bp.route("/agenda-items/<int:item_id>", methods=["PATCH"])
@agenda_bp.arguments(AgendaItemPatch)
@agenda_bp.response(200, AgendaItemSchema)
def update_agenda_item(body, item_id):
    """Change an item (send `version` to be told of a clash with someone else's edit)."""
    require_staff()
    item = item_or_404(item_id)
    fields = _item_fields(body)
    version = fields.pop("version", None)
    position = fields.pop("position", None)
    fields.pop("parent_id", None)
    urgent = bool(fields["urgent_reason"]) if "urgent_reason" in fields else None
    agenda_services.update_item(item, expected_version=version, urgent=urgent, **fields)
    if position is not None:
        siblings = [i for i in item.meeting.items if i.parent_id == item.parent_id]
        current = sorted(siblings, key=lambda i: i.position).index(item)
        agenda_services.move_item(item, position - current)
    db.session.flush()
    return item


@agenda_bp.route("/agenda-items/<int:item_id>", methods=["DELETE"])
@agenda_bp.response(204)
def delete_agenda_item(item_id):
    """Remove an item (and its sub-items). 409 when the record of the meeting refers to it
    (a minute, declarations of interest, the attendance register) or its minutes are
    approved."""
    require_staff()
    agenda_services.delete_item(item_or_404(item_id))


# --- papers -----------------------------------------------------------------------------------


@agenda_bp.route("/agenda-items/<int:item_id>/documents", methods=["POST"])
@agenda_bp.arguments(DocumentUpload, location="files", unknown="raise")
@agenda_bp.response(201, DocumentSchema)
def upload_document(body, item_id):
    """Attach a PDF; it is checked before anything is kept."""
    user = require_staff()
    item = item_or_404(item_id)
    upload = body["file"]
    paragraphs = body.get("exempt_paragraphs") or request.form.getlist("exempt_paragraphs")
    document = add_document(
        item,
        upload.stream,
        upload.filename,
        body.get("title"),
        body.get("visibility", "public"),
        paragraphs,
        body.get("public_interest_reason"),
        user=user,
    )
    db.session.flush()
    return document


@agenda_bp.route("/documents/<int:document_id>")
@agenda_bp.arguments(RevisionQuery, location="query")
@agenda_bp.response(200, DocumentOut)
def get_document(query, document_id):
    """One paper's details and its file, as published (`?revision=N`: as revision N published
    it); 404 for one the reader may not see."""
    try:
        revision = revisions.parse_revision(query.get("revision"))
    except revisions.NoSuchRevision:
        revision = -1
    paper = None if revision == -1 else revisions.published_paper(document_id, api_user(), revision)
    if paper is None or not paper.can_view(api_user()):
        abort(404, message="There is no such paper.")
    return paper


@agenda_bp.route("/documents/<int:document_id>", methods=["DELETE"])
@agenda_bp.response(204)
def delete_document(document_id):
    """Take a paper off the agenda (409 once the meeting's minutes are approved)."""
    user = require_staff()
    remove_document(found_or_404(Document, document_id, "paper"), user=user)
