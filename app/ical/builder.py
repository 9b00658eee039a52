"""iCalendar (RFC 5545, 5546, 7986) for meetings and actions. Pure functions: no request, no
database; the caller passes the meetings and the site's base URL.

Events carry no item titles at all, so nothing from an agenda (exempt titles, draft items) can
reach a calendar; they link to the meeting page and, once the agenda is published, the pack.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, timedelta
from functools import lru_cache

from icalendar import Calendar, Event, Timezone, Todo, vDuration, vText

from app.actions.models import Action
from app.core.text import FIRST_YEAR, LAST_YEAR, strip_controls
from app.meetings.models import AgendaState, Meeting, MeetingStatus

log = logging.getLogger(__name__)

# Raise when the shape of events changes, so every cached event is rebuilt.
BUILDER_VERSION = "2"
PRODID = "-//Minutebook//Meetings//EN"
REFRESH = timedelta(hours=1)
DEFAULT_LENGTH = timedelta(hours=2)

STATUS = {
    MeetingStatus.SCHEDULED: "CONFIRMED",
    MeetingStatus.HELD: "CONFIRMED",
    # A postponed meeting will not happen at this time; calendars show it as cancelled and
    # the description says it is postponed (RFC 5545 has no "postponed").
    MeetingStatus.POSTPONED: "CANCELLED",
    MeetingStatus.CANCELLED: "CANCELLED",
}


def meeting_event(meeting: Meeting, base_url: str) -> Event:
    base_url = base_url.rstrip("/")
    page = f"{base_url}/meetings/{meeting.id}/"
    tz = meeting.tz
    event = Event()
    event.add("uid", meeting.ical_uid)
    event.add("dtstamp", meeting.updated_at.astimezone(UTC))
    event.add("last-modified", meeting.updated_at.astimezone(UTC))
    event.add("created", meeting.created_at.astimezone(UTC))
    event.add("sequence", meeting.ical_sequence)
    summary = meeting.committee.name + (f": {meeting.title}" if meeting.title else "")
    if meeting.status == MeetingStatus.CANCELLED:
        summary = f"Cancelled: {summary}"
    elif meeting.status == MeetingStatus.POSTPONED:
        summary = f"Postponed: {summary}"
    event.add("summary", summary)
    start = meeting.starts_at.astimezone(tz)
    event.add("dtstart", start)
    event.add("dtend", (meeting.ends_at or meeting.starts_at + DEFAULT_LENGTH).astimezone(tz))
    if meeting.venue:
        event.add("location", meeting.venue)
    event.add("status", STATUS[meeting.status])
    event.add("transp", "OPAQUE")
    event.add("url", page)
    lines = [f"Meeting page: {page}"]
    if meeting.agenda_state == AgendaState.PUBLISHED:
        lines.append(f"Agenda pack: {base_url}/meetings/{meeting.id}/pack.pdf")
    if meeting.status in (MeetingStatus.CANCELLED, MeetingStatus.POSTPONED):
        lines.insert(
            0,
            f"This meeting has been {meeting.status.value}"
            + (f": {meeting.status_reason}" if meeting.status_reason else "."),
        )
    event.add("description", "\n".join(lines))
    return event


def event_text(meeting: Meeting, base_url: str) -> str:
    """One VEVENT as folded iCalendar text with CRLF line ends (what the cache keeps)."""
    return meeting_event(meeting, base_url).to_ical().decode()


@lru_cache(maxsize=64)
def timezone_text(tzid: str, first_year: int, last_year: int) -> str:
    """The VTIMEZONE for the years the feed spans (memoised by its inputs). A stored year
    outside the plausible range (data from before it was checked) is brought inside it:
    the zone's last rule goes on applying, and the feed still builds."""
    first_year = min(max(first_year, FIRST_YEAR), LAST_YEAR)
    last_year = min(max(last_year, first_year), LAST_YEAR)
    component = Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
    )
    return component.to_ical().decode()


def _calendar(name: str, url: str, source: str) -> Calendar:
    """The calendar-level properties every feed carries. URL is the page the feed belongs to
    and SOURCE the feed's own address (RFC 7986), so an exported copy says where to refresh."""
    # The name is a committee's, typed by people: a line break in it would end the property
    # early (icalendar refuses to write it), so every feed of the committee would fail.
    name = strip_controls(name)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("url", url, parameters={"VALUE": "URI"})
    cal.add("source", source, parameters={"VALUE": "URI"})
    cal.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))
    return cal


def calendar_header(name: str, url: str, source: str) -> str:
    text = _calendar(name, url, source).to_ical().decode()
    return text.removesuffix("END:VCALENDAR\r\n")


def assemble(
    name: str,
    texts: Iterable[str],
    spans: dict[str, tuple[int, int]],
    url: str,
    source: str,
) -> bytes:
    """A whole feed from cached event texts: header, the time zones used (with the first and
    last local year they are needed for), events."""
    parts = [calendar_header(name, url, source)]
    for tzid, (first, last) in sorted(spans.items()):
        parts.append(timezone_text(tzid, first, last))
    parts.extend(texts)
    parts.append("END:VCALENDAR\r\n")
    return "".join(parts).encode()


def with_comment(event: str, comment: str) -> str:
    """Add a COMMENT (e.g. the subscriber's own attendance) to a cached event's text."""
    folded = _fold("COMMENT:" + vText(comment).to_ical().decode())
    return event.replace("END:VEVENT\r\n", f"{folded}\r\nEND:VEVENT\r\n")


def _fold(line: str) -> str:
    """Fold at 75 octets as RFC 5545 asks, never inside a UTF-8 sequence."""
    out, current = [], b""
    for char in line:
        encoded = char.encode()
        limit = 75 if not out else 74
        if len(current) + len(encoded) > limit:
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def meetings_to_ical(
    meetings: Iterable[Meeting], name: str, base_url: str, url: str, source: str
) -> bytes:
    """The whole feed built afresh with icalendar objects (no cache): the simple way, used by
    the benchmark as the baseline."""
    cal = _calendar(name, url, source)
    for meeting in meetings:
        cal.add_component(meeting_event(meeting, base_url))
    cal.add_missing_timezones()
    return cal.to_ical()


def actions_to_ical(
    actions: Iterable[Action],
    name: str,
    base_url: str,
    url: str,
    source: str,
    as_events: bool = False,
) -> bytes:
    """An owner's actions: VTODO with DUE, or all-day "Action due" events for calendar apps
    that ignore to-dos."""
    base_url = base_url.rstrip("/")
    cal = _calendar(name, url, source)
    for action in actions:
        if action.due_date is None and as_events:
            continue
        try:
            component = _action_component(action, base_url, as_events)
            component.to_ical()  # where a value that cannot be written shows itself
        except Exception as exc:
            # One bad row (a due date at the end of the calendar, stored before it was
            # checked) must not break the feed: name the row, never its text.
            log.warning(
                "action %s left out of the feed: it cannot be built (%s)",
                action.id,
                type(exc).__name__,
            )
            continue
        cal.add_component(component)
    return cal.to_ical()


def _action_component(action: Action, base_url: str, as_events: bool):
    component = Event() if as_events else Todo()
    component.add("uid", f"action-{action.id}@minutebook")
    component.add("dtstamp", action.updated_at.astimezone(UTC))
    component.add("last-modified", action.updated_at.astimezone(UTC))
    component.add("sequence", action.version - 1)
    component.add("summary", ("Action due: " if as_events else "") + action.title)
    component.add("url", f"{base_url}/actions/{action.id}")
    component.add("description", f"{action.committee.name}\n{base_url}/actions/{action.id}")
    if as_events:
        component.add("dtstart", action.due_date)
        component.add("dtend", action.due_date + timedelta(days=1))
        component.add("transp", "TRANSPARENT")
    else:
        if action.due_date:
            component.add("due", action.due_date)
        component.add(
            "status",
            {
                "open": "NEEDS-ACTION",
                "in_progress": "IN-PROCESS",
                "complete": "COMPLETED",
                "cancelled": "CANCELLED",
            }[action.status.value],
        )
    return component
