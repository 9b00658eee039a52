from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.actions.models import Action
from app.agenda.models import SCHEDULE_12A, AgendaItem
from app.core.markdown import render as render_markdown
from app.extensions import db
from app.meetings.models import AttendanceStatus, Meeting
from app.minutes.models import Minute, Resolution
from app.minutes.queries import minute_by_number

bp = Blueprint("meetings", __name__, url_prefix="/meetings")


def meeting_or_404(meeting_id: int) -> Meeting:
    meeting = db.session.get(
        Meeting,
        meeting_id,
        options=[
            selectinload(Meeting.items).selectinload(AgendaItem.documents),
            selectinload(Meeting.attendance),
        ],
    )
    if meeting is None or not meeting.can_view(current_user):
        abort(404)
    return meeting


def minute_link(committee):
    """Link "Minute No. 204" to that minute's place, when the reader may see it."""

    def resolve(number: int, ordinal: int | None) -> str | None:
        target = minute_by_number(committee, number)
        if target is None or not target.can_view(current_user):
            return None
        return url_for(
            "meetings.show", meeting_id=target.meeting_id, _anchor=f"minute-{target.number}"
        )

    return resolve


def agenda_rows(meeting: Meeting):
    """The agenda as rows with a section heading wherever the section changes."""
    rows, section = [], None
    for item, number in meeting.numbered_items():
        heading = None
        if item.parent_id is None and item.section != section:
            section = item.section
            heading = section
        rows.append(
            {
                "item": item,
                "number": number,
                "heading": heading,
                "papers": item.can_see_papers(current_user),
                "documents": [d for d in item.documents if d.can_view(current_user)],
            }
        )
    return rows


@bp.route("/<int:meeting_id>/")
def show(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    show_agenda = meeting.can_see_agenda(current_user)
    show_minutes = meeting.can_see_minutes(current_user)
    minutes, actions = [], {}
    if show_minutes:
        minutes = [
            m
            for m in db.session.scalars(
                select(Minute)
                .where(Minute.meeting_id == meeting.id)
                .options(selectinload(Minute.resolutions).selectinload(Resolution.actions))
                .order_by(Minute.number)
            )
            if m.can_view(current_user)
        ]
        minute_ids = [m.id for m in minutes]
        resolution_ids = [r.id for m in minutes for r in m.resolutions]
        for action in db.session.scalars(
            select(Action)
            .where(or_(Action.minute_id.in_(minute_ids), Action.resolution_id.in_(resolution_ids)))
            .order_by(Action.id)
        ):
            if action.can_view(current_user):
                actions.setdefault(action.source_minute.id, []).append(action)
    attendance = {status: meeting.attendance_by_status(status) for status in AttendanceStatus}
    return render_template(
        "meetings/show.html",
        meeting=meeting,
        committee=meeting.committee,
        show_agenda=show_agenda,
        agenda=agenda_rows(meeting) if show_agenda else [],
        show_minutes=show_minutes,
        minutes=minutes,
        actions=actions,
        attendance=attendance,
        # Who came is part of the record of the meeting, shown with its minutes.
        show_attendance=show_minutes,
        schedule_12a=SCHEDULE_12A,
        render_markdown=render_markdown,
        minute_link=minute_link(meeting.committee),
    )
