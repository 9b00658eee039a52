from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, utcnow
from app.extensions import db


class IcalEventCache(db.Model):
    """A meeting's serialised VEVENT, kept with the key of everything it was built from.

    Feeds are assembled from these texts; an event is rebuilt only when its key changes. The
    cache lives in the database so every app process shares it."""

    __tablename__ = "ical_event_cache"

    # The primary key is the meeting, so no extra index is needed on it.
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
