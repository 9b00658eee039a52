from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, fk, intpk, utcnow
from app.extensions import db


class AuditEvent(db.Model):
    """Who did what to which record, when. Rows are only ever added."""

    __tablename__ = "audit_events"
    # One record's events (an action's corrections, a meeting's agenda items and papers):
    # without it each such read walks the whole trail, which grows with every year kept.
    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    id: Mapped[intpk]
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = fk("users.id", ondelete="SET NULL", nullable=True)
    verb: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str | None] = mapped_column(String(100))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSON)
    # The meeting whose record the event belongs to, kept even after the item or paper is
    # deleted. A plain indexed column (not a foreign key): the trail outlives what it records,
    # and every agenda page and publication reads a meeting's trail.
    meeting_id: Mapped[int | None] = mapped_column(Integer, index=True)
    ip_address: Mapped[str | None] = mapped_column(String(45))

    user = relationship("User", lazy="joined")

    @property
    def changed_values(self) -> list[tuple[str, str, str]]:
        """(field, old, new) for each change the event recorded, as the page shows them."""
        changes = (self.data or {}).get("changes") or {}
        return [(_label(name), _show(old), _show(new)) for name, (old, new) in changes.items()]

    @property
    def other_fields(self) -> list[str]:
        """Fields named as changed without their values (events recorded before values were)."""
        data = self.data or {}
        if "changes" in data:
            return []
        return [_label(name) for name in data.get("fields") or []]


def _label(name: str) -> str:
    return name.removesuffix("_id").replace("_", " ").capitalize()


def _show(value) -> str:
    if value is None or value == "" or value == []:
        return "(none)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
