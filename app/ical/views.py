"""Calendar feeds and the page where people find (and reset) their feed links."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.actions.models import Action, ActionStatus
from app.committees.models import Committee, Membership, active_on
from app.core.db import utcnow
from app.extensions import db
from app.ical import cache
from app.ical.builder import actions_to_ical, assemble, with_comment
from app.ical.services import feed_urls, reset_calendar_token, user_for_calendar_token
from app.meetings.models import Attendance, Meeting

bp = Blueprint("ical", __name__)

# Feeds show future meetings and those of the last year; cancelled ones therefore stay
# visible, cancelled, for a year (at least the 90 days calendar apps need to notice).
PAST_WINDOW = timedelta(days=365)
ATTENDANCE_WORDS = {
    "present": "You attended",
    "apologies": "You sent apologies",
    "absent": "You were absent",
    "substitute": "You attended as a substitute",
    "in_attendance": "You were in attendance",
}


def _window_start() -> datetime:
    # Whole days, so the window (and so the fingerprint) moves once a day, not every second.
    return datetime.combine(date.today() - PAST_WINDOW, time(0), tzinfo=UTC)


def _base_url() -> str:
    return request.host_url.rstrip("/")


def _not_modified(etag: str, last_modified: datetime | None) -> bool:
    if request.if_none_match and request.if_none_match.contains(etag):
        return True
    if not request.if_none_match and request.if_modified_since and last_modified:
        return last_modified.replace(microsecond=0) <= request.if_modified_since
    return False


def _respond(
    body: bytes | None,
    etag: str,
    last_modified: datetime | None,
    filename: str,
    private: bool = False,
) -> Response:
    response = Response(body or b"", mimetype="text/calendar")
    response.charset = "utf-8"
    response.set_etag(etag)
    if last_modified:
        response.last_modified = last_modified
    response.headers["Cache-Control"] = ("private" if private else "public") + ", max-age=300"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    if body is None:
        response.status_code = 304
        response.set_data(b"")
    return response


def _meeting_feed(conditions, name: str, filename: str) -> Response:
    base = _base_url()
    fp = cache.fingerprint(conditions, base, name, _window_start().date())
    if _not_modified(fp.etag, fp.last_modified):
        return _respond(None, fp.etag, fp.last_modified, filename)
    body = cache.memo_get(fp.etag)
    if body is None:
        meetings = db.session.scalars(
            select(Meeting)
            .join(Committee, Meeting.committee_id == Committee.id)
            .where(*conditions)
            .options(selectinload(Meeting.committee))
            .order_by(Meeting.starts_at, Meeting.id)
        ).all()
        body = assemble(name, zip(meetings, cache.event_texts(meetings, base), strict=True))
        db.session.commit()
        cache.memo_put(fp.etag, body)
    return _respond(body, fp.etag, fp.last_modified, filename)


@bp.route("/meetings.ics")
def all_meetings():
    return _meeting_feed([Meeting.starts_at >= _window_start()], "All meetings", "meetings.ics")


@bp.route("/committees/<slug>/meetings.ics")
def committee_meetings(slug: str):
    committee = db.session.scalar(select(Committee).where(Committee.slug == slug))
    if committee is None:
        abort(404)
    return _meeting_feed(
        [Meeting.committee_id == committee.id, Meeting.starts_at >= _window_start()],
        committee.name,
        f"{slug}.ics",
    )


@bp.route("/meetings/<int:meeting_id>/meeting.ics")
def one_meeting(meeting_id: int):
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not meeting.can_view(current_user):
        abort(404)
    return _meeting_feed(
        [Meeting.id == meeting.id], meeting.committee.name, f"meeting-{meeting.id}.ics"
    )


def _feed_user(token: str):
    user = user_for_calendar_token(token)
    if user is None:
        # The same plain answer for a token that never existed and a revoked one.
        abort(Response("Not found\n", status=404, mimetype="text/plain"))
    return user


@bp.route("/calendar/<token>.ics")
def personal(token: str):
    """The meetings of the committees the user serves on, with their own attendance noted."""
    user = _feed_user(token)
    base = _base_url()
    person_id = user.person_id
    committee_ids = (
        list(
            db.session.scalars(
                select(Membership.committee_id).where(
                    Membership.person_id == person_id, active_on(date.today())
                )
            )
        )
        if person_id
        else []
    )
    meetings = (
        db.session.scalars(
            select(Meeting)
            .where(Meeting.committee_id.in_(committee_ids), Meeting.starts_at >= _window_start())
            .options(selectinload(Meeting.committee))
            .order_by(Meeting.starts_at, Meeting.id)
        ).all()
        if committee_ids
        else []
    )
    attendance = (
        {
            a.meeting_id: a
            for a in db.session.scalars(
                select(Attendance).where(
                    Attendance.person_id == person_id,
                    Attendance.meeting_id.in_([m.id for m in meetings]),
                )
            )
        }
        if meetings
        else {}
    )
    texts = cache.event_texts(meetings, base)
    db.session.commit()
    texts = [
        with_comment(text, ATTENDANCE_WORDS[attendance[m.id].status.value])
        if m.id in attendance
        else text
        for m, text in zip(meetings, texts, strict=True)
    ]
    stamp = [m.updated_at for m in meetings] + [a.updated_at for a in attendance.values()]
    last = max(stamp, default=None)
    etag = hashlib.sha256("".join(texts).encode()).hexdigest()[:32]
    if _not_modified(etag, last):
        return _respond(None, etag, last, "my-meetings.ics", private=True)
    body = assemble(f"My meetings ({user.name})", zip(meetings, texts, strict=True))
    return _respond(body, etag, last, "my-meetings.ics", private=True)


@bp.route("/calendar/<token>/actions.ics")
def personal_actions(token: str):
    """The user's actions: to-dos with due dates, or (?format=events) all-day events."""
    user = _feed_user(token)
    if not user.actions_feed_enabled or user.person_id is None:
        abort(Response("Not found\n", status=404, mimetype="text/plain"))
    actions = db.session.scalars(
        select(Action)
        .where(
            Action.owner_id == user.person_id,
            or_(
                Action.status.in_([ActionStatus.OPEN, ActionStatus.IN_PROGRESS]),
                Action.updated_at >= utcnow() - timedelta(days=90),
            ),
        )
        .order_by(Action.due_date, Action.id)
    ).all()
    as_events = request.args.get("format") == "events"
    body = actions_to_ical(actions, f"My actions ({user.name})", _base_url(), as_events)
    etag = hashlib.sha256(body).hexdigest()[:32]
    last = max((a.updated_at for a in actions), default=None)
    if _not_modified(etag, last):
        return _respond(None, etag, last, "my-actions.ics", private=True)
    return _respond(body, etag, last, "my-actions.ics", private=True)


@bp.route("/account/calendar", methods=["GET", "POST"])
@login_required
def account():
    if request.method == "POST":
        action = request.form.get("action")
        if action == "reset":
            reset_calendar_token(current_user)
            flash(
                "Your calendar links have been reset. Subscribe again with the new links; "
                "the old ones no longer work.",
                "success",
            )
        elif action in ("actions-on", "actions-off"):
            current_user.actions_feed_enabled = action == "actions-on"
            flash(
                "Actions feed " + ("turned on" if action == "actions-on" else "turned off"),
                "success",
            )
        db.session.commit()
        return redirect(url_for("ical.account"))
    urls = feed_urls(current_user)
    db.session.commit()  # the token is made on first visit
    return render_template("ical/account.html", urls=urls)
