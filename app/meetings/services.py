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

from app.audit.services import record
from app.committees.models import Committee
from app.core import text as rules
from app.core.errors import Conflict, ValidationError, check_version
from app.extensions import db
from app.meetings.models import Meeting, MeetingStatus

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
