"""Scheduling and changing meetings: the one implementation behind pages, API and CLI.

Every change a calendar app must notice (time, venue, status) raises the meeting's iCalendar
SEQUENCE; the UID never changes, so subscribers see one event move rather than two.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import MONTHLY, WEEKLY, rrule
from dateutil.rrule import weekdays as rrule_weekdays
from sqlalchemy import select

from app.agenda.models import AgendaItem, Document
from app.audit.services import AGENDA_VERBS, meeting_trail, record, take_agenda_turn
from app.committees.models import Committee
from app.core import text as rules
from app.core.db import utcnow
from app.core.errors import Conflict, ValidationError
from app.core.web import format_local_datetime
from app.extensions import db
from app.meetings.deadlines import Deadline, deadline_for
from app.meetings.models import AgendaPublication, AgendaState, Meeting, MeetingStatus

DEFAULT_LENGTH = timedelta(hours=2)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"{name!r} is not a known timezone.", {"timezone": ["Unknown timezone."]}
        ) from None


def as_aware(value: datetime, timezone: str, field: str = "starts_at") -> datetime:
    """A naive time means the committee's own timezone (as API.md says)."""
    if not isinstance(value, datetime):
        raise ValidationError("Enter a date and time.", {field: ["Not a date and time."]})
    # Years outside the plausible range are refused before any arithmetic: a start near the
    # end of the calendar overflowed when its end was worked out, in every feed.
    rules.date_field(value, field, "The meeting" if field == "starts_at" else "The end")
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=zone(timezone))
    return value


def local_datetime(day, at: time | None, timezone: str) -> datetime:
    """A local date and time of day as an aware datetime (handles the clock changes)."""
    return datetime.combine(day, at or time(14, 0), tzinfo=zone(timezone))


def _check_times(starts_at: datetime, ends_at: datetime | None) -> None:
    if ends_at is not None and ends_at <= starts_at:
        message = "The meeting must end after it starts."
        raise ValidationError(message, {"ends_at": [message]})


def locked_reason(meeting: Meeting, consequence: str) -> str | None:
    """Why the record of a meeting may not change: once its minutes are approved, everything
    they show (agenda, attendance, declarations, resolutions, actions arising, the meeting's
    date, venue and status) is the approved record. Corrections go through
    minutes.correct_minute, with a reason."""
    return meeting.locked_reason(consequence)


def check_record_open(meeting: Meeting, consequence: str, field: str = "meeting") -> None:
    message = locked_reason(meeting, consequence)
    if message:
        raise Conflict(message, {field: [message]})


def check_version(obj, expected: int | None) -> None:
    """Optimistic locking: refuse a change made to a copy older than the stored one."""
    if expected is not None and expected != obj.version:
        raise Conflict(
            f"This record was changed by someone else (your copy is version {expected}, "
            f"the current one is version {obj.version}). Reload it and make your change again.",
            {"version": [f"Current version is {obj.version}."]},
        )


def schedule_meeting(
    committee: Committee,
    starts_at: datetime,
    ends_at: datetime | None = None,
    venue: str | None = None,
    title: str | None = None,
) -> Meeting:
    tz = committee.timezone
    venue = rules.text_field(venue, "venue", rules.LINE)
    title = rules.text_field(title, "title", rules.LINE)
    starts_at = as_aware(starts_at, tz)
    ends_at = as_aware(ends_at, tz, "ends_at") if ends_at is not None else None
    _check_times(starts_at, ends_at)
    meeting = Meeting(
        committee=committee,
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=tz,
        venue=(venue or committee.default_venue or None),
        title=title or None,
    )
    db.session.add(meeting)
    db.session.flush()
    record("meeting_scheduled", meeting, summary=f"{committee.name} {starts_at.isoformat()}")
    return meeting


def _bump(meeting: Meeting) -> None:
    meeting.ical_sequence += 1
    meeting.version += 1


def reschedule(
    meeting: Meeting,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    venue: str | None = None,
    expected_version: int | None = None,
) -> bool:
    """Move a meeting (same identity). Returns whether anything changed."""
    check_version(meeting, expected_version)
    check_record_open(meeting, "its date, time and venue can no longer be changed")
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict("A cancelled meeting cannot be rescheduled; schedule a new one instead.")
    new_start = as_aware(starts_at, meeting.timezone) if starts_at else meeting.starts_at
    new_end = as_aware(ends_at, meeting.timezone, "ends_at") if ends_at else meeting.ends_at
    if starts_at and not ends_at and meeting.ends_at is not None:
        new_end = new_start + (meeting.ends_at - meeting.starts_at)  # keep its length
    new_venue = meeting.venue if venue is None else rules.text_field(venue, "venue", rules.LINE)
    _check_times(new_start, new_end)
    changed = (
        new_start != meeting.starts_at or new_end != meeting.ends_at or new_venue != meeting.venue
    )
    if not changed:
        return False
    before = (meeting.starts_at.isoformat(), meeting.venue)
    meeting.starts_at, meeting.ends_at, meeting.venue = new_start, new_end, new_venue
    if meeting.status == MeetingStatus.POSTPONED:
        meeting.status = MeetingStatus.SCHEDULED
        meeting.status_reason = None
    _bump(meeting)
    db.session.flush()
    record("meeting_rescheduled", meeting, from_=before, to=(new_start.isoformat(), new_venue))
    return True


def retitle(
    meeting: Meeting, title: str | None, expected_version: int | None = None, user=None
) -> bool:
    """Give the meeting a title of its own ("Budget meeting"), or none ("" or None: the
    committee's name is used). Calendars show it, so it counts as a change for them."""
    check_version(meeting, expected_version)
    check_record_open(meeting, "its title can no longer be changed", "title")
    title = rules.text_field(title, "title", rules.LINE) or None
    if title == meeting.title:
        return False
    meeting.title = title
    _bump(meeting)
    db.session.flush()
    record("meeting_retitled", meeting, user=user, fields=["title"])
    return True


def set_status(
    meeting: Meeting,
    status: MeetingStatus | str,
    reason: str | None = None,
    expected_version: int | None = None,
) -> None:
    """Cancel, postpone, reinstate or mark as held. Cancelled meetings are kept, cancelled."""
    check_version(meeting, expected_version)
    check_record_open(meeting, "its status can no longer be changed", "status")
    try:
        status = MeetingStatus(status)
    except ValueError:
        allowed = ", ".join(s.value for s in MeetingStatus)
        raise ValidationError(
            f"Status must be one of {allowed}.", {"status": ["Unknown status."]}
        ) from None
    reason = rules.text_field(
        reason, "status_reason", rules.SHORT_TEXT, multiline=True, label="The reason"
    )
    if status in (MeetingStatus.CANCELLED, MeetingStatus.POSTPONED) and not reason:
        raise ValidationError(
            f"Give a reason why the meeting is {status.value}.",
            {"status_reason": ["Enter the reason."]},
        )
    if status == meeting.status and reason == meeting.status_reason:
        return
    meeting.status = status
    meeting.status_reason = reason if status != MeetingStatus.SCHEDULED else None
    _bump(meeting)
    db.session.flush()
    record(f"meeting_{status.value}", meeting, summary=reason)


# --- series ------------------------------------------------------------------------------

MAX_SERIES = 60


@dataclass(frozen=True)
class SeriesRule:
    """ "Third Wednesday every second month at 2pm until July 2027" and the like."""

    first: date  # the series starts on or after this day
    until: date
    weekday: int  # 0 = Monday
    at: time
    every: int = 1
    unit: str = "months"  # or "weeks"
    nth: int | None = None  # in months: 1..4 or -1 for the last such weekday

    def validate(self) -> None:
        errors: dict[str, list[str]] = {}
        for key, day in (("first", self.first), ("until", self.until)):
            try:
                rules.check_year(day, "The series")
            except ValueError as exc:
                errors[key] = [str(exc)]
        if self.until < self.first:
            errors["until"] = ["The series must end after it starts."]
        if not 0 <= self.weekday <= 6:
            errors["weekday"] = ["Choose a day of the week."]
        if not 1 <= self.every <= 12:
            errors["every"] = ["Choose an interval from 1 to 12."]
        if self.unit not in ("weeks", "months"):
            errors["unit"] = ["Choose weeks or months."]
        if self.unit == "months" and self.nth not in (1, 2, 3, 4, -1):
            errors["nth"] = ["Choose first, second, third, fourth or last."]
        if errors:
            raise ValidationError(next(iter(errors.values()))[0], errors)


def series_dates(rule: SeriesRule, timezone: str) -> list[datetime]:
    """The local start times a rule gives, for a preview before anything is created."""
    rule.validate()
    weekday = rrule_weekdays[rule.weekday]
    if rule.unit == "months":
        freq, byweekday = MONTHLY, weekday(rule.nth)
    else:
        freq, byweekday = WEEKLY, weekday
    days = rrule(
        freq,
        interval=rule.every,
        byweekday=byweekday,
        dtstart=datetime.combine(rule.first, time(0)),
        until=datetime.combine(rule.until, time(23, 59)),
    )
    starts = [
        local_datetime(d.date(), rule.at, timezone) for d in itertools.islice(days, MAX_SERIES + 1)
    ]
    if not starts:
        message = "That rule gives no dates between the start and the end."
        raise ValidationError(
            message,
            {"until": [message]},
        )
    if len(starts) > MAX_SERIES:
        raise ValidationError(
            f"A series can create at most {MAX_SERIES} meetings at once.",
            {"until": ["Choose an earlier end date."]},
        )
    return starts


def schedule_series(
    committee: Committee,
    rule: SeriesRule,
    length: timedelta = DEFAULT_LENGTH,
    venue: str | None = None,
) -> list[Meeting]:
    starts = series_dates(rule, committee.timezone)
    taken = {
        m.starts_at
        for m in db.session.scalars(
            select(Meeting).where(
                Meeting.committee_id == committee.id, Meeting.starts_at.in_(starts)
            )
        )
    }
    return [schedule_meeting(committee, s, s + length, venue) for s in starts if s not in taken]


# --- publication -------------------------------------------------------------------------


def publication_deadline_of(meeting: Meeting) -> Deadline:
    return deadline_for(meeting.starts_at, meeting.timezone, meeting.committee.regime)


# What a supplement reports, from the audit trail of the agenda's items and papers.
_FIELD_WORDS = {
    "section": "section heading",
    "purpose": "purpose",
    "presenter_id": "presenter",
    "presenter_text": "presenter",
    "kind": "kind of item",
    "visibility": "visibility",
    "exempt_paragraphs": "exemption paragraphs",
    "public_interest_reason": "public interest statement",
    "urgent_reason": "special circumstances",
}


def _since_last_publication(meeting: Meeting) -> list:
    """The audit events of the agenda recorded after its latest publication, oldest first."""
    events = sorted(meeting_trail(meeting), key=lambda e: e.id)
    published = [
        e
        for e in events
        if e.verb == "agenda_published"
        and (e.data or {}).get("revision") == meeting.agenda_revision
    ]
    if published:
        cutoff = published[-1].id
        return [e for e in events if e.id > cutoff and e.verb in AGENDA_VERBS]
    # Publications made without an event (imported records): go by the time instead.
    stamp = meeting.publications[-1].published_at if meeting.publications else None
    return [
        e for e in events if e.verb in AGENDA_VERBS and (stamp is None or e.occurred_at > stamp)
    ]


def _words(names) -> str:
    names = list(dict.fromkeys(names))
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def unpublished_changes(meeting: Meeting) -> list[str]:
    """What changed on a published agenda since its latest revision, a line for each change,
    in words fit for the public revision history (nothing of restricted papers but that they
    exist). Empty when the agenda is unpublished or unchanged."""
    if meeting.agenda_revision == 0:
        return []
    numbers = {i.id: n for i, n in meeting.numbered_items()}
    items: dict[int, list[dict]] = {}
    papers_added: list[int] = []
    papers_removed: list[dict] = []
    reordered = False
    moved_from = None
    for event in _since_last_publication(meeting):
        data = event.data or {}
        if event.verb == "meeting_rescheduled":
            moved_from = moved_from or data.get("from_")
            continue
        if event.verb == "agenda_reordered":
            reordered = True
            continue
        if event.verb == "document_added":
            papers_added.append(event.entity_id)
            continue
        if event.verb in ("document_removed", "document_deleted"):
            if event.entity_id in papers_added:
                papers_added.remove(event.entity_id)
            else:
                papers_removed.append(data)
            continue
        lives = items.setdefault(event.entity_id, [])
        # SQLite may give a new item the id of one removed a moment before.
        if not lives or (event.verb == "agenda_item_added" and "deleted" in lives[-1]):
            lives.append({"fields": []})
        state = lives[-1]
        if event.verb == "agenda_item_added":
            state["added"] = True
        elif event.verb == "agenda_item_deleted":
            state["deleted"] = event.summary
        elif event.verb == "agenda_item_moved":
            state["moved"] = True
        elif "changes" in data:
            for name, (old, _new) in data["changes"].items():
                if name == "title":
                    state.setdefault("old_title", old)
                elif name in _FIELD_WORDS:
                    state["fields"].append(_FIELD_WORDS[name])
        else:  # recorded before old values were kept: the fields sent, changed or not
            state["fields"].extend(
                _FIELD_WORDS[f] for f in data.get("fields", ()) if f in _FIELD_WORDS
            )

    lines: list[tuple[tuple, str]] = []
    order = list(numbers)
    if moved_from and (
        datetime.fromisoformat(moved_from[0]) != meeting.starts_at or moved_from[1] != meeting.venue
    ):
        when = format_local_datetime(meeting.starts_at, meeting.timezone)
        where = f", {meeting.venue}" if meeting.venue else ""
        lines.append(((-1, 0), f"The meeting is now on {when}{where}"))

    def place(item_id) -> tuple:
        return (0, order.index(item_id)) if item_id in numbers else (1, 0)

    for item_id, state in ((i, state) for i, lives in items.items() for state in lives):
        if "deleted" in state:
            if not state.get("added"):
                lines.append(((2, 0), f"Removed item: {state['deleted']}"))
            continue
        item = db.session.get(AgendaItem, item_id)
        if item is None or item_id not in numbers:
            continue
        n = numbers[item_id]
        if state.get("added"):
            urgent = "urgent " if item.urgent else ""
            lines.append((place(item_id), f"Added {urgent}item {n}: {item.title}"))
            continue
        if "old_title" in state and state["old_title"] != item.title:
            lines.append(
                (
                    place(item_id),
                    f"Item {n} renamed from \u201c{state['old_title']}\u201d to "
                    f"\u201c{item.title}\u201d",
                )
            )
        if state["fields"]:
            lines.append(
                (place(item_id), f"Item {n} ({item.title}): {_words(state['fields'])} changed")
            )
        if state.get("moved"):
            lines.append((place(item_id), f"{item.title} moved: now item {n}"))
    for doc_id in papers_added:
        doc = db.session.get(Document, doc_id)
        if doc is None or doc.item.meeting_id != meeting.id or doc.agenda_item_id not in numbers:
            continue
        n = numbers[doc.agenda_item_id]
        if doc.restricted:
            text = f"Paper added to item {n} (not for publication)"
        else:
            text = f"Paper added to item {n}: {doc.title}"
        lines.append((place(doc.agenda_item_id), text))
    for data in papers_removed:
        item_id = data.get("item")
        if item_id not in numbers:
            continue  # its item went too, and is reported as removed
        n = numbers[item_id]
        if data.get("public") and data.get("title"):
            text = f"Paper removed from item {n}: {data['title']}"
        else:
            text = f"Paper removed from item {n}"
        lines.append((place(item_id), text))
    if reordered:
        lines.append(((2, 2), "Items reordered"))
    return [text for _, text in sorted(lines, key=lambda pair: pair[0])]


def publish_agenda(
    meeting: Meeting,
    user=None,
    late_reason: str | None = None,
    summary: str | None = None,
    now: datetime | None = None,
) -> AgendaPublication:
    """Publish the agenda (revision 1) or a supplement (revision 2, 3, ...)."""
    late_reason = rules.text_field(
        late_reason, "late_reason", rules.SHORT_TEXT, multiline=True, label="The reason"
    )
    summary = rules.text_field(
        summary, "summary", rules.SHORT_TEXT, multiline=True, label="The summary"
    )
    # Before reading what changed: a change being made now is either waited for and listed,
    # or made after this publication and listed in the next one.
    take_agenda_turn(meeting.id)
    # A change made before approval and never published stays unpublished: the agenda the
    # approved minutes follow is the one last published.
    check_record_open(meeting, "its agenda can no longer be published")
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict("The meeting is cancelled; its agenda cannot be published.")
    if not meeting.items:
        raise ValidationError("Add items to the agenda before publishing it.")
    now = now or utcnow()
    revision = meeting.agenda_revision + 1
    deadline = publication_deadline_of(meeting)
    late = deadline.is_late(now)
    if revision > 1:
        # A supplement says what changed, worked out from the audit trail; the clerk's own
        # words, if any, follow the list.
        changes = unpublished_changes(meeting)
        if not changes:
            raise Conflict(
                f"Nothing has changed since revision {meeting.agenda_revision}, so there is "
                "no supplement to publish.",
                {"summary": [f"Nothing has changed since revision {meeting.agenda_revision}."]},
            )
        summary = "\n".join([*changes, *([summary] if summary else [])])
    # Each late revision answers for itself: a supplement after the deadline needs its own
    # reason, and the list of changes is never taken for one.
    if late and not late_reason:
        what = "this agenda" if revision == 1 else f"revision {revision} of this agenda"
        message = (
            f"The deadline for publishing {what} was {deadline.day:%A %-d %B %Y}. "
            "Give the reason it is published late."
        )
        raise ValidationError(message, {"late_reason": [message]})
    publication = AgendaPublication(
        meeting=meeting,
        revision=revision,
        published_at=now,
        published_by_id=getattr(user, "id", None),
        deadline=deadline.ends_at,
        late=late,
        late_reason=late_reason if late else None,
        summary=summary,
    )
    db.session.add(publication)
    if meeting.agenda_published_at is None:
        meeting.agenda_published_at = now
    meeting.agenda_state = AgendaState.PUBLISHED
    meeting.agenda_revision = revision
    meeting.version += 1
    db.session.flush()
    from app.packs.tasks import request_pack_builds

    request_pack_builds(db.session, meeting.id)
    record(
        "agenda_published",
        meeting,
        summary=f"Published late: {late_reason}" if late else None,
        user=user,
        revision=revision,
        late=late,
        late_reason=publication.late_reason,
    )
    return publication


def previous_meeting(meeting: Meeting) -> Meeting | None:
    """The committee's last meeting before this one that was not called off: the one whose
    minutes this agenda confirms. Skipping to an older meeting because the last one's
    minutes are not written yet would put minutes already approved before the members
    again; the pack says the last one's are to follow instead."""
    return db.session.scalar(
        select(Meeting)
        .where(
            Meeting.committee_id == meeting.committee_id,
            Meeting.starts_at < meeting.starts_at,
            Meeting.status.not_in((MeetingStatus.CANCELLED, MeetingStatus.POSTPONED)),
        )
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    )
