from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

from app.audit.models import AuditEvent
from app.extensions import db


def record(verb: str, entity=None, summary: str | None = None, user=None, **data) -> AuditEvent:
    """Add an audit row in the caller's transaction; it commits (or not) with the change.
    `user=False` records no user even inside a request."""
    # current_user is a proxy; record the object behind it.
    if entity is not None and hasattr(entity, "_get_current_object"):
        entity = entity._get_current_object()
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    event = AuditEvent(
        verb=verb,
        entity_type=type(entity).__tablename__ if entity is not None else None,
        entity_id=getattr(entity, "id", None),
        summary=summary,
        data=data or None,
        user_id=getattr(user, "id", None) if user else None,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event
