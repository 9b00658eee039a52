from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.actions.services import actions_by_minute, as_minuted, open_actions
from app.agenda import publication as agenda_publication
from app.agenda import revisions
from app.agenda import services as agenda_services
from app.agenda.models import SCHEDULE_12A, AgendaItem
from app.audit.services import meeting_trail
from app.committees import services as committee_services
from app.committees.views import committee_or_404
from app.core.access import staff_required
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden, ValidationError
from app.core.forms import apply_service_errors, expected_version
from app.extensions import db
from app.meetings import attendance as attendance_services
from app.meetings import services
from app.meetings.forms import MeetingForm, PublishForm, SeriesForm, StatusForm
from app.meetings.models import Attendance, AttendanceStatus, Declaration, Meeting, MeetingStatus
from app.meetings.services import local_datetime
from app.minutes import queries as minute_queries
from app.minutes.markdown import render as render_markdown
from app.minutes.models import Minute, Resolution, ResolutionVote
from app.minutes.queries import minute_by_number
from app.people.models import Person

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


def schema_org_event(meeting: Meeting) -> dict:
    """schema.org Event for search engines: public facts only (no agenda items)."""
    status = {
        MeetingStatus.CANCELLED: "https://schema.org/EventCancelled",
        MeetingStatus.POSTPONED: "https://schema.org/EventPostponed",
    }.get(meeting.status, "https://schema.org/EventScheduled")
    data = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": f"{meeting.committee.name}" + (f": {meeting.title}" if meeting.title else ""),
        "startDate": meeting.local_start.isoformat(),
        "eventStatus": status,
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "url": url_for("meetings.show", meeting_id=meeting.id, _external=True),
        "organizer": {
            "@type": "Organization",
            "name": meeting.committee.name,
            "url": url_for("committees.show", slug=meeting.committee.slug, _external=True),
        },
    }
    if meeting.local_end:
        data["endDate"] = meeting.local_end.isoformat()
    if meeting.venue:
        data["location"] = {"@type": "Place", "name": meeting.venue, "address": meeting.venue}
    return data


def agenda_rows(agenda):
    """The agenda (a revision or the working copy: agenda.revisions.Agenda) as rows with a
    section heading wherever the section changes."""
    rows, section = [], None
    for item, number in agenda.numbered_items():
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


# Everything the meeting page shows, loaded in one go rather than row by row.
_PAGE_OPTIONS = [
    selectinload(Meeting.items).options(
        selectinload(AgendaItem.documents),
        selectinload(AgendaItem.children),
        selectinload(AgendaItem.presenter),
        selectinload(AgendaItem.paragraph_rows),
    ),
    selectinload(Meeting.attendance).options(
        selectinload(Attendance.person), selectinload(Attendance.substitute_for)
    ),
    selectinload(Meeting.declarations).selectinload(Declaration.person),
    selectinload(Meeting.publications),
]


@bp.route("/<int:meeting_id>/")
def show(meeting_id: int):
    meeting = db.session.get(Meeting, meeting_id, options=_PAGE_OPTIONS)
    if meeting is None or not meeting.can_view(current_user):
        abort(404)
    show_agenda = meeting.can_see_agenda(current_user)
    try:
        agenda = revisions.agenda_for(
            meeting, current_user, revisions.parse_revision(request.args.get("revision"))
        )
    except revisions.NoSuchRevision:
        abort(404)
    show_minutes = meeting.can_see_minutes(current_user)
    minutes, actions = [], {}
    withheld: set[int] = set()
    if show_minutes:
        # A restricted minute the reader may not see keeps its place in the minutes as a
        # heading only (its number and grounds): the public sees that business was withheld.
        minutes = [
            m
            for m in db.session.scalars(
                select(Minute)
                .where(Minute.meeting_id == meeting.id)
                .options(
                    selectinload(Minute.resolutions).options(
                        selectinload(Resolution.actions),
                        selectinload(Resolution.votes).selectinload(ResolutionVote.person),
                    )
                )
                .order_by(Minute.number)
            )
            if m.can_view(current_user) or m.restricted
        ]
        withheld = {m.id for m in minutes if not m.can_view(current_user)}
        shown = [m for m in minutes if m.id not in withheld]
        for minute_id, recorded in actions_by_minute(shown).items():
            visible = [a for a in recorded if a.can_view(current_user)]
            if visible:
                actions[minute_id] = visible
    attendance = {status: meeting.attendance_by_status(status) for status in AttendanceStatus}
    return render_template(
        "meetings/show.html",
        meeting=meeting,
        committee=meeting.committee,
        show_agenda=show_agenda,
        agenda=agenda_rows(agenda) if show_agenda else [],
        revision=agenda.revision,
        unpublished=(
            agenda_publication.unpublished_changes(meeting)
            if agenda.is_working_copy and meeting.agenda_revision
            else []
        ),
        show_minutes=show_minutes,
        minutes=minutes,
        withheld=withheld,
        actions=actions,
        minuted=as_minuted(a for shown_actions in actions.values() for a in shown_actions),
        attendance=attendance,
        # Who came is part of the record of the meeting, shown with its minutes.
        show_attendance=show_minutes,
        schedule_12a=SCHEDULE_12A,
        quorum=attendance_services.quorum(meeting),
        declarations=minute_queries.declarations_by_item(
            meeting, meeting.can_see_restricted(current_user)
        ),
        item_numbers={i.id: n for i, n in meeting.numbered_items()},
        json_ld=schema_org_event(meeting),
        can_send_apologies=meeting.can_send_apologies(current_user),
        render_markdown=render_markdown,
        minute_link=minute_link(meeting.committee),
    )


# --- clerks: scheduling, status, the agenda builder, publication -------------------------


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _status(form, messages, conflict: bool = False) -> int:
    if conflict:
        return 409  # a stale copy, or a locked record: nothing was changed
    return 400 if (form.errors or messages) else 200


@bp.route("/new/<slug>", methods=["GET", "POST"])
@staff_required
def new(slug: str):
    committee = committee_or_404(slug)
    form = MeetingForm()
    if request.method == "GET":
        form.starts.data = committee.default_start_time
        form.venue.data = committee.default_venue
    messages: list[str] = []
    if form.validate_on_submit():
        try:
            starts = local_datetime(form.day.data, form.starts.data, committee.timezone)
            ends = (
                local_datetime(form.day.data, form.ends.data, committee.timezone)
                if form.ends.data
                else None
            )
            meeting = services.schedule_meeting(
                committee, starts, ends, form.venue.data, form.title.data
            )
        except ValidationError as exc:
            db.session.rollback()
            messages = apply_service_errors(form, _rename(exc, ends_at="ends"))
        else:
            db.session.flush()
            flash("Meeting scheduled", "success")
            return redirect(url_for("meetings.agenda", meeting_id=meeting.id))
    return render_template(
        "meetings/form.html",
        form=form,
        committee=committee,
        messages=messages,
        heading="Schedule a meeting",
    ), _status(form, messages)


def _rename(exc: ValidationError, **names) -> ValidationError:
    """Point a service's field names at the form's own."""
    exc.errors = {names.get(k, k): v for k, v in exc.errors.items()}
    return exc


@bp.route("/series/<slug>", methods=["GET", "POST"])
@staff_required
def new_series(slug: str):
    committee = committee_or_404(slug)
    form = SeriesForm()
    if request.method == "GET":
        form.at.data = committee.default_start_time
        form.venue.data = committee.default_venue
    messages, dates = [], []
    if form.validate_on_submit():
        rule = services.SeriesRule(
            first=form.first.data,
            until=form.until.data,
            weekday=form.weekday.data,
            at=form.at.data,
            every=form.every.data,
            unit=form.unit.data,
            nth=form.nth.data if form.unit.data == "months" else None,
        )
        try:
            dates = services.series_dates(rule, committee.timezone)
            if form.confirm.data:
                created = services.schedule_series(committee, rule, venue=form.venue.data)
                db.session.flush()
                flash(f"{len(created)} meetings scheduled", "success")
                return redirect(url_for("committees.show", slug=committee.slug))
        except ValidationError as exc:
            db.session.rollback()
            messages = apply_service_errors(form, exc)
    return render_template(
        "meetings/series.html", form=form, committee=committee, messages=messages, dates=dates
    ), _status(form, messages)


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    form = MeetingForm()
    if request.method == "GET":
        form.day.data = meeting.local_start.date()
        form.starts.data = meeting.local_start.time()
        form.ends.data = meeting.local_end.time() if meeting.local_end else None
        form.venue.data = meeting.venue
        form.title.data = meeting.title
        form.version.data = str(meeting.version)
    messages: list[str] = []
    conflict = False
    if form.validate_on_submit():
        try:
            starts = local_datetime(form.day.data, form.starts.data, meeting.timezone)
            ends = (
                local_datetime(form.day.data, form.ends.data, meeting.timezone)
                if form.ends.data
                else None
            )
            services.reschedule(
                meeting,
                starts,
                ends,
                form.venue.data or "",
                expected_version=expected_version(form.version.data),
            )
            services.retitle(meeting, form.title.data, user=current_user)
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            conflict = isinstance(exc, Conflict)
            if conflict:
                messages = [exc.detail]
            else:
                messages = apply_service_errors(form, _rename(exc, ends_at="ends"))
        else:
            db.session.flush()
            flash("Meeting updated", "success")
            return redirect(url_for("meetings.agenda", meeting_id=meeting.id))
    return render_template(
        "meetings/form.html",
        form=form,
        committee=meeting.committee,
        meeting=meeting,
        messages=messages,
        heading="Change the date, time or venue",
    ), _status(form, messages, conflict)


@bp.route("/<int:meeting_id>/status", methods=["GET", "POST"])
@staff_required
def status(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    form = StatusForm()
    if request.method == "GET":
        form.version.data = str(meeting.version)
    messages: list[str] = []
    conflict = False
    if form.validate_on_submit():
        try:
            services.set_status(
                meeting,
                form.status.data,
                form.status_reason.data,
                expected_version=expected_version(form.version.data),
            )
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            conflict = isinstance(exc, Conflict)
            messages = apply_service_errors(form, exc)
        else:
            db.session.flush()
            flash(f"Meeting {meeting.status.value}", "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    return render_template(
        "meetings/status.html", form=form, meeting=meeting, messages=messages
    ), _status(form, messages, conflict)


@bp.route("/<int:meeting_id>/agenda", methods=["GET"])
@staff_required
def agenda(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    deadline = agenda_publication.publication_deadline_of(meeting)
    form = PublishForm()
    return render_template(
        "meetings/agenda.html",
        meeting=meeting,
        committee=meeting.committee,
        rows=agenda_rows(meeting),
        deadline=deadline,
        now=utcnow(),
        form=form,
        late=deadline.is_late(utcnow()),
        fills=standard_fills(meeting),
        changes=agenda_publication.unpublished_changes(meeting),
    )


@bp.route("/<int:meeting_id>/agenda/template", methods=["POST"])
@staff_required
def apply_template(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    try:
        agenda_services.apply_template(meeting)
    except Conflict as exc:
        db.session.rollback()
        flash(exc.detail, "error")
    else:
        db.session.flush()
        flash("Standard items added", "success")
    return redirect(url_for("meetings.agenda", meeting_id=meeting.id))


@bp.route("/<int:meeting_id>/publish", methods=["POST"])
@staff_required
def publish(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    form = PublishForm()
    deadline = agenda_publication.publication_deadline_of(meeting)
    messages: list[str] = []
    if form.validate_on_submit():
        try:
            publication = agenda_publication.publish_agenda(
                meeting, current_user, form.late_reason.data, form.summary.data
            )
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            messages = apply_service_errors(form, exc)
        else:
            db.session.flush()
            flash(f"Agenda published (revision {publication.revision})", "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    return render_template(
        "meetings/agenda.html",
        meeting=meeting,
        committee=meeting.committee,
        rows=agenda_rows(meeting),
        deadline=deadline,
        now=utcnow(),
        form=form,
        late=deadline.is_late(utcnow()),
        messages=messages,
        fills=standard_fills(meeting),
        changes=agenda_publication.unpublished_changes(meeting),
    ), 400


@bp.route("/<int:meeting_id>/audit")
@staff_required
def audit(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    return render_template("meetings/audit.html", meeting=meeting, events=meeting_trail(meeting))


def standard_fills(meeting: Meeting) -> dict:
    """What the standard items show by themselves: the previous minutes, the open actions,
    the dates of future meetings."""
    # The same meeting as the pack's: the last one not called off, minutes written or not.
    previous = services.previous_meeting(meeting)
    future = db.session.scalars(
        select(Meeting)
        .where(
            Meeting.committee_id == meeting.committee_id,
            Meeting.starts_at > meeting.starts_at,
            Meeting.status != MeetingStatus.CANCELLED,
        )
        .order_by(Meeting.starts_at)
        .limit(8)
    ).all()
    return {"previous": previous, "future": future, "actions": open_actions(meeting.committee)}


# --- the attendance register and members' apologies ----------------------------------------

ATTENDANCE_CHOICES = [
    ("", "Not recorded"),
    ("present", "Present"),
    ("apologies", "Apologies"),
    ("absent", "Absent"),
    ("substitute", "Substitute"),
    ("in_attendance", "In attendance"),
]


@bp.route("/<int:meeting_id>/attendance", methods=["GET", "POST"])
@staff_required
def attendance(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    on = meeting.local_start.date()
    members = [m.person for m in meeting.committee.current_memberships(on)]
    recorded = {a.person_id: a for a in meeting.attendance}
    people = members + [a.person for a in meeting.attendance if a.person not in members]
    errors: dict[str, str] = {}
    if request.method == "POST":
        chair = _int_or_none(request.form.get("in_chair"))
        # Seats are freed before they are filled (apologies and the like, then present, then
        # substitutes), so one save can swap a member for a substitute or back again.
        fill_order = {"present": 1, "substitute": 2}
        ordered = sorted(
            people, key=lambda p: fill_order.get(request.form.get(f"status-{p.id}"), 0)
        )
        for person in ordered:
            status = request.form.get(f"status-{person.id}", "")
            if not status:
                continue
            sub_for = _int_or_none(request.form.get(f"substitute_for-{person.id}"))
            try:
                attendance_services.set_attendance(
                    meeting,
                    person,
                    status,
                    substitute_for=db.session.get(Person, sub_for) if sub_for else None,
                    in_chair=(chair == person.id),
                    capacity=request.form.get(f"capacity-{person.id}"),
                    arrived_at_item_id=_int_or_none(request.form.get(f"arrived-{person.id}")),
                    left_at_item_id=_int_or_none(request.form.get(f"left-{person.id}")),
                    user=current_user,
                )
            except ValidationError as exc:
                errors[f"status-{person.id}"] = f"{person.display_name}: {exc.detail}"
        if not errors:
            errors.update(_add_to_register(meeting))
        if errors:
            db.session.rollback()
            meeting = meeting_or_404(meeting_id)
            recorded = {a.person_id: a for a in meeting.attendance}
        else:
            db.session.flush()
            flash("Attendance saved", "success")
            return redirect(url_for("meetings.attendance", meeting_id=meeting.id))
    return render_template(
        "meetings/attendance.html",
        meeting=meeting,
        people=people,
        members=members,
        recorded=recorded,
        add_groups=_register_picker(meeting, on, people),
        choices=ATTENDANCE_CHOICES,
        items=[(i, n) for i, n in meeting.numbered_items() if not i.parent_id],
        errors=errors,
        form_data=request.form,
        quorum=attendance_services.quorum(meeting),
    ), 400 if errors else 200


def _register_picker(meeting: Meeting, on, people) -> list[tuple[str, list[Person]]]:
    """Whom the register's "someone listed" offers: anyone without a row above. The committee's
    people all have one, so in practice those found with ?q= (or chosen in the form just
    posted)."""
    groups = committee_services.people_for_picker(
        meeting.committee,
        on=on,
        q=request.args.get("q"),
        keep=[request.form["add_person"]] if request.form.get("add_person") else (),
    )
    listed = {p.id for p in people}
    groups = [(label, [p for p in group if p.id not in listed]) for label, group in groups]
    return [(label, group) for label, group in groups if group]


# Where the register's "add" part shows a service's error: its fields are named add_*/new_*.
_ADD_FIELDS = {
    "name": "new_name",
    "organisation": "new_organisation",
    "status": "add_status",
    "substitute_for": "add_substitute_for",
}


def _add_to_register(meeting: Meeting) -> dict[str, str]:
    """The register's "add" part: someone listed (add_person) or someone new (new_name and
    new_organisation), with their status, whom a substitute stands in for, and capacity.
    Returns the errors by field; the caller rolls back when there are any."""
    form = request.form
    extra = _int_or_none(form.get("add_person"))
    new_name = (form.get("new_name") or "").strip()
    if not extra and not new_name and not (form.get("new_organisation") or "").strip():
        return {}
    if extra and new_name:
        return {"new_name": "Choose someone listed or give a new person's name, not both."}
    status = form.get("add_status") or "in_attendance"
    sub_for = _int_or_none(form.get("add_substitute_for"))
    substitute_for = db.session.get(Person, sub_for) if sub_for else None
    try:
        if extra:
            attendance_services.add_to_register(
                meeting,
                db.session.get(Person, extra) or abort(404),
                status,
                capacity=form.get("add_capacity"),
                substitute_for=substitute_for,
                user=current_user,
            )
        else:
            attendance_services.add_new_person_to_register(
                meeting,
                new_name,
                form.get("new_organisation"),
                status,
                substitute_for=substitute_for,
                capacity=form.get("add_capacity"),
                user=current_user,
            )
    except ValidationError as exc:
        fallback = "add_person" if extra else "new_name"
        return {_ADD_FIELDS.get(k, fallback): v[0] for k, v in exc.errors.items()} or {
            fallback: exc.detail
        }
    return {}


@bp.route("/<int:meeting_id>/apologies", methods=["POST"])
@login_required
def send_apologies(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    try:
        attendance_services.send_apologies(meeting, current_user, request.form.get("note"))
    except (Forbidden, Conflict) as exc:
        db.session.rollback()
        flash(exc.detail, "error")
    else:
        db.session.flush()
        flash("Your apologies have been sent to the clerk", "success")
    return redirect(url_for("meetings.show", meeting_id=meeting.id))
