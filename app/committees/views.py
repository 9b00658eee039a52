from __future__ import annotations

from datetime import datetime
from itertools import groupby

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.committees import services
from app.committees.forms import (
    ROLE_CHOICES,
    CommitteeForm,
    EndMembershipForm,
    ImportForm,
    MembershipForm,
)
from app.committees.models import DEFAULT_AGENDA_TEMPLATE, Committee, Membership
from app.core.access import staff_required
from app.core.db import utcnow
from app.core.errors import ValidationError
from app.core.forms import apply_service_errors
from app.core.keyset import BadCursor, Key, Keyset, fetch
from app.extensions import db
from app.meetings.models import Meeting
from app.people.models import Person

bp = Blueprint("committees", __name__, url_prefix="/committees")


def committee_or_404(slug: str) -> Committee:
    committee = db.session.scalar(select(Committee).where(Committee.slug == slug))
    if committee is None:
        abort(404)
    return committee


@bp.route("/")
def index():
    committees = db.session.scalars(select(Committee).order_by(Committee.name)).all()
    return render_template("committees/index.html", committees=committees)


@bp.route("/<slug>/")
def show(slug: str):
    committee = committee_or_404(slug)
    # The memberships with their people in one go (current_memberships reads the collection).
    db.session.scalars(
        select(Committee)
        .where(Committee.id == committee.id)
        .options(selectinload(Committee.memberships).selectinload(Membership.person))
    ).one()
    memberships = committee.current_memberships()
    by_role = [(role, list(rows)) for role, rows in groupby(memberships, key=lambda m: m.role)]
    now = utcnow()
    upcoming = db.session.scalars(
        select(Meeting)
        .where(Meeting.committee_id == committee.id, Meeting.starts_at >= now)
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    # Past meetings a page at a time, newest first (ten years of them would be one long
    # page): "Earlier meetings" follows a cursor, read by ix_meetings_committee_id_starts_at.
    past_stmt = select(Meeting).where(Meeting.committee_id == committee.id, Meeting.starts_at < now)
    try:
        past = fetch(
            db.session, PAST_ORDER, past_stmt, PAST_MEETINGS, after=request.args.get("past")
        )
    except BadCursor:
        past = fetch(db.session, PAST_ORDER, past_stmt, PAST_MEETINGS)
    return render_template(
        "committees/show.html",
        committee=committee,
        by_role=by_role,
        upcoming=upcoming,
        past=past.rows,
        earlier=past.next_cursor,
        paged=request.args.get("past") is not None,
    )


PAST_MEETINGS = 12
PAST_ORDER = Keyset(
    (Key(Meeting.starts_at, datetime, descending=True), Key(Meeting.id, descending=True)),
    lambda m: (m.starts_at, m.id),
)


# --- clerks: committees, memberships, imports ---------------------------------------------


def _person_choices():
    people = db.session.scalars(select(Person).order_by(Person.name)).all()
    return [("", "Add a new person (below)")] + [
        (str(p.id), p.display_name + (f", {p.organisation}" if p.organisation else ""))
        for p in people
    ]


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    form = CommitteeForm()
    if request.method == "GET":
        form.agenda_template.data = services.agenda_template_as_text(DEFAULT_AGENDA_TEMPLATE)
    messages: list[str] = []
    if form.validate_on_submit():
        try:
            committee = services.create_committee(**form.service_fields())
        except ValidationError as exc:
            messages = apply_service_errors(form, exc)
        else:
            db.session.flush()
            flash(f"{committee.name} created", "success")
            return redirect(url_for("committees.show", slug=committee.slug))
    return render_template(
        "committees/form.html", form=form, messages=messages, heading="Create a committee"
    ), 400 if form.errors or messages else 200


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@staff_required
def edit(slug: str):
    committee = committee_or_404(slug)
    form = CommitteeForm(obj=committee)
    if request.method == "GET":
        form.quorum.data = (
            str(committee.quorum_count) if committee.quorum_count else committee.quorum_fraction
        )
        form.sections.data = "\n".join(committee.sections or [])
        form.agenda_template.data = services.agenda_template_as_text(committee.agenda_template)
        form.regime.data = committee.regime.value
    messages: list[str] = []
    if form.validate_on_submit():
        try:
            services.update_committee(committee, **form.service_fields())
        except ValidationError as exc:
            messages = apply_service_errors(form, exc)
        else:
            db.session.flush()
            flash("Committee saved", "success")
            return redirect(url_for("committees.show", slug=committee.slug))
    return render_template(
        "committees/form.html",
        form=form,
        messages=messages,
        committee=committee,
        heading=f"Edit {committee.name}",
    ), (400 if form.errors or messages else 200)


@bp.route("/<slug>/members", methods=["GET", "POST"])
@staff_required
def members(slug: str):
    committee = committee_or_404(slug)
    form = MembershipForm()
    form.person_id.choices = _person_choices()
    messages: list[str] = []
    if form.validate_on_submit():
        try:
            if form.person_id.data:
                person = db.session.get(Person, int(form.person_id.data))
            else:
                person = services.create_person(name=form.new_person_name.data)
            services.add_membership(
                committee,
                person,
                form.role.data,
                organisation=form.organisation.data,
                start_date=form.start_date.data,
            )
        except ValidationError as exc:
            db.session.rollback()
            form.person_id.choices = _person_choices()
            if "name" in exc.errors:
                exc.errors["new_person_name"] = ["Choose a person or enter a new person's name"]
                del exc.errors["name"]
            messages = apply_service_errors(form, exc)
        else:
            db.session.flush()
            flash(f"{person.display_name} added", "success")
            return redirect(url_for("committees.members", slug=slug))
    memberships = sorted(
        committee.memberships, key=lambda m: (m.end_date is not None, m.person.name)
    )
    return render_template(
        "committees/members.html",
        committee=committee,
        form=form,
        memberships=memberships,
        messages=messages,
        end_form=EndMembershipForm(),
        role_choices=ROLE_CHOICES,
    ), (400 if form.errors or messages else 200)


@bp.route("/<slug>/members/<int:membership_id>/end", methods=["POST"])
@staff_required
def end_member(slug: str, membership_id: int):
    committee = committee_or_404(slug)
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.committee_id != committee.id:
        abort(404)
    form = EndMembershipForm()
    if not form.validate_on_submit():
        flash("Enter the last day of the membership as day, month and year", "error")
        return redirect(url_for("committees.members", slug=slug))
    try:
        services.end_membership(membership, form.end_date.data)
    except ValidationError as exc:
        db.session.rollback()
        flash(exc.detail, "error")
    else:
        db.session.flush()
        flash(f"Membership of {membership.person.display_name} ended", "success")
    return redirect(url_for("committees.members", slug=slug))


@bp.route("/<slug>/import", methods=["GET", "POST"])
@staff_required
def import_members(slug: str):
    committee = committee_or_404(slug)
    form = ImportForm()
    preview, messages = None, []
    if form.validate_on_submit():
        if form.confirm.data and form.csv_text.data:
            try:
                preview = services.apply_import(committee, form.csv_text.data)
            except ValidationError as exc:
                db.session.rollback()
                messages = [exc.detail]
                preview = services.preview_import(committee, form.csv_text.data)
            else:
                db.session.flush()
                flash(f"Imported {len(preview.rows)} memberships", "success")
                return redirect(url_for("committees.members", slug=slug))
        else:
            upload = request.files.get("file")
            data = upload.read(2 * 1024 * 1024 + 1) if upload else b""
            if not data:
                form.file.errors = ["Choose a CSV file"]
            elif len(data) > 2 * 1024 * 1024:
                form.file.errors = ["The file is larger than 2 MB"]
            else:
                preview = services.preview_import(committee, data)
                if preview.ok:
                    form.csv_text.data = data.decode("utf-8-sig")
    status = 400 if (form.file.errors or messages or (preview and not preview.ok)) else 200
    return render_template(
        "committees/import.html", committee=committee, form=form, preview=preview, messages=messages
    ), status


@bp.route("/<slug>/members/<int:membership_id>/role", methods=["POST"])
@staff_required
def change_role(slug: str, membership_id: int):
    committee = committee_or_404(slug)
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.committee_id != committee.id:
        abort(404)
    try:
        services.update_membership(membership, role=request.form.get("role", ""))
    except ValidationError as exc:
        db.session.rollback()
        flash(exc.detail, "error")
    else:
        db.session.flush()
        flash(f"{membership.person.display_name} is now {membership.role.label.lower()}", "success")
    return redirect(url_for("committees.members", slug=slug))
