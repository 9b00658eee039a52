"""Minute-taking, approval, corrections and the decisions register."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.actions import services as action_services
from app.agenda.models import SCHEDULE_12A
from app.committees import services as committee_services
from app.committees.models import Committee
from app.core.access import staff_required
from app.core.errors import Conflict, ValidationError
from app.core.forms import apply_service_errors, expected_version, picker_choices
from app.core.keyset import BadCursor
from app.core.web import cursor_links
from app.extensions import db
from app.meetings import attendance as attendance_services
from app.meetings.models import Meeting
from app.minutes import services
from app.minutes.forms import (
    ActionFromResolutionForm,
    ApprovalForm,
    CorrectionForm,
    DeclarationForm,
    MinuteForm,
    ResolutionForm,
)
from app.minutes.markdown import render as render_markdown
from app.minutes.models import Minute, Resolution, ResolutionKind
from app.minutes.queries import decisions_page
from app.people.models import Person

bp = Blueprint("minutes", __name__)

PER_PAGE = 50
VOTE_CHOICES = [
    ("", "Not recorded"),
    ("for", "For"),
    ("against", "Against"),
    ("abstain", "Abstained"),
]


def _meeting_or_404(meeting_id: int) -> Meeting:
    return db.session.get(Meeting, meeting_id) or abort(404)


def _minute_or_404(minute_id: int) -> Minute:
    return db.session.get(Minute, minute_id) or abort(404)


def _people_choices(meeting: Meeting, prompt: str, chosen=None):
    """The committee's people, those on the register, and anyone found with ?q= (or already
    chosen in the submitted form, so a found person stays valid when the form is posted)."""
    groups = committee_services.people_for_picker(
        meeting.committee,
        on=meeting.local_start.date(),
        q=request.args.get("q"),
        keep=[chosen] if chosen else (),
        also=[a.person for a in meeting.attendance],
    )
    return picker_choices(groups, prompt)


@bp.route("/meetings/<int:meeting_id>/minutes/edit")
@staff_required
def overview(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    minutes = db.session.scalars(
        select(Minute).where(Minute.meeting_id == meeting.id).order_by(Minute.number)
    ).all()
    later = _later_meetings(meeting)
    return render_template(
        "minutes/overview.html",
        meeting=meeting,
        minutes=minutes,
        quorum=attendance_services.quorum(meeting),
        later=later,
        next_number=services.next_minute_number(meeting.committee),
    )


@bp.route("/meetings/<int:meeting_id>/minutes/draft", methods=["POST"])
@staff_required
def draft(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    try:
        created = services.draft_minutes(meeting, current_user)
    except Conflict as exc:
        db.session.rollback()
        flash(exc.detail, "error")
    else:
        db.session.flush()
        flash(
            f"{len(created)} minutes numbered" if created else "Every item has its minute",
            "success",
        )
    return redirect(url_for("minutes.overview", meeting_id=meeting.id))


def _neighbours(minute: Minute) -> tuple[Minute | None, Minute | None]:
    """The minutes before and after this one, in number (that is, agenda) order, so the
    clerk can walk the agenda item by item."""
    same_meeting = select(Minute).where(Minute.meeting_id == minute.meeting_id)
    previous = db.session.scalar(
        same_meeting.where(Minute.number < minute.number).order_by(Minute.number.desc()).limit(1)
    )
    following = db.session.scalar(
        same_meeting.where(Minute.number > minute.number).order_by(Minute.number).limit(1)
    )
    return previous, following


def _declaration_items(minute: Minute) -> list[tuple[str, str]]:
    """The minute's item and its sub-items, which a declaration may relate to."""
    if minute.item is None:
        return []
    numbers = dict((i.id, n) for i, n in minute.meeting.numbered_items())
    return [
        (str(i.id), f"{numbers.get(i.id, '')} {i.title}".strip())
        for i in [minute.item, *minute.item.children]
    ]


def _edit_context(minute: Minute, **forms):
    resolution_form = forms.get("resolution_form") or ResolutionForm(prefix="resolution")
    action_form = forms.get("action_form") or ActionFromResolutionForm(prefix="action")
    action_form.owner_id.choices = _people_choices(
        minute.meeting, "Choose the owner", action_form.owner_id.data
    )
    # The other resolutions' forms stay empty when one was sent back with its errors.
    blank_action_form = ActionFromResolutionForm(prefix="action", formdata=None)
    blank_action_form.owner_id.choices = _people_choices(minute.meeting, "Choose the owner", None)
    declaration_form = forms.get("declaration_form") or DeclarationForm(prefix="declaration")
    declaration_form.person_id.choices = _people_choices(
        minute.meeting, "Choose the person", declaration_form.person_id.data
    )
    declaration_form.agenda_item_id.choices = _declaration_items(minute)
    # Sub-items are minuted with their parent, so their declarations belong here too.
    item_ids = set()
    if minute.item is not None:
        item_ids = {minute.item.id} | {c.id for c in minute.item.children}
    declarations = [d for d in minute.meeting.declarations if d.agenda_item_id in item_ids]
    actions = {r.id: r.actions for r in minute.resolutions}
    previous, following = _neighbours(minute)
    return {
        "previous_minute": previous,
        "next_minute": following,
        "voters": services.voters(minute.meeting),
        "vote_choices": VOTE_CHOICES,
        "form_data": request.form if request.method == "POST" else {},
        "votes_given": request.method == "POST"
        and any(k.startswith("vote-") and v for k, v in request.form.items()),
        "minute": minute,
        "meeting": minute.meeting,
        "resolution_form": resolution_form,
        "action_form": action_form,
        "blank_action_form": blank_action_form,
        "declaration_form": declaration_form,
        "declarations": declarations,
        "actions": actions,
        "conflict": forms.get("conflict"),
        "messages": forms.get("messages", []),
        "render_markdown": render_markdown,
        "schedule_12a": SCHEDULE_12A,
    }


@bp.route("/minutes/<int:minute_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(minute_id: int):
    minute = _minute_or_404(minute_id)
    form = MinuteForm(prefix="minute", obj=minute if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(minute.version)
    conflict, messages, status = None, [], 200
    if form.validate_on_submit():
        try:
            expected = expected_version(form.version.data)
            services.save_minute(
                minute, form.text.data or "", expected, current_user, title=form.title.data
            )
        except Conflict as exc:
            db.session.rollback()
            minute = _minute_or_404(minute_id)
            if minute.locked:
                messages, status = [exc.detail], 409
            else:
                # Nothing is lost: both texts are shown, and the form now carries the
                # current version, so saving the merged text goes through.
                conflict = {"mine": form.text.data, "theirs": minute.text, "message": exc.detail}
                form.version.data = str(minute.version)
                status = 409
        except ValidationError as exc:
            db.session.rollback()
            messages, status = apply_service_errors(form, exc), 400
        else:
            db.session.flush()
            flash(f"Minute {minute.display_number} saved", "success")
            following = _neighbours(minute)[1] if form.save_next.data else None
            return redirect(url_for("minutes.edit", minute_id=(following or minute).id))
    elif form.errors:
        status = 400
    context = _edit_context(minute, conflict=conflict, messages=messages)
    return render_template("minutes/edit.html", form=form, **context), status


@bp.route("/minutes/<int:minute_id>/delete", methods=["GET", "POST"])
@staff_required
def delete(minute_id: int):
    """Confirm, then delete a draft minute; its number is never given out again."""
    minute = _minute_or_404(minute_id)
    meeting = minute.meeting
    message = None
    if request.method == "POST":
        shown = minute.display_number
        try:
            services.delete_minute(minute, current_user)
        except Conflict as exc:
            db.session.rollback()
            minute, message = _minute_or_404(minute_id), exc.detail
        else:
            db.session.flush()
            flash(f"Minute {shown} deleted; its number will not be used again", "success")
            return redirect(url_for("minutes.overview", meeting_id=meeting.id))
    elif minute.locked:
        message = "These minutes are approved and locked. Record a correction instead."
    return render_template(
        "minutes/delete.html", minute=minute, meeting=meeting, message=message
    ), 409 if message else 200


@bp.route("/minutes/<int:minute_id>/resolutions", methods=["POST"])
@staff_required
def add_resolution(minute_id: int):
    minute = _minute_or_404(minute_id)
    form = ResolutionForm(prefix="resolution")
    messages: list[str] = []
    if form.validate_on_submit():
        # One radio group per voter ("vote-<person id>"); a voter left unset did not vote.
        # Every vote sent goes to the service, which alone says who is entitled (a page drawn
        # before someone's apologies were recorded still offers their vote).
        named = [
            (int(key[5:]) if key[5:].isdigit() else key[5:], value)
            for key, value in request.form.items()
            if key.startswith("vote-") and value
        ]
        try:
            resolution = services.add_resolution(
                minute,
                form.text.data,
                form.kind.data,
                form.votes_for.data,
                form.votes_against.data,
                form.abstentions.data,
                form.recommended_to.data,
                user=current_user,
                named_votes=named,
            )
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            minute = _minute_or_404(minute_id)
            messages = (
                apply_service_errors(form, exc)
                if isinstance(exc, ValidationError)
                else [exc.detail]
            )
        else:
            db.session.flush()
            flash(f"Resolution ({resolution.ordinal}) added", "success")
            return redirect(url_for("minutes.edit", minute_id=minute.id, _anchor="resolutions"))
    minute_form = MinuteForm(prefix="minute", obj=minute)
    minute_form.version.data = str(minute.version)
    return render_template(
        "minutes/edit.html",
        form=minute_form,
        **_edit_context(minute, resolution_form=form, messages=messages),
    ), 409 if minute.locked else 400


@bp.route("/resolutions/<int:resolution_id>/actions", methods=["POST"])
@staff_required
def add_action(resolution_id: int):
    resolution = db.session.get(Resolution, resolution_id) or abort(404)
    minute = resolution.minute
    form = ActionFromResolutionForm(prefix="action")
    form.owner_id.choices = _people_choices(minute.meeting, "Choose the owner", form.owner_id.data)
    messages: list[str] = []
    if form.validate_on_submit():
        try:
            action = action_services.create_from_resolution(
                resolution,
                form.title.data,
                form.owner_id.data,
                form.due_date.data,
                user=current_user,
            )
        except ValidationError as exc:
            db.session.rollback()
            messages = apply_service_errors(form, exc)
        else:
            db.session.flush()
            flash(f"Action added for {action.owner.display_name}", "success")
            return redirect(
                url_for("minutes.edit", minute_id=minute.id, _anchor=f"resolution-{resolution.id}")
            )
    minute = _minute_or_404(minute.id)
    minute_form = MinuteForm(prefix="minute", obj=minute)
    minute_form.version.data = str(minute.version)
    return render_template(
        "minutes/edit.html",
        form=minute_form,
        **_edit_context(minute, action_form=form, messages=messages),
    ), 400


@bp.route("/minutes/<int:minute_id>/declarations", methods=["POST"])
@staff_required
def add_declaration(minute_id: int):
    minute = _minute_or_404(minute_id)
    form = DeclarationForm(prefix="declaration")
    form.person_id.choices = _people_choices(
        minute.meeting, "Choose the person", form.person_id.data
    )
    form.agenda_item_id.choices = _declaration_items(minute)
    messages: list[str] = []
    if form.validate_on_submit() and minute.item is not None:
        person = db.session.get(Person, int(form.person_id.data))
        # The choices are this minute's item and its sub-items (the form validated that).
        item_id = int(form.agenda_item_id.data or minute.item.id)
        try:
            attendance_services.add_declaration(
                minute.meeting,
                item_id,
                person,
                form.kind.data,
                form.nature.data,
                form.withdrew.data,
                user=current_user,
            )
        except ValidationError as exc:
            db.session.rollback()
            messages = apply_service_errors(form, exc)
        else:
            db.session.flush()
            flash(f"Declaration by {person.display_name} recorded", "success")
            return redirect(url_for("minutes.edit", minute_id=minute.id, _anchor="declarations"))
    minute = _minute_or_404(minute_id)
    minute_form = MinuteForm(prefix="minute", obj=minute)
    minute_form.version.data = str(minute.version)
    return render_template(
        "minutes/edit.html",
        form=minute_form,
        **_edit_context(minute, declaration_form=form, messages=messages),
    ), 400


@bp.route("/meetings/<int:meeting_id>/minutes/publish", methods=["POST"])
@staff_required
def publish(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    try:
        services.publish_minutes(meeting, current_user)
    except Conflict as exc:
        db.session.rollback()
        flash(exc.detail, "error")
    else:
        db.session.flush()
        flash("Draft minutes published", "success")
    return redirect(url_for("minutes.overview", meeting_id=meeting.id))


def _later_meetings(meeting: Meeting) -> list[Meeting]:
    return list(
        db.session.scalars(
            select(Meeting)
            .where(
                Meeting.committee_id == meeting.committee_id, Meeting.starts_at > meeting.starts_at
            )
            .order_by(Meeting.starts_at)
            .limit(12)
        )
    )


@bp.route("/meetings/<int:meeting_id>/minutes/approve", methods=["GET", "POST"])
@staff_required
def approve(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    form = ApprovalForm()
    later = _later_meetings(meeting)
    form.at_meeting_id.choices = [("", "Choose the meeting")] + [
        (str(m.id), f"{m.local_start:%A} {m.local_start.day} {m.local_start:%B %Y}") for m in later
    ]
    if request.method == "GET":
        chair = meeting.committee.current_memberships(meeting.local_start.date())
        form.chair_name.data = next(
            (m.person.display_name for m in chair if m.role.value == "chair"), ""
        )
        form.signed_on.data = later[0].local_start.date() if later else date.today()
    messages: list[str] = []
    if form.validate_on_submit():
        at = db.session.get(Meeting, int(form.at_meeting_id.data))
        try:
            services.approve_minutes(
                meeting,
                at,
                form.amendments.data,
                form.chair_name.data,
                form.signed_on.data,
                current_user,
            )
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            messages = (
                apply_service_errors(form, exc)
                if isinstance(exc, ValidationError)
                else [exc.detail]
            )
        else:
            db.session.flush()
            flash("Minutes approved as a correct record; they are now locked", "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id, _anchor="minutes"))
    return render_template(
        "minutes/approve.html", form=form, meeting=meeting, messages=messages
    ), 400 if (form.errors or messages) else 200


@bp.route("/minutes/<int:minute_id>/correct", methods=["GET", "POST"])
@staff_required
def correct(minute_id: int):
    minute = _minute_or_404(minute_id)
    if not minute.locked:
        return redirect(url_for("minutes.edit", minute_id=minute.id))
    form = CorrectionForm()
    if request.method == "GET":
        form.text.data = minute.text
    messages: list[str] = []
    if form.validate_on_submit():
        try:
            services.correct_minute(minute, form.text.data, form.reason.data, current_user)
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            messages = [exc.detail]
        else:
            db.session.flush()
            flash(f"Correction to minute {minute.display_number} recorded", "success")
            return redirect(
                url_for(
                    "meetings.show", meeting_id=minute.meeting_id, _anchor=f"minute-{minute.number}"
                )
            )
    return render_template(
        "minutes/correct.html", form=form, minute=minute, messages=messages
    ), 400 if (form.errors or messages) else 200


@bp.route("/decisions/")
def decisions():
    """Every resolution the reader may see, searchable, newest first, a page at a time by
    cursor (Previous and Next links; no count of every resolution)."""
    args = request.args
    committees = db.session.scalars(select(Committee).order_by(Committee.name)).all()
    committee = next((c for c in committees if c.slug == args.get("committee")), None)

    def parse(value):
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            return None

    kind = args.get("kind") if args.get("kind") in {k.value for k in ResolutionKind} else None
    filters = dict(
        text=args.get("q"),
        committee_id=committee.id if committee else None,
        date_from=parse(args.get("from")),
        date_to=parse(args.get("to")),
        kind=kind,
    )
    try:
        page = decisions_page(
            current_user, args.get("after"), args.get("before"), PER_PAGE, **filters
        )
    except BadCursor:
        # An old or mistyped link: the first page, as the tracker does.
        page = decisions_page(current_user, per_page=PER_PAGE, **filters)
    kept = {k: v for k, v in args.items() if k not in ("after", "before", "page")}
    return render_template(
        "minutes/decisions.html",
        resolutions=page.rows,
        **cursor_links("minutes.decisions", page, kept),
        committees=committees,
        args=args,
        bad_dates=[n for n in ("from", "to") if args.get(n) and parse(args.get(n)) is None],
    )
