"""Records as API dicts. Visibility decisions are made here with the model predicates, so every
endpoint that shows a record shows the same fields to the same reader."""

from __future__ import annotations

from flask import url_for

from app.agenda.models import AgendaItem, Document
from app.api.auth import api_user
from app.committees.models import Committee, Membership
from app.core.permissions import is_staff
from app.meetings.models import Meeting
from app.people.models import Person


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def committee_out(c: Committee) -> dict:
    return {
        "id": c.id,
        "name": c.name,
        "slug": c.slug,
        "description": c.description,
        "timezone": c.timezone,
        "regime": c.regime.value,
        "first_minute_number": c.first_minute_number,
        "minute_prefix": c.minute_prefix,
        "quorum": str(c.quorum_count) if c.quorum_count else c.quorum_fraction,
        "default_venue": c.default_venue,
        "default_start_time": c.default_start_time.strftime("%H:%M")
        if c.default_start_time
        else None,
        "publish_draft_minutes": c.publish_draft_minutes,
        "agenda_template": c.agenda_template or [],
        "url": url_for("committees.show", slug=c.slug, _external=True),
    }


def person_out(p: Person, user) -> dict:
    return {
        "id": p.id,
        "name": p.name,
        "honorific": p.honorific,
        "job_title": p.job_title,
        "organisation": p.organisation,
        "email": p.email if is_staff(user) else None,
    }


def membership_out(m: Membership) -> dict:
    return {
        "id": m.id,
        "person": {"id": m.person.id, "name": m.person.display_name},
        "role": m.role.value,
        "organisation": m.organisation,
        "start_date": m.start_date,
        "end_date": m.end_date,
    }


def meeting_out(m: Meeting, user=None) -> dict:
    """Times in the meeting's own timezone, with the offset (2013-05-22T14:00:00+01:00). The
    files are linked only where this reader (the token's user by default) would get them."""
    out = {
        "id": m.id,
        "committee": m.committee.slug,
        "title": m.title,
        "starts_at": iso(m.local_start),
        "ends_at": iso(m.local_end),
        "timezone": m.timezone,
        "venue": m.venue,
        "status": m.status.value,
        "status_reason": m.status_reason,
        "uid": m.ical_uid,
        "sequence": m.ical_sequence,
        "agenda_state": m.agenda_state.value,
        "agenda_published_at": iso(m.agenda_published_at.astimezone(m.tz))
        if m.agenda_published_at
        else None,
        "agenda_revision": m.agenda_revision,
        "minutes_state": m.minutes_state.value,
        "url": url_for("meetings.show", meeting_id=m.id, _external=True),
    }
    out.update(meeting_file_links(m, api_user() if user is None else user))
    return out


def meeting_file_links(m: Meeting, user) -> dict:
    """The same tests the file routes answer with, so a link is there exactly when following
    it as this reader gives the file."""
    from app.packs.builder import MEMBERS
    from app.packs.views import may_fetch_pack

    links = {}
    if may_fetch_pack(m, user):
        links["pack_url"] = url_for("packs.pack", meeting_id=m.id, _external=True)
    if may_fetch_pack(m, user, MEMBERS):
        links["members_pack_url"] = url_for(
            "packs.pack", meeting_id=m.id, variant=MEMBERS, _external=True
        )
    if m.can_see_minutes(user):
        links["minutes_pdf_url"] = url_for("packs.minutes", meeting_id=m.id, _external=True)
    return links


def document_file_url(d: Document) -> str:
    return url_for("agenda.document", document_id=d.id, filename=d.filename, _external=True)


def agenda_item_out(item: AgendaItem, number: str, user) -> dict:
    out = {
        "id": item.id,
        "number": number,
        "parent_id": item.parent_id,
        "position": item.position,
        "section": item.section,
        "kind": item.kind.value,
        "title": item.title,
        "purpose": None,
        "presenter": item.presenter_name,
        "visibility": item.effective_visibility.value,
        "exempt_paragraphs": item.exempt_paragraphs,
        # The published reason for the exemption: public like the paragraphs it explains
        # (the public pack's NOT FOR PUBLICATION page and the meeting page print it too).
        "public_interest_reason": item.public_interest_reason,
        "urgent": item.urgent,
        "urgent_reason": None,
        "documents": [],
    }
    if not item.can_see_papers(user):
        # The public agenda shows an exempt item's title and paragraphs, nothing more.
        return out
    out["purpose"] = item.purpose
    # The special circumstances describe the business, so they are withheld with it.
    out["urgent_reason"] = item.urgent_reason
    out["documents"] = [
        {
            "id": d.id,
            "title": d.title,
            "page_count": d.page_count,
            "sha256": d.sha256,
            "visibility": d.visibility.value,
            "url": document_file_url(d),
        }
        for d in item.documents
        if d.can_view(user)
    ]
    return out
