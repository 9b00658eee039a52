from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import and_, event, inspect, or_, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.core.db import meeting_id_of, transaction_scratch
from app.extensions import db

# Updates to these records carry the old and new value of each changed field in their event.
# Their services flush before recording, so the old values are captured at the flush.
TRACKED_TABLES = {"agenda_items", "documents", "meetings", "committees", "memberships"}
# Collections edited through a property: the property's name and how to read one row.
COLLECTIONS = {"paragraph_rows": ("exempt_paragraphs", lambda row: row.paragraph)}


def record(verb: str, entity=None, summary: str | None = None, user=None, **data) -> AuditEvent:
    """Add an audit row in the caller's transaction; it commits (or not) with the change.
    `user=False` records no user even inside a request.

    The event keeps the id of the meeting its record belongs to (`meeting_id` in its data), so
    a meeting's trail still finds it after the item or paper has been deleted. An event that
    lists `fields` also gets `changes`: {field: [old, new]} for those that changed."""
    # current_user is a proxy; record the object behind it.
    if entity is not None and hasattr(entity, "_get_current_object"):
        entity = entity._get_current_object()
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    if entity is not None:
        with db.session.no_autoflush:
            meeting_id = meeting_id_of(entity)
        if meeting_id is not None:
            data.setdefault("meeting_id", meeting_id)
        changes = _pending_changes(db.session).pop(_key(entity), None) or {}
        if "fields" in data:
            wanted = set(data["fields"])
            kept = {name: values for name, values in changes.items() if name in wanted}
            with db.session.no_autoflush:
                for name, values in kept.items():
                    kept[name] = _readable(entity, name, values)
            # Present even when empty: the fields sent may all have kept their values.
            data.setdefault("changes", kept)
    event_row = AuditEvent(
        verb=verb,
        entity_type=type(entity).__tablename__ if entity is not None else None,
        entity_id=getattr(entity, "id", None),
        summary=summary,
        data=data or None,
        meeting_id=data.get("meeting_id"),
        user_id=getattr(user, "id", None) if user else None,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event_row)
    return event_row


def _readable(entity, name: str, values: list) -> list:
    """Ids of related records (a presenter, say) as their names, which is what a clerk knows."""
    for rel in inspect(type(entity)).relationships:
        if any(column.key == name for column in rel.local_columns):
            return [_name_of(rel.mapper.class_, value) for value in values]
    return values


def _name_of(model, ident):
    found = db.session.get(model, ident) if isinstance(ident, int) else None
    return getattr(found, "name", None) or getattr(found, "title", None) or ident


def _key(entity) -> tuple[str, int] | None:
    table, ident = getattr(entity, "__tablename__", None), getattr(entity, "id", None)
    return (table, ident) if table and ident is not None else None


def _pending_changes(session) -> dict:
    return transaction_scratch(session, "audit_changes", dict)


def _plain(value):
    """A value as JSON keeps it, and as a clerk would read it."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)


@event.listens_for(Session, "after_flush")
def _capture_changes(session: Session, _flush_context) -> None:
    # after_flush still sees the history the flush wrote, before it is reset.
    pending = _pending_changes(session)
    for obj in session.dirty:
        key = _key(obj)
        if key is None or key[0] not in TRACKED_TABLES:
            continue
        state = inspect(obj)
        found = pending.setdefault(key, {})
        for attr in state.mapper.column_attrs:
            history = state.attrs[attr.key].history
            # No deleted value means the old one was never loaded: better no entry than a
            # wrong "old" value.
            if history.added and history.deleted:
                _merge(found, attr.key, _plain(history.deleted[0]), _plain(history.added[0]))
        for name, (label, read) in COLLECTIONS.items():
            if name not in state.mapper.relationships:
                continue
            history = state.attrs[name].history
            if history.added or history.deleted:
                old = sorted(read(r) for r in (*history.unchanged, *history.deleted))
                new = sorted(read(r) for r in (*history.unchanged, *history.added))
                _merge(found, label, old, new)
        if not found:
            pending.pop(key)


def _merge(found: dict, name: str, old, new) -> None:
    # Several flushes in one change: keep the first old value and the last new one.
    first = found[name][0] if name in found else old
    if first == new:
        found.pop(name, None)
    else:
        found[name] = [first, new]


def meeting_trail(meeting) -> list[AuditEvent]:
    """Every recorded change to the meeting, its agenda items and their papers, including items
    and papers deleted since: events name their meeting (`meeting_id`, indexed). Events
    recorded before they did are found through the items and papers still on the agenda."""
    recorded_for = AuditEvent.meeting_id
    own = [and_(AuditEvent.entity_type == "meetings", AuditEvent.entity_id == meeting.id)]
    item_ids = [i.id for i in meeting.items]
    doc_ids = [d.id for i in meeting.items for d in i.documents]
    if item_ids:
        own.append(
            and_(AuditEvent.entity_type == "agenda_items", AuditEvent.entity_id.in_(item_ids))
        )
    if doc_ids:
        own.append(and_(AuditEvent.entity_type == "documents", AuditEvent.entity_id.in_(doc_ids)))
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                or_(
                    recorded_for == meeting.id,
                    # An id may be reused after a delete, so only unlabelled events match by id.
                    and_(recorded_for.is_(None), or_(*own)),
                )
            )
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        )
    )
