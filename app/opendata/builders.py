"""Open data shapes: Open Civic Data Events and a Popolo export.

Pure builders: they take the reader (for visibility) and a base URL, never the request, so the
API, a CLI export or a worker can call them alike. Nothing the reader may not see is included;
exempt items keep their title and paragraph numbers (as on the public agenda) with the flags in
`extras`.

What is not known is left out rather than sent as an empty string: both formats read "" as a
value (an empty URL, a date that does not parse). Every id one object gives for another (a
participant's person, a vote's voter, a motion's committee) is the id of an object in the same
output or the OCD id that the other format gives the same record.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from app.agenda import revisions
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


def ocd_person_id(person) -> str:
    return ocd_id("person", str(person.id))


def ocd_organization_id(committee: Committee) -> str:
    return ocd_id("organization", committee.slug)


def _date(value) -> dict:
    """{"date": "YYYY-MM-DD"} for a known date or datetime, {} for an unknown one."""
    return {"date": value.date().isoformat()} if value else {}


def _dotted_orders(agenda) -> dict[int, str]:
    orders: dict[int, str] = {}
    top = 0
    for item, _number in agenda.numbered_items():
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
                    **_date(doc.uploaded_at),
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
        **({"end_date": meeting.local_end.isoformat()} if meeting.local_end else {}),
        "all_day": False,
        "timezone": meeting.timezone,
        "status": OCD_STATUS[meeting.status],
        # The schema allows no location, but not a location without a name; a venue has no URL.
        "location": {"name": meeting.venue} if meeting.venue else None,
        "links": [{"note": "Meeting page", "url": page}],
        "sources": [{"note": "Minutebook", "url": page}],
        "media": [],
        "documents": [],
        "participants": [
            {
                "name": meeting.committee.name,
                "entity_type": "organization",
                "note": "host",
                "id": ocd_organization_id(meeting.committee),
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
        # The agenda this reader reads: the last published revision, or staff's working copy.
        agenda = revisions.agenda_for(meeting, user)
        orders = _dotted_orders(agenda)
        event["agenda"] = [
            _agenda_entry(item, orders[item.id], user, base_url)
            for item, _n in agenda.numbered_items()
        ]
        event["documents"].append(
            {
                "note": "Agenda pack",
                **_date(meeting.agenda_published_at),
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
                {
                    "name": row.person.display_name,
                    "entity_type": "person",
                    "note": note,
                    "id": ocd_person_id(row.person),
                }
            )
        event["documents"].append(
            {
                "note": "Minutes",
                **_date(meeting.minutes_approved_at),
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


def _organization(committee: Committee) -> dict:
    return {
        "id": f"committee-{committee.id}",
        "name": committee.name,
        "classification": "committee",
        "identifiers": [
            {"scheme": "minutebook-slug", "identifier": committee.slug},
            {"scheme": "ocd-organization", "identifier": ocd_organization_id(committee)},
        ],
    }


def _person(person, include_email: bool) -> dict:
    return {
        "id": f"person-{person.id}",
        "name": person.name,
        **({"honorific_prefix": person.honorific} if person.honorific else {}),
        **({"email": person.email} if include_email and person.email else {}),
        # The id the OCD events give this person as a participant.
        "identifiers": [{"scheme": "ocd-person", "identifier": ocd_person_id(person)}],
    }


def _membership(membership, committee: Committee) -> dict:
    return {
        "id": f"membership-{membership.id}",
        "person_id": f"person-{membership.person_id}",
        "organization_id": f"committee-{committee.id}",
        "role": membership.role.value,
        **({"start_date": membership.start_date.isoformat()} if membership.start_date else {}),
        **({"end_date": membership.end_date.isoformat()} if membership.end_date else {}),
        **({"on_behalf_of": {"name": membership.organisation}} if membership.organisation else {}),
    }


def _motion(resolution: Resolution, minute: Minute) -> dict:
    meeting = minute.meeting
    return {
        "id": f"resolution-{resolution.id}",
        "organization_id": f"committee-{minute.committee_id}",
        "text": resolution.text,
        **({"identifier": resolution.reference} if resolution.reference else {}),
        "classification": resolution.kind.value,
        # Popolo's motion date is a date-time; the minutes record the meeting, not the minute.
        "date": meeting.local_start.isoformat(),
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
    see. A named voter who is not a member of the committees exported (a substitute, say) is
    among the people, and a motion's committee among the organisations, so that every id
    given resolves within the document."""
    organizations: dict[int, dict] = {}
    persons: dict[int, dict] = {}
    memberships = []
    for c in committees:
        organizations.setdefault(c.id, _organization(c))
        for m in c.memberships:
            persons.setdefault(m.person_id, _person(m.person, include_email))
            memberships.append(_membership(m, c))
    motions, vote_events = [], []
    for r in resolutions:
        if not r.can_view(user):
            continue
        minute = r.minute
        organizations.setdefault(minute.committee_id, _organization(minute.committee))
        motions.append(_motion(r, minute))
        ve = _vote_event(r, minute)
        if ve:
            vote_events.append(ve)
            for v in r.votes:
                persons.setdefault(v.person_id, _person(v.person, include_email))
    return {
        "organizations": list(organizations.values()),
        "persons": list(persons.values()),
        "memberships": memberships,
        "motions": motions,
        "vote_events": vote_events,
    }
