from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, utcnow
from app.extensions import db


class IcalEventCache(db.Model):
    """A meeting's serialised VEVENT, kept with what it was built from.

    `key` names the builder version and site base URL; `built_at` is the newest change stamp
    (the meeting's or its committee's updated_at) of the data the body was built from, so a
    single query can tell fresh events from stale ones without loading any meeting. Feeds are
    assembled from these texts; the cache lives in the database so every app process shares
    it."""

    __tablename__ = "ical_event_cache"

    # The primary key is the meeting, so no extra index is needed on it.
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    # The source stamp, not the time of building: see the class docstring.
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
