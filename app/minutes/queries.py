"""Read-side queries over minutes: the decisions register and minute look-ups."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from app.committees.models import Committee
from app.extensions import db
from app.meetings.models import Meeting
from app.minutes.models import Minute, Resolution, ResolutionKind

LONDON = ZoneInfo("Europe/London")


def decisions_query(
    text: str | None = None,
    committee_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    kind: ResolutionKind | str | None = None,
) -> Select:
    """Resolutions matching the register's filters, newest meeting first. The caller keeps
    only those the reader may see (resolution.can_view(user))."""
    stmt = (
        select(Resolution)
        .join(Resolution.minute)
        .join(Minute.meeting)
        .options(selectinload(Resolution.minute).selectinload(Minute.meeting))
    )
    if text and text.strip():
        like = f"%{text.strip().lower()}%"
        stmt = stmt.where(
            or_(func.lower(Resolution.text).like(like), func.lower(Minute.title).like(like))
        )
    if committee_id:
        stmt = stmt.where(Minute.committee_id == committee_id)
    if date_from:
        stmt = stmt.where(Meeting.starts_at >= datetime.combine(date_from, time(0), LONDON))
    if date_to:
        stmt = stmt.where(Meeting.starts_at < datetime.combine(date_to, time(23, 59, 59), LONDON))
    if kind:
        stmt = stmt.where(Resolution.kind == ResolutionKind(kind))
    return stmt.order_by(Meeting.starts_at.desc(), Minute.number, Resolution.ordinal)


def minute_by_number(committee: Committee, number: int) -> Minute | None:
    return db.session.scalar(
        select(Minute).where(Minute.committee_id == committee.id, Minute.number == number)
    )
