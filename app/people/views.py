"""The People pages: clerks and admins list, find, add and edit people, and invite them to
make an account. Registered inside the auth blueprint (see app/auth/views.py), so endpoints
are people.*."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.auth import services as auth_services
from app.auth.forms import InviteForm
from app.auth.models import User
from app.committees import services
from app.committees.models import Membership
from app.core.access import staff_required
from app.core.errors import Conflict, ValidationError
from app.core.forms import apply_service_errors, expected_version
from app.core.keyset import BadCursor
from app.core.permissions import Role, is_admin
from app.core.web import cursor_links
from app.extensions import db
from app.people.forms import PersonForm
from app.people.queries import people_page

bp = Blueprint("people", __name__, url_prefix="/people")

ROLE_WORDS = {
    Role.MEMBER: "Member: sees what members of their committees may see",
    Role.VIEWER: "Viewer: sees what the public sees, and their own actions",
    Role.CLERK: "Clerk: runs committees, meetings and people",
    Role.ADMIN: "Admin: a clerk who also manages accounts",
}


@bp.route("/")
@staff_required
def index():
    """Everyone, or those found by name, a page at a time by cursor (Previous and Next links;
    no count of everyone, as the decisions register)."""
    q = request.args.get("q", "")
    after, before = request.args.get("after"), request.args.get("before")
    try:
        page = people_page(q, after or None, before or None)
    except BadCursor:
        # An old or mistyped link: the first page, as the register does.
        page = people_page(q)
    kept = {"q": q} if q else {}
    return render_template(
        "people/index.html",
        people=page.rows,
        q=q,
        **cursor_links("people.index", page, kept),
    )


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    form = PersonForm()
    messages: list[str] = []
    if form.validate_on_submit():
        try:
            person = services.create_person(**form.service_fields())
        except ValidationError as exc:
            messages = apply_service_errors(form, exc)
        else:
            flash(f"{person.display_name} added", "success")
            return redirect(url_for("people.show", person_id=person.id))
    status = 400 if (form.errors or messages) else 200
    return render_template("people/form.html", form=form, person=None, messages=messages), status


@bp.route("/<int:person_id>")
@staff_required
def show(person_id: int):
    person = services.person_or_404(person_id)
    memberships = db.session.scalars(
        select(Membership)
        .where(Membership.person_id == person.id)
        .order_by(Membership.end_date.is_not(None), Membership.start_date.desc())
    ).all()
    # Only admins, who manage accounts anyway, are shown whether the person has one: a
    # clerk's invitation page answers the same either way.
    account = None
    if is_admin(current_user):
        account = db.session.scalar(select(User).where(User.person_id == person.id))
    return render_template(
        "people/show.html", person=person, memberships=memberships, account=account
    )


@bp.route("/<int:person_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(person_id: int):
    person = services.person_or_404(person_id)
    form = PersonForm(obj=person)
    messages: list[str] = []
    conflict = False
    if form.validate_on_submit():
        try:
            services.update_person(
                person, expected_version(form.version.data), **form.service_fields()
            )
        except (ValidationError, Conflict) as exc:
            conflict = isinstance(exc, Conflict)
            messages = apply_service_errors(form, exc) if not conflict else [exc.detail]
            db.session.rollback()
        else:
            flash(f"{person.display_name} updated", "success")
            return redirect(url_for("people.show", person_id=person.id))
    if request.method == "GET":
        form.version.data = str(person.version)
    status = 409 if conflict else (400 if (form.errors or messages) else 200)
    return render_template("people/form.html", form=form, person=person, messages=messages), status


@bp.route("/<int:person_id>/invite", methods=["GET", "POST"])
@staff_required
def invite(person_id: int):
    person = services.person_or_404(person_id)
    form = InviteForm()
    form.role.choices = [
        (r.value, ROLE_WORDS[r]) for r in auth_services.invitation_roles(current_user)
    ]
    if request.method == "GET":
        form.role.data = Role.MEMBER.value
    messages: list[str] = []
    if form.validate_on_submit():
        try:
            auth_services.invite(person, form.role.data, by=current_user)
        except ValidationError as exc:
            messages = apply_service_errors(form, exc)
        else:
            # The same words whether or not the address has an account (see invite).
            flash(f"An invitation has been sent to {person.email}", "success")
            return redirect(url_for("people.show", person_id=person.id))
    status = 400 if (form.errors or messages) else 200
    return render_template(
        "people/invite.html", form=form, person=person, messages=messages
    ), status
