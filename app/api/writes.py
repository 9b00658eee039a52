"""Write endpoints of the agenda builder (issue 3), on the same services as the pages."""

from __future__ import annotations

from flask import request
from flask_smorest import abort

from app.agenda import publication as agenda_publication
from app.agenda import services as agenda_services
from app.agenda.documents import add_document, remove_document
from app.agenda.models import AgendaItem, Document
from app.api import schemas
from app.api.auth import require_staff
from app.api.resources import (
    committee_or_404,
    committees_bp,
    meeting_or_404,
    meetings_bp,
    people_bp,
)
from app.api.serializers import (
    agenda_item_out,
    committee_out,
    iso,
    meeting_out,
    membership_out,
    person_out,
)
from app.committees import services as committee_services
from app.extensions import db
from app.meetings import services as meeting_services
from app.people.models import Person


@committees_bp.route("/committees", methods=["POST"])
@committees_bp.arguments(schemas.CommitteeIn)
@committees_bp.response(201, schemas.CommitteeSchema)
def create_committee(body):
    """Create a committee (clerks and admins)."""
    require_staff()
    committee = committee_services.create_committee(**body)
    db.session.flush()
    return committee_out(committee)


@committees_bp.route("/committees/<slug>", methods=["PATCH"])
@committees_bp.arguments(schemas.CommitteePatch)
@committees_bp.response(200, schemas.CommitteeSchema)
def update_committee(body, slug):
    """Change a committee's settings."""
    require_staff()
    committee = committee_or_404(slug)
    committee_services.update_committee(committee, **body)
    db.session.flush()
    return committee_out(committee)


@people_bp.route("/people", methods=["POST"])
@people_bp.arguments(schemas.PersonIn)
@people_bp.response(201, schemas.PersonSchema)
def create_person(body):
    """Add a person."""
    user = require_staff()
    person = committee_services.create_person(**body)
    db.session.flush()
    return person_out(person, user)


@committees_bp.route("/committees/<slug>/memberships", methods=["POST"])
@committees_bp.arguments(schemas.MembershipIn)
@committees_bp.response(201, schemas.MembershipSchema)
def create_membership(body, slug):
    """Add a membership."""
    require_staff()
    committee = committee_or_404(slug)
    person = db.session.get(Person, body.pop("person_id"))
    if person is None:
        abort(
            422,
            message="There is no person with that id.",
            errors={"person_id": ["Unknown person."]},
        )
    membership = committee_services.add_membership(committee, person, **body)
    db.session.flush()
    return membership_out(membership)


@meetings_bp.route("/meetings", methods=["POST"])
@meetings_bp.arguments(schemas.MeetingIn)
@meetings_bp.response(201, schemas.MeetingSchema)
def create_meeting(body):
    """Schedule a meeting; a naive time is in the committee's timezone."""
    require_staff()
    committee = committee_or_404(body["committee"])
    meeting = meeting_services.schedule_meeting(
        committee, body["starts_at"], body.get("ends_at"), body.get("venue"), body.get("title")
    )
    db.session.flush()
    return meeting_out(meeting)


@meetings_bp.route("/meetings/<int:meeting_id>", methods=["PATCH"])
@meetings_bp.arguments(schemas.MeetingPatch)
@meetings_bp.response(200, schemas.MeetingSchema)
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
    return meeting_out(meeting)


def _item_fields(body: dict) -> dict:
    fields = dict(body)
    if "presenter" in fields:
        fields["presenter_text"] = fields.pop("presenter")
    return fields


@meetings_bp.route("/meetings/<int:meeting_id>/agenda-items", methods=["POST"])
@meetings_bp.arguments(schemas.AgendaItemIn)
@meetings_bp.response(201, schemas.AgendaItemSchema)
def create_agenda_item(body, meeting_id):
    """Add an item; numbers are computed, never sent."""
    user = require_staff()
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
    return agenda_item_out(item, item.number, user)


def _item_or_404(item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None:
        abort(404, message="No agenda item with that id.")
    return item


@meetings_bp.route("/agenda-items/<int:item_id>", methods=["PATCH"])
@meetings_bp.arguments(schemas.AgendaItemPatch)
@meetings_bp.response(200, schemas.AgendaItemSchema)
def update_agenda_item(body, item_id):
    """Change an item (send `version` to be told of a clash with someone else's edit)."""
    user = require_staff()
    item = _item_or_404(item_id)
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
    return agenda_item_out(item, item.number, user)


@meetings_bp.route("/agenda-items/<int:item_id>", methods=["DELETE"])
@meetings_bp.response(204)
def delete_agenda_item(item_id):
    """Remove an item (and its sub-items). 409 when the record of the meeting refers to it
    (a minute, declarations of interest, the attendance register) or its minutes are
    approved."""
    require_staff()
    agenda_services.delete_item(_item_or_404(item_id))


@meetings_bp.route("/agenda-items/<int:item_id>/documents", methods=["POST"])
@meetings_bp.arguments(schemas.DocumentUpload, location="files", unknown="raise")
@meetings_bp.response(201, schemas.DocumentSchema)
def upload_document(body, item_id):
    """Attach a PDF; it is checked before anything is kept."""
    user = require_staff()
    item = _item_or_404(item_id)
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
    return {
        "id": document.id,
        "title": document.title,
        "page_count": document.page_count,
        "sha256": document.sha256,
        "visibility": document.visibility.value,
        "url": f"/documents/{document.id}/{document.filename}",
    }


@meetings_bp.route("/documents/<int:document_id>", methods=["DELETE"])
@meetings_bp.response(204)
def delete_document(document_id):
    """Take a paper off the agenda (409 once the meeting's minutes are approved)."""
    user = require_staff()
    document = db.session.get(Document, document_id)
    if document is None:
        abort(404, message="No paper with that id.")
    remove_document(document, user=user)


@meetings_bp.route("/meetings/<int:meeting_id>/publish", methods=["POST"])
@meetings_bp.arguments(schemas.PublishIn)
@meetings_bp.response(201, schemas.PublicationSchema)
def publish(body, meeting_id):
    """Publish the agenda, or a numbered supplement whose summary lists what changed since the
    last revision (409 when nothing has); late first publication needs a reason."""
    user = require_staff()
    meeting = meeting_or_404(meeting_id)
    publication = agenda_publication.publish_agenda(
        meeting, user, body.get("late_reason"), body.get("summary")
    )
    db.session.flush()
    tz = meeting.tz
    return {
        "published_at": iso(publication.published_at.astimezone(tz)),
        "revision": publication.revision,
        "deadline": iso(publication.deadline.astimezone(tz)) if publication.deadline else None,
        "late": publication.late,
        "late_reason": publication.late_reason,
        "summary": publication.summary,
    }
