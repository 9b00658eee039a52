"""Publishing an agenda: the first revision and each supplement, with the deadline each one
answers to, the list of what changed, and the late reason a late one needs. Publications of
one meeting take turns (a row lock, take_agenda_turn). What each revision published is
kept as a snapshot (agenda.revisions)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.agenda import signals
from app.agenda.revisions import keep_snapshot, snapshot_of, unpublished_changes
from app.audit.services import record
from app.core import text as rules
from app.core.db import utcnow
from app.core.errors import Conflict, ValidationError
from app.extensions import db
from app.meetings.deadlines import Deadline, deadline_for
from app.meetings.models import AgendaPublication, AgendaState, Meeting, MeetingStatus
from app.meetings.services import check_record_open

__all__ = ["publication_deadline_of", "publish_agenda", "take_agenda_turn", "unpublished_changes"]


def publication_deadline_of(meeting: Meeting) -> Deadline:
    return deadline_for(meeting.starts_at, meeting.timezone, meeting.committee.regime)


def take_agenda_turn(meeting_id: int) -> None:
    """Publications of one meeting take turns until the transaction ends, so that two at once
    cannot both become revision N+1. A row lock on PostgreSQL; SQLite lets one writer in at a
    time anyway. FOR NO KEY UPDATE, so that adding items (which share-locks the meeting's key)
    never waits on it."""
    db.session.execute(
        select(Meeting.id).where(Meeting.id == meeting_id).with_for_update(key_share=True)
    )


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
    # Read once: what the supplement lists and what it publishes are the same copy.
    current = snapshot_of(meeting)
    deadline = publication_deadline_of(meeting)
    late = deadline.is_late(now)
    if revision > 1:
        # A supplement says what changed since the last snapshot; the clerk's own
        # words, if any, follow the list.
        changes = unpublished_changes(meeting, current)
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
    keep_snapshot(publication, current)
    if meeting.agenda_published_at is None:
        meeting.agenda_published_at = now
    meeting.agenda_state = AgendaState.PUBLISHED
    meeting.agenda_revision = revision
    meeting.version += 1
    db.session.flush()
    signals.agenda_published.send(meeting, publication=publication)
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
