"""The action tracker, "my actions", an action's page with its history and updates."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.actions import plan, services
from app.actions.forms import (
    RAG_CHOICES,
    STATUS_CHOICES,
    ActionForm,
    CorrectionForm,
    PlanImportForm,
    UpdateForm,
)
from app.actions.models import Action, ActionStatus, Rag
from app.committees import services as committee_services
from app.committees.models import Committee
from app.core.access import staff_required
from app.core.errors import Conflict, Forbidden, ValidationError
from app.core.forms import apply_service_errors, expected_version, picker_choices
from app.core.permissions import person_id_of
from app.extensions import db
from app.people.models import Person

bp = Blueprint("actions", __name__, url_prefix="/actions")


def _filters(args) -> dict:
    committee = (
        db.session.scalar(select(Committee).where(Committee.slug == args.get("committee")))
        if args.get("committee")
        else None
    )
    status = args.get("status") if args.get("status") in {s.value for s in ActionStatus} else None
    rag = args.get("rag") if args.get("rag") in {r.value for r in Rag} else None
    owner = args.get("owner", type=int)
    return {
        "committee_id": committee.id if committee else None,
        "owner_id": owner,
        "status": status,
        "rag": rag,
        "overdue": args.get("overdue") == "1",
    }


def _list(title: str, filters: dict, mine: bool = False, row_errors: dict | None = None):
    page = services.tracker_page(current_user, request.args.get("after"), **filters)
    committees = db.session.scalars(select(Committee).order_by(Committee.name)).all()
    owners = db.session.scalars(
        select(Person).join(Action, Action.owner_id == Person.id).distinct().order_by(Person.name)
    ).all()
    return render_template(
        "actions/index.html",
        title=title,
        actions=page.actions,
        next_after=page.next_after,
        by_theme=page.by_theme,
        groups=page.groups,
        committees=committees,
        owners=owners,
        args=request.args,
        mine=mine,
        row_errors=row_errors or {},
        status_choices=STATUS_CHOICES,
        rag_choices=RAG_CHOICES,
        form_data=request.form,
    )


@bp.route("/")
def index():
    return _list("Action tracker", _filters(request.args))


@bp.route("/mine")
@login_required
def mine():
    return _mine()


def _mine(row_errors: dict | None = None):
    person_id = person_id_of(current_user)
    if person_id is None:
        return render_template(
            "actions/index.html",
            title="My actions",
            actions=[],
            committees=[],
            owners=[],
            args=request.args,
            mine=True,
        )
    return _list(
        "My actions",
        {**_filters(request.args), "owner_id": person_id},
        mine=True,
        row_errors=row_errors,
    )


@bp.route("/<int:action_id>/quick-update", methods=["POST"])
@login_required
def quick_update(action_id: int):
    """An update posted from a row of "My actions"; back to the list, not the action page."""
    action = _action_or_404(action_id)
    if not action.can_update(current_user):
        abort(403)
    form = UpdateForm()
    if form.validate_on_submit():
        try:
            services.post_update(
                action,
                current_user,
                form.note.data,
                form.status.data,
                form.rag.data,
                expected_version=expected_version(form.version.data),
            )
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            message = exc.detail
            if isinstance(exc, ValidationError):
                message = next(iter(exc.errors.values()))[0] if exc.errors else exc.detail
            else:
                return _mine({action_id: message}), 409
        else:
            db.session.flush()
            flash(f"Update posted on {action.title}", "success")
            return redirect(url_for("actions.mine", _anchor=f"action-{action.id}"))
    else:
        message = next(iter(form.errors.values()))[0]
    return _mine({action_id: message}), 400


def _action_or_404(action_id: int) -> Action:
    action = db.session.get(Action, action_id)
    if action is None or not action.can_view(current_user):
        abort(404)
    return action


@bp.route("/<int:action_id>", methods=["GET", "POST"])
def show(action_id: int):
    action = _action_or_404(action_id)
    form = UpdateForm()
    if request.method == "GET":
        form.version.data = str(action.version)
    messages: list[str] = []
    if request.method == "POST":
        if not action.can_update(current_user):
            abort(404 if not current_user.is_authenticated else 403)
        if form.validate_on_submit():
            try:
                version = expected_version(form.version.data)
                services.post_update(
                    action,
                    current_user,
                    form.note.data,
                    form.status.data,
                    form.rag.data,
                    expected_version=version,
                )
            except (ValidationError, Conflict, Forbidden) as exc:
                db.session.rollback()
                action = _action_or_404(action_id)
                messages = (
                    apply_service_errors(form, exc)
                    if isinstance(exc, ValidationError)
                    else [exc.detail]
                )
                form.version.data = str(action.version)
            else:
                db.session.flush()
                flash("Update posted", "success")
                return redirect(url_for("actions.show", action_id=action.id))
    status = 400 if (form.errors or messages) else 200
    return render_template(
        "actions/show.html",
        action=action,
        form=form,
        messages=messages,
        can_update=action.can_update(current_user),
        can_correct=action.can_correct(current_user),
        history=services.action_history(action),
        correctable=services.CORRECTABLE,
    ), status


def _choices(form: ActionForm) -> Committee | None:
    """The committee choices, and owners grouped by the chosen committee (posted, or ?committee=
    from the search form); without one, only the people searched for."""
    form.committee_id.choices = [("", "Choose the committee")] + [
        (str(c.id), c.name) for c in db.session.scalars(select(Committee).order_by(Committee.name))
    ]
    if request.method == "GET" and request.args.get("committee", type=int):
        form.committee_id.data = str(request.args.get("committee", type=int))
    chosen = form.committee_id.data
    committee = db.session.get(Committee, int(chosen)) if str(chosen or "").isdigit() else None
    groups = committee_services.people_for_picker(
        committee,
        q=request.args.get("q"),
        keep=[form.owner_id.data] if form.owner_id.data else (),
    )
    form.owner_id.choices = picker_choices(groups, "Choose the owner")
    return committee


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    form = ActionForm()
    _choices(form)
    messages: list[str] = []
    if form.validate_on_submit():
        committee = db.session.get(Committee, int(form.committee_id.data))
        try:
            action = services.create_action(
                committee,
                form.title.data,
                form.owner_id.data,
                form.due_date.data,
                reference=form.reference.data,
                user=current_user,
            )
        except ValidationError as exc:
            db.session.rollback()
            _choices(form)
            messages = apply_service_errors(form, exc)
        else:
            db.session.flush()
            flash("Action added", "success")
            return redirect(url_for("actions.show", action_id=action.id))
    return render_template("actions/new.html", form=form, messages=messages), (
        400 if (form.errors or messages) else 200
    )


@bp.route("/<int:action_id>/correct", methods=["GET", "POST"])
@login_required
def correct(action_id: int):
    """Correct the action's title, owner, due date or reference; shown in its history."""
    action = _action_or_404(action_id)
    if not action.can_correct(current_user):
        abort(403)
    form = CorrectionForm(obj=action)
    _owner_choices(form, action)
    if request.method == "GET":
        form.version.data = str(action.version)
    messages: list[str] = []
    status = 200
    if form.validate_on_submit():
        before = action.version
        try:
            services.correct_action(
                action,
                current_user,
                expected_version(form.version.data),
                title=form.title.data,
                owner_id=form.owner_id.data,
                due_date=form.due_date.data,
                reference=form.reference.data,
            )
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            action = _action_or_404(action_id)
            if isinstance(exc, ValidationError):
                messages = apply_service_errors(form, exc)
            else:
                # Show the current version's values with the clash, to be corrected again.
                messages, status = [exc.detail], 409
                form = CorrectionForm(formdata=None, obj=action)
                _owner_choices(form, action)
                form.version.data = str(action.version)
        else:
            db.session.flush()
            changed = action.version != before
            flash("Action corrected" if changed else "Nothing to correct: no change", "success")
            return redirect(url_for("actions.show", action_id=action.id))
    if status == 200 and (form.errors or messages):
        status = 400
    return render_template(
        "actions/correct.html", action=action, form=form, messages=messages
    ), status


def _owner_choices(form: CorrectionForm, action: Action) -> None:
    # The action's owner stays on offer even after leaving the committee.
    groups = committee_services.people_for_picker(
        action.committee,
        q=request.args.get("q"),
        keep=[k for k in (form.owner_id.data, action.owner_id) if k],
    )
    form.owner_id.choices = picker_choices(groups, "Choose the owner")


def _posted_columns(form) -> dict[str, str] | None:
    """The preview's mapping form: heading-N (the file's heading) and column-N (its field)."""
    columns = {}
    for key, heading in form.items():
        if key.startswith("heading-") and key[8:].isdigit():
            columns[heading] = form.get(f"column-{key[8:]}", plan.IGNORE)
    return columns or None


@bp.route("/import/<slug>", methods=["GET", "POST"])
@staff_required
def import_plan(slug: str):
    """Preview an action plan (CSV or XLSX), say what its other headings are, and import it."""
    committee = db.session.scalar(select(Committee).where(Committee.slug == slug)) or abort(404)
    form = PlanImportForm()
    preview, messages, token = None, [], None
    if form.validate_on_submit():
        upload, columns = None, None
        try:
            if request.files.get("file") or not form.upload_token.data:
                upload = plan.upload_from(request.files.get("file"))
            else:
                upload = plan.kept_upload(form.upload_token.data, committee)
                columns = _posted_columns(request.form)
            if form.confirm.data and form.upload_token.data:
                result = plan.import_plan(committee, upload, current_user, columns)
                db.session.flush()
                flash(
                    f"Imported the plan: {len(result.created)} actions added, "
                    f"{len(result.updated)} updated, {len(result.left)} left as they were; "
                    f"{len(result.people_added)} people added",
                    "success",
                )
                return redirect(url_for("actions.index", committee=slug))
            preview = plan.preview_plan(committee, upload, columns)
            token = plan.keep_upload(upload, committee)
        except plan.PlanFileError as exc:
            form.file.errors = [str(exc)]
        except ValidationError as exc:
            db.session.rollback()
            messages = [exc.detail]
            if upload is not None:
                try:
                    preview = plan.preview_plan(committee, upload, columns)
                except ValidationError:
                    preview = plan.preview_plan(committee, upload)
                token = plan.keep_upload(upload, committee)
    failed = form.errors or messages or (preview and not preview.ok)
    return render_template(
        "actions/import.html",
        committee=committee,
        form=form,
        preview=preview,
        messages=messages,
        token=token,
        fields=plan.FIELDS,
        ignore=plan.IGNORE,
    ), (400 if failed else 200)
