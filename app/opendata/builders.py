"""Open data shapes: Open Civic Data Events and a Popolo export.

Pure builders: they take the reader (for visibility) and a base URL, never the request, so the
API, a CLI export or a worker can call them alike. Nothing the reader may not see is included;
exempt items keep their title and paragraph numbers (as on the public agenda) with the flags in
`extras`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from app.agenda.models import AgendaItem
from app.committees.models import Committee
from app.meetings.models import AttendanceStatus, Meeting, MeetingStatus
from app.minutes.models import Minute, Resolution, VoteChoice

# A fixed namespace, so the same meeting always gets the same OCD id.
_NAMESPACE = uuid.UUID("5b0a8f53-2f3e-4d8e-9a55-0d3c6b7f2a10")

OCD_STATUS = {
    MeetingStatus.SCHEDULED: "confirmed",
    MeetingStatus.HELD: "passed",
    MeetingStatus.CANCELLED: "cancelled",
    MeetingStatus.POSTPONED: "tentative",
}

PARTICIPANT_NOTE = {
    AttendanceStatus.PRESENT: "present",
    AttendanceStatus.APOLOGIES: "apologies",
    AttendanceStatus.ABSENT: "absent",
    AttendanceStatus.SUBSTITUTE: "substitute",
    AttendanceStatus.IN_ATTENDANCE: "in attendance",
}

POPOLO_VOTE = {VoteChoice.FOR: "yes", VoteChoice.AGAINST: "no", VoteChoice.ABSTAIN: "abstain"}


def ocd_id(kind: str, key: str) -> str:
    return f"ocd-{kind}/{uuid.uuid5(_NAMESPACE, key)}"


def _dotted_orders(meeting: Meeting) -> dict[int, str]:
    orders: dict[int, str] = {}
    top = 0
    for item, _number in meeting.numbered_items():
        if item.parent_id is None:
            top += 1
            orders[item.id] = str(top)
            child = 0
        else:
            child += 1
            orders[item.id] = f"{orders[item.parent_id]}.{child}"
    return orders


def _agenda_entry(item: AgendaItem, order: str, user, base_url: str) -> dict:
    sees_papers = item.can_see_papers(user)
    entry = {
        "description": item.title,
        "order": order,
        "subjects": [],
        "classification": [item.kind.value],
        "notes": [],
        "related_entities": [],
        "media": [],
        "extras": {
            "visibility": item.visibility.value,
            "exempt": item.restricted,
            "schedule_12a_paragraphs": item.exempt_paragraphs,
            "urgent": item.urgent,
        },
    }
    if item.restricted and not sees_papers:
        entry["notes"].append("NOT FOR PUBLICATION")
        return entry
    if item.purpose:
        entry["notes"].append(item.purpose)
    if item.presenter_name:
        entry["related_entities"].append(
            {"name": item.presenter_name, "entity_type": "person", "note": "presenter"}
        )
    for doc in item.documents:
        if doc.can_view(user):
            entry["media"].append(
                {
                    "note": doc.title,
                    "date": doc.uploaded_at.date().isoformat() if doc.uploaded_at else "",
                    "links": [
                        {
                            "media_type": "application/pdf",
                            "url": f"{base_url}/documents/{doc.id}/{doc.filename}",
                        }
                    ],
                }
            )
    return entry


def meeting_to_ocd_event(meeting: Meeting, user, base_url: str) -> dict:
    base_url = base_url.rstrip("/")
    page = f"{base_url}/meetings/{meeting.id}/"
    event = {
        "id": ocd_id("event", meeting.ical_uid),
        "_type": "event",
        "name": f"{meeting.committee.name}" + (f": {meeting.title}" if meeting.title else ""),
        "description": meeting.status_reason or "",
        "classification": "committee-meeting",
        "start_date": meeting.local_start.isoformat(),
        "end_date": meeting.local_end.isoformat() if meeting.local_end else "",
        "all_day": False,
        "timezone": meeting.timezone,
        "status": OCD_STATUS[meeting.status],
        "location": {"name": meeting.venue or "", "url": "", "coordinates": None},
        "links": [{"note": "Meeting page", "url": page}],
        "sources": [{"note": "Minutebook", "url": page}],
        "media": [],
        "documents": [],
        "participants": [
            {
                "name": meeting.committee.name,
                "entity_type": "organization",
                "note": "host",
                "id": ocd_id("organization", meeting.committee.slug),
            }
        ],
        "agenda": [],
        "extras": {
            "agenda_state": meeting.agenda_state.value,
            "agenda_revision": meeting.agenda_revision,
            "minutes_state": meeting.minutes_state.value,
            "ical_uid": meeting.ical_uid,
            "sequence": meeting.ical_sequence,
        },
    }
    if meeting.can_see_agenda(user):
        orders = _dotted_orders(meeting)
        event["agenda"] = [
            _agenda_entry(item, orders[item.id], user, base_url)
            for item, _n in meeting.numbered_items()
        ]
        event["documents"].append(
            {
                "note": "Agenda pack",
                "date": meeting.agenda_published_at.date().isoformat()
                if meeting.agenda_published_at
                else "",
                "media_type": "application/pdf",
                "links": [
                    {
                        "media_type": "application/pdf",
                        "url": f"{base_url}/meetings/{meeting.id}/pack.pdf",
                    }
                ],
            }
        )
    if meeting.can_see_minutes(user):
        for row in sorted(meeting.attendance, key=lambda a: a.person.name):
            note = PARTICIPANT_NOTE[row.status]
            if row.in_chair:
                note += " (in the chair)"
            event["participants"].append(
                {"name": row.person.display_name, "entity_type": "person", "note": note}
            )
        event["documents"].append(
            {
                "note": "Minutes",
                "date": "",
                "media_type": "application/pdf",
                "links": [
                    {
                        "media_type": "application/pdf",
                        "url": f"{base_url}/meetings/{meeting.id}/minutes.pdf",
                    }
                ],
            }
        )
    return event


# --- Popolo ------------------------------------------------------------------------------


def _motion(resolution: Resolution, minute: Minute) -> dict:
    meeting = minute.meeting
    return {
        "id": f"resolution-{resolution.id}",
        "organization_id": f"committee-{minute.committee_id}",
        "text": resolution.text,
        "identifier": resolution.reference,
        "classification": resolution.kind.value,
        "date": meeting.local_start.date().isoformat(),
        "result": "pass" if resolution.kind.value != "noted" else "noted",
        "requirement": "majority",
    }


def _vote_event(resolution: Resolution, minute: Minute) -> dict | None:
    counts = [
        {"option": option, "value": value}
        for option, value in (
            ("yes", resolution.votes_for),
            ("no", resolution.votes_against),
            ("abstain", resolution.abstentions),
        )
        if value is not None
    ]
    votes = [
        {"voter_id": f"person-{v.person_id}", "option": POPOLO_VOTE[v.vote]}
        for v in resolution.votes
    ]
    if not counts and not votes:
        return None
    return {
        "id": f"vote-event-{resolution.id}",
        "motion_id": f"resolution-{resolution.id}",
        "organization_id": f"committee-{minute.committee_id}",
        "start_date": minute.meeting.local_start.isoformat(),
        "counts": counts,
        "votes": votes,
    }


def popolo_export(
    committees: Iterable[Committee],
    resolutions: Iterable[Resolution],
    user,
    include_email: bool = False,
) -> dict:
    """Organisations, people, memberships, and the motions and vote events the reader may
    see."""
    organizations, persons, memberships = [], {}, []
    for c in committees:
        organizations.append(
            {
                "id": f"committee-{c.id}",
                "name": c.name,
                "classification": "committee",
                "identifiers": [{"scheme": "minutebook-slug", "identifier": c.slug}],
            }
        )
        for m in c.memberships:
            p = m.person
            persons.setdefault(
                p.id,
                {
                    "id": f"person-{p.id}",
                    "name": p.name,
                    **({"honorific_prefix": p.honorific} if p.honorific else {}),
                    **({"email": p.email} if include_email and p.email else {}),
                },
            )
            memberships.append(
                {
                    "id": f"membership-{m.id}",
                    "person_id": f"person-{p.id}",
                    "organization_id": f"committee-{c.id}",
                    "role": m.role.value,
                    "start_date": m.start_date.isoformat() if m.start_date else "",
                    "end_date": m.end_date.isoformat() if m.end_date else "",
                    **({"on_behalf_of": {"name": m.organisation}} if m.organisation else {}),
                }
            )
    motions, vote_events = [], []
    for r in resolutions:
        if not r.can_view(user):
            continue
        motions.append(_motion(r, r.minute))
        ve = _vote_event(r, r.minute)
        if ve:
            vote_events.append(ve)
    return {
        "organizations": organizations,
        "persons": list(persons.values()),
        "memberships": memberships,
        "motions": motions,
        "vote_events": vote_events,
    }
