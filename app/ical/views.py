"""Calendar feeds and the page where people find (and reset) their feed links."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from functools import cache as memoised

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import and_, bindparam, func, or_, select, true

from app.actions.models import Action, ActionStatus
from app.committees.models import Committee, Membership, active_on
from app.core.db import on_commit, utcnow
from app.extensions import db
from app.ical import cache
from app.ical.builder import actions_to_ical, assemble, with_comment
from app.ical.services import feed_urls, reset_calendar_token, user_for_calendar_token
from app.meetings.models import Attendance, Meeting, MeetingStatus

bp = Blueprint("ical", __name__)

# Feeds show future meetings and those of the last year, and a cancelled (or postponed) meeting
# for at least 90 days after it was called off, whatever its date, so calendar apps notice.
PAST_WINDOW = timedelta(days=365)
CALLED_OFF_KEPT = timedelta(days=90)
CALLED_OFF = (MeetingStatus.CANCELLED, MeetingStatus.POSTPONED)
ATTENDANCE_WORDS = {
    "present": "You attended",
    "apologies": "You sent apologies",
    "absent": "You were absent",
    "substitute": "You attended as a substitute",
    "in_attendance": "You were in attendance",
}


def today() -> date:
    """The feeds' calendar day (tests move it)."""
    return date.today()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


# The kinds of meeting feed. Parameters are bound per request, so each kind's SQL is built
# once; `scope` narrows the meetings and `committees` names the committees they belong to.
_SCOPES = {
    "all": lambda: ((), true()),
    "committee": lambda: (
        (Meeting.committee_id == bindparam("committee_id"),),
        Committee.id == bindparam("committee_id"),
    ),
    "personal": lambda: (
        (Meeting.committee_id.in_(bindparam("committee_ids", expanding=True)),),
        Committee.id.in_(bindparam("committee_ids", expanding=True)),
    ),
}


@memoised
def _shape(kind: str) -> cache.Shape:
    """Future meetings and those of the last year, plus called-off meetings before that whose
    last change (the cancellation or later) is within 90 days: one cancelled long after its
    date still stays the full 90 days. The called-off branch holds only meetings before the
    window, as cache.Shape asks."""
    scope, committees = _SCOPES[kind]()
    return cache.Shape(
        branches=(
            and_(
                *scope,
                Meeting.starts_at < bindparam("window_start"),
                Meeting.status.in_(CALLED_OFF),
                Meeting.updated_at >= bindparam("called_off_since"),
            ),
            and_(*scope, Meeting.starts_at >= bindparam("window_start")),
        ),
        committees=committees,
    )


@memoised
def _one_meeting_shape() -> cache.Shape:
    return cache.Shape(
        branches=(Meeting.id == bindparam("meeting_id"),),
        committees=Committee.id == bindparam("committee_id"),
    )


def _windowed(kind: str, **params) -> cache.Selection:
    """The meetings of a kind of feed shown today. Bounds are whole days, so the selection
    moves by the clock once a day, not every second."""
    day = today()
    params["window_start"] = _midnight(day - PAST_WINDOW)
    params["called_off_since"] = _midnight(day - CALLED_OFF_KEPT)
    return cache.Selection(_shape(kind), params, since=_midnight(day))


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


def _last_modified(source: str, etag: str, *stamps) -> datetime:
    return max(t for t in (*stamps, cache.first_seen(source, etag)) if t is not None)


def _meeting_feed(selection: cache.Selection, name: str, page: str, filename: str) -> Response:
    base = _base_url()
    source = request.base_url
    fp = cache.fingerprint(selection, base, name, page, source)
    last = _last_modified(source, fp.etag, fp.last_modified)
    if _not_modified(fp.etag, last):
        return _respond(None, fp.etag, last, filename)
    body = cache.memo_get(fp.etag)
    if body is None:
        events = cache.feed_events(selection, base)
        body = assemble(name, events.texts, events.spans, page, source)
        # Memoised only once the events it was built from are kept.
        on_commit(db.session, lambda: cache.memo_put(fp.etag, body), key=("ical memo", fp.etag))
    return _respond(body, fp.etag, last, filename)


@bp.route("/meetings.ics")
def all_meetings():
    page = url_for("main.home", _external=True)
    return _meeting_feed(_windowed("all"), "All meetings", page, "meetings.ics")


@bp.route("/committees/<slug>/meetings.ics")
def committee_meetings(slug: str):
    committee = db.session.scalar(select(Committee).where(Committee.slug == slug))
    if committee is None:
        abort(404)
    selection = _windowed("committee", committee_id=committee.id)
    page = url_for("committees.show", slug=slug, _external=True)
    return _meeting_feed(selection, committee.name, page, f"{slug}.ics")


@bp.route("/meetings/<int:meeting_id>/meeting.ics")
def one_meeting(meeting_id: int):
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not meeting.can_view(current_user):
        abort(404)
    selection = cache.Selection(
        _one_meeting_shape(), {"meeting_id": meeting.id, "committee_id": meeting.committee_id}
    )
    page = url_for("meetings.show", meeting_id=meeting.id, _external=True)
    return _meeting_feed(selection, meeting.committee.name, page, f"meeting-{meeting.id}.ics")


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
    source = request.base_url
    person_id = user.person_id
    committee_ids = sorted(
        db.session.scalars(
            select(Membership.committee_id).where(
                Membership.person_id == person_id, active_on(today())
            )
        )
    )
    selection = _windowed("personal", committee_ids=committee_ids)
    own = and_(
        Attendance.person_id == person_id,
        Attendance.meeting_id.in_(select(Meeting.id).where(selection.condition)),
    )
    attended, attendance_latest = db.session.execute(
        select(func.count(Attendance.id), func.max(Attendance.updated_at)).where(own),
        selection.params,
    ).one()
    attendance_latest = cache.aware(attendance_latest)
    joined = cache.aware(
        db.session.scalar(
            select(func.max(Membership.created_at)).where(Membership.person_id == person_id)
        )
    )
    name = f"My meetings ({user.name})"
    page = url_for("main.my_meetings", _external=True)
    # The committees themselves are part of the fingerprint: joining or leaving one changes
    # the feed even when none of its meetings has changed.
    fp = cache.fingerprint(
        selection, base, name, page, source, committee_ids, attended, attendance_latest
    )
    last = _last_modified(source, fp.etag, fp.last_modified, attendance_latest, joined)
    if _not_modified(fp.etag, last):
        return _respond(None, fp.etag, last, "my-meetings.ics", private=True)
    events = cache.feed_events(selection, base)
    statuses = dict(
        db.session.execute(
            select(Attendance.meeting_id, Attendance.status).where(own), selection.params
        ).all()
    )
    texts = [
        with_comment(text, ATTENDANCE_WORDS[statuses[meeting_id].value])
        if meeting_id in statuses
        else text
        for meeting_id, text in zip(events.ids, events.texts, strict=True)
    ]
    body = assemble(name, texts, events.spans, page, source)
    return _respond(body, fp.etag, last, "my-meetings.ics", private=True)


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
    source = request.base_url + ("?format=events" if as_events else "")
    page = url_for("actions.index", _external=True)
    name = f"My actions ({user.name})"
    body = actions_to_ical(actions, name, _base_url(), page, source, as_events)
    etag = hashlib.sha256(body).hexdigest()[:32]
    last = _last_modified(source, etag, *(a.updated_at for a in actions))
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
        return redirect(url_for("ical.account"))
    urls = feed_urls(current_user)
    return render_template("ical/account.html", urls=urls)
