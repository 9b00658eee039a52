"""What `flask notifications send` queues before sending, for the moment it is run at: a
reminder before each open action is due (the committee's reminder_days_before, 7 unless
set), a notice when it becomes overdue, and each owner's weekly digest of their open
actions. Each has a key naming what it is about (the action and its due date, the owner and
the ISO week), so running the command every minute, or again at the same moment, queues
each once; a new due date is a new reminder."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.actions.models import Action, ActionStatus
from app.committees.models import Committee
from app.core.db import utcnow
from app.core.web import format_local_date
from app.notifications.messages import render
from app.notifications.models import Message
from app.notifications.owner_links import make_link
from app.notifications.preferences import preferences_url, wants
from app.notifications.services import link, queue, sender_for
from app.people.models import Person

# A notice is for an action that has just become overdue: one overdue for longer (an old
# plan imported, say) gets none, rather than a flood on the first run.
OVERDUE_NOTICE_WINDOW = timedelta(days=7)
OPEN = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)


def local_today(now: datetime, timezone: str | None) -> date:
    return now.astimezone(ZoneInfo(timezone or "Europe/London")).date()


def reminder_key(action: Action) -> str:
    return f"reminder:{action.id}:{action.due_date.isoformat()}"


def overdue_key(action: Action) -> str:
    return f"overdue:{action.id}:{action.due_date.isoformat()}"


def digest_key(person_id: int, now: datetime) -> str:
    year, week, _ = now.astimezone(UTC).isocalendar()
    return f"digest:{person_id}:{year}-W{week:02d}"


def _existing(session: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(session.scalars(select(Message.key).where(Message.key.in_(chunk))))
    return found


def _queue_at(now: datetime, **message) -> bool:
    """Queue a message due at `now`, even when `now` is earlier than the clock (a catch-up
    run), so the same run sends it."""
    queued = queue(**message)
    if queued is not None and queued.next_attempt_at > now:
        queued.next_attempt_at = now
    return queued is not None


def queue_due(session: Session, now: datetime | None = None) -> int:
    """Queue every reminder, overdue notice and digest due at `now` not queued before, and
    commit them; returns how many were queued."""
    from app.notifications.subscriptions import purge_unconfirmed

    now = now or utcnow()
    count = _queue_deadlines(session, now) + _queue_digests(session, now)
    purge_unconfirmed(session, now)
    session.commit()
    return count


def _queue_deadlines(session: Session, now: datetime) -> int:
    longest = session.scalar(select(func.max(Committee.reminder_days_before))) or 0
    # Today is the committee's own; a day either side covers every timezone.
    latest_due = now.astimezone(UTC).date() + timedelta(days=longest + 1)
    earliest_due = now.astimezone(UTC).date() - OVERDUE_NOTICE_WINDOW - timedelta(days=1)
    actions = session.scalars(
        select(Action)
        .join(Person, Action.owner_id == Person.id)
        .where(
            Action.status.in_(OPEN),
            Action.due_date.is_not(None),
            Action.due_date <= latest_due,
            Action.due_date >= earliest_due,
            Person.email.is_not(None),
        )
        .options(selectinload(Action.owner), selectinload(Action.committee))
        .order_by(Action.due_date, Action.id)
    ).all()
    wanted: list[tuple[str, str, Action]] = []
    for action in actions:
        today = local_today(now, action.committee.timezone)
        if action.due_date < today:
            if today - action.due_date <= OVERDUE_NOTICE_WINDOW:
                wanted.append((overdue_key(action), "action_overdue", action))
        elif action.due_date - today <= timedelta(days=action.committee.reminder_days_before):
            wanted.append((reminder_key(action), "action_reminder", action))
    done = _existing(session, [key for key, _, _ in wanted])
    queued = 0
    for key, kind, action in wanted:
        if key in done or not (action.owner.email or "").strip():
            continue
        if not wants(action.owner, kind):
            continue
        overdue = kind == "action_overdue"
        due = format_local_date(action.due_date)
        subject = (
            f"Overdue: {action.title} (due {due})"
            if overdue
            else f"Reminder: {action.title} is due {due}"
        )
        text, html = render(
            "action_due",
            subject=subject,
            action=action,
            owner=action.owner,
            committee=action.committee,
            due=due,
            overdue=overdue,
            action_url=link("actions.show", action_id=action.id),
            update_url=make_link(action, now),
            preferences_url=preferences_url(action.owner_id),
        )
        if _queue_at(
            now,
            key=key,
            kind=kind,
            recipient=action.owner.email,
            recipient_name=action.owner.display_name,
            person_id=action.owner.id,
            sender=sender_for(action.committee.name),
            subject=subject,
            body_text=text,
            body_html=html,
            session=session,
        ):
            queued += 1
    return queued


def _queue_digests(session: Session, now: datetime) -> int:
    actions = session.scalars(
        select(Action)
        .join(Person, Action.owner_id == Person.id)
        .where(Action.status.in_(OPEN), Person.email.is_not(None))
        .options(selectinload(Action.owner), selectinload(Action.committee))
        .order_by(Action.owner_id, Action.due_date.is_(None), Action.due_date, Action.id)
    ).all()
    by_owner: dict[int, list[Action]] = defaultdict(list)
    for action in actions:
        by_owner[action.owner_id].append(action)
    keys = {owner_id: digest_key(owner_id, now) for owner_id in by_owner}
    done = _existing(session, list(keys.values()))
    queued = 0
    year, week, _ = now.astimezone(UTC).isocalendar()
    for owner_id, owned in by_owner.items():
        owner = owned[0].owner
        if keys[owner_id] in done or not (owner.email or "").strip():
            continue
        if not wants(owner, "action_digest"):
            continue
        committees = {a.committee.name for a in owned}
        rows = []
        for action in owned:
            today = local_today(now, action.committee.timezone)
            rows.append(
                {
                    "action": action,
                    "committee": action.committee.name,
                    "due": format_local_date(action.due_date) if action.due_date else None,
                    "overdue": action.due_date is not None and action.due_date < today,
                    "rag": action.rag.value.capitalize() if action.rag else "Not rated",
                    "action_url": link("actions.show", action_id=action.id),
                    "update_url": make_link(action, now),
                }
            )
        subject = (
            f"Your open actions, week {week} of {year}: {len(owned)} "
            f"action{'' if len(owned) == 1 else 's'}"
        )
        only = next(iter(committees)) if len(committees) == 1 else None
        text, html = render(
            "digest",
            subject=subject,
            owner=owner,
            rows=rows,
            committee_name=only,
            preferences_url=preferences_url(owner_id),
        )
        if _queue_at(
            now,
            key=keys[owner_id],
            kind="action_digest",
            recipient=owner.email,
            recipient_name=owner.display_name,
            person_id=owner.id,
            sender=sender_for(only),
            subject=subject,
            body_text=text,
            body_html=html,
            session=session,
        ):
            queued += 1
    return queued
