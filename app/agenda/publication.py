"""Publishing an agenda: the first revision and each supplement, with the deadline each one
answers to, the list of what changed, and the late reason a late one needs. Publications of
one meeting take turns (a row lock, audit.take_agenda_turn)."""

from __future__ import annotations

from datetime import datetime

from app.agenda import signals
from app.agenda.models import AgendaItem, Document
from app.audit.services import AGENDA_VERBS, meeting_trail, record, take_agenda_turn
from app.core import text as rules
from app.core.db import utcnow
from app.core.errors import Conflict, ValidationError
from app.core.web import format_local_datetime
from app.extensions import db
from app.meetings.deadlines import Deadline, deadline_for
from app.meetings.models import AgendaPublication, AgendaState, Meeting, MeetingStatus
from app.meetings.services import check_record_open


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
