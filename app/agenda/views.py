from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from app.agenda import documents, pdfsafety, revisions, services
from app.agenda.documents import add_document
from app.agenda.forms import DocumentForm, ItemForm
from app.agenda.models import AgendaItem, Document, Visibility
from app.api.auth import bearer_reader
from app.committees import services as committee_services
from app.core.access import staff_required
from app.core.errors import Conflict, ValidationError
from app.core.forms import apply_service_errors, expected_version, picker_choices
from app.extensions import db
from app.meetings.models import Meeting

bp = Blueprint("agenda", __name__)


@bp.route("/documents/<int:document_id>/<path:filename>")
@bearer_reader
def document(document_id: int, filename: str):
    """One paper. Anyone who may not see it gets the same 404 as for a paper that does not
    exist, so its existence is not revealed."""
    try:
        revision = revisions.parse_revision(request.args.get("revision"))
    except revisions.NoSuchRevision:
        abort(404)
    # As published, for all but staff: a paper added since is not out yet, and one removed
    # since is still part of the agenda the public reads.
    doc = revisions.published_paper(document_id, current_user, revision)
    if doc is None or not doc.can_view(current_user):
        abort(404)
    # The checked copy (active content removed), made now for a paper stored before those.
    try:
        path = pdfsafety.safe_path(doc.sha256, doc.page_count)
    except pdfsafety.Unusable as exc:
        current_app.logger.error("document %s cannot be served: %s", doc.id, exc)
        raise pdfsafety.PaperUnavailable(
            "This paper cannot be shown just now; the clerk has been told."
        ) from None
    response = send_file(
        path,
        mimetype="application/pdf",
        download_name=doc.filename,
        as_attachment=False,
        conditional=True,
        etag=doc.sha256,
        max_age=0,
    )
    # Restricted papers must not linger in shared caches.
    response.headers["Cache-Control"] = "private, no-cache" if doc.restricted else "no-cache"
    # Belt and braces over the cleaning: a browser that renders the file itself runs nothing
    # from it and never takes it for anything but a PDF.
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- clerks: items and papers ------------------------------------------------------------


def _item_or_404(item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None:
        abort(404)
    return item


def _choices(form: ItemForm, meeting: Meeting, parent: AgendaItem | None = None) -> None:
    if parent is not None and parent.restricted:
        # A sub-item is never more public than its parent (the service refuses it too).
        floor = parent.effective_visibility.rank
        form.visibility.choices = [
            c for c in form.visibility.choices if Visibility(c[0]).rank >= floor
        ]
    sections = meeting.committee.sections or []
    form.section.choices = [("", "No section")] + [(s, s) for s in sections]
    groups = committee_services.people_for_picker(
        meeting.committee,
        on=meeting.local_start.date(),
        q=request.args.get("q"),
        keep=[form.presenter_id.data] if form.presenter_id.data else (),
        also=[a.person for a in meeting.attendance],
    )
    form.presenter_id.choices = picker_choices(groups, "Nobody in particular")


def _render_item_form(form, meeting, item, parent, messages, heading):
    return render_template(
        "agenda/item_form.html",
        form=form,
        meeting=meeting,
        item=item,
        parent=parent,
        messages=messages,
        heading=heading,
    ), (409 if form.version.errors else 400 if (form.errors or messages) else 200)


@bp.route("/meetings/<int:meeting_id>/agenda/items/new", methods=["GET", "POST"])
@staff_required
def new_item(meeting_id: int):
    meeting = db.session.get(Meeting, meeting_id) or abort(404)
    parent = None
    parent_id = request.args.get("parent", type=int)
    if parent_id:
        parent = _item_or_404(parent_id)
        if parent.meeting_id != meeting.id:
            abort(404)
    form = ItemForm()
    _choices(form, meeting, parent)
    if request.method == "GET" and parent is not None:
        form.section.data = parent.section or ""
        if parent.restricted:  # offered as restricted as its parent, with its grounds
            form.visibility.data = parent.effective_visibility.value
            form.exempt_paragraphs.data = [str(p) for p in parent.exempt_paragraphs]
            form.public_interest_reason.data = parent.public_interest_reason
    messages: list[str] = []
    if form.validate_on_submit():
        try:
            item = services.add_item(
                meeting, parent=parent, urgent=form.urgent.data, **form.service_fields()
            )
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            _choices(form, meeting, parent)
            messages = apply_service_errors(form, exc)
        else:
            db.session.flush()
            flash(f"Item {item.number} added: {item.title}", "success")
            return redirect(
                url_for("meetings.agenda", meeting_id=meeting.id, _anchor=f"item-{item.id}")
            )
    return _render_item_form(
        form, meeting, None, parent, messages, "Add a sub-item" if parent else "Add an item"
    )


@bp.route("/agenda-items/<int:item_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_item(item_id: int):
    item = _item_or_404(item_id)
    meeting = item.meeting
    form = ItemForm(obj=item)
    _choices(form, meeting, item.parent)
    if request.method == "GET":
        form.kind.data = item.kind.value
        form.visibility.data = item.visibility.value
        form.section.data = item.section or ""
        form.presenter_id.data = str(item.presenter_id) if item.presenter_id else ""
        form.exempt_paragraphs.data = [str(p) for p in item.exempt_paragraphs]
        form.version.data = str(item.version)
    messages: list[str] = []
    if form.validate_on_submit():
        try:
            services.update_item(
                item,
                expected_version=expected_version(form.version.data),
                urgent=bool(form.urgent.data),
                **form.service_fields(),
            )
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            item = _item_or_404(item_id)
            _choices(form, item.meeting, item.parent)
            messages = apply_service_errors(form, exc)
            if form.version.errors:  # a hidden field: say it where the clerk will see it
                messages.insert(0, exc.detail)
        else:
            db.session.flush()
            flash(f"Item {item.number} saved", "success")
            return redirect(
                url_for("meetings.agenda", meeting_id=meeting.id, _anchor=f"item-{item.id}")
            )
    return _render_item_form(
        form, item.meeting, item, item.parent, messages, f"Edit item {item.number}"
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@bp.route("/agenda-items/<int:item_id>/move", methods=["POST"])
@staff_required
def move_item(item_id: int):
    """Up and down buttons: ordering without JavaScript."""
    item = _item_or_404(item_id)
    offset = -1 if request.form.get("direction") == "up" else 1
    try:
        services.move_item(item, offset)
    except Conflict as exc:
        db.session.rollback()
        flash(exc.detail, "error")
        return redirect(url_for("meetings.agenda", meeting_id=item.meeting_id))
    db.session.flush()
    flash(
        f"Moved {item.title} {'up' if offset < 0 else 'down'}: it is now item {item.number}",
        "success",
    )
    return redirect(
        url_for("meetings.agenda", meeting_id=item.meeting_id, _anchor=f"item-{item.id}")
    )


@bp.route("/meetings/<int:meeting_id>/agenda/order", methods=["POST"])
@staff_required
def reorder(meeting_id: int):
    """Drag and drop sends the whole order of one level of the agenda."""
    meeting = db.session.get(Meeting, meeting_id) or abort(404)
    ids = [_int(v) for v in request.form.getlist("item_id")]
    parent_id = _int(request.form.get("parent_id"))
    try:
        services.reorder(meeting, [i for i in ids if i is not None], parent_id)
    except Conflict as exc:
        db.session.rollback()
        flash(exc.detail, "error")
    else:
        db.session.flush()
        flash("Agenda reordered", "success")
    return redirect(url_for("meetings.agenda", meeting_id=meeting.id))


@bp.route("/agenda-items/<int:item_id>/delete", methods=["GET", "POST"])
@staff_required
def delete_item(item_id: int):
    item = _item_or_404(item_id)
    meeting = item.meeting
    if request.method == "POST":
        title = item.title
        try:
            services.delete_item(item)
        except Conflict as exc:
            db.session.rollback()
            item = _item_or_404(item_id)
            blockers = exc.errors.get("item") or [exc.detail]
            return render_template(
                "agenda/delete.html", item=item, meeting=item.meeting, blockers=blockers
            ), 409
        db.session.flush()
        flash(f"Removed {title}", "success")
        return redirect(url_for("meetings.agenda", meeting_id=meeting.id))
    return render_template(
        "agenda/delete.html", item=item, meeting=meeting, blockers=services.removal_blockers(item)
    )


@bp.route("/documents/<int:document_id>/remove", methods=["GET", "POST"])
@staff_required
def remove_document(document_id: int):
    doc = db.session.get(Document, document_id) or abort(404)
    item = doc.item
    message = None
    if request.method == "POST":
        title = doc.title
        try:
            documents.remove_document(doc, user=current_user)
        except Conflict as exc:
            db.session.rollback()
            doc = db.session.get(Document, document_id) or abort(404)
            item, message = doc.item, exc.detail
        else:
            db.session.flush()
            flash(f"Removed the paper {title} from item {item.number}", "success")
            return redirect(
                url_for("meetings.agenda", meeting_id=item.meeting_id, _anchor=f"item-{item.id}")
            )
    else:
        message = documents.removal_refusal(doc)
    return render_template(
        "agenda/document_remove.html",
        document=doc,
        item=item,
        meeting=item.meeting,
        message=message,
    ), (409 if message and request.method == "POST" else 200)


@bp.route("/agenda-items/<int:item_id>/documents/new", methods=["GET", "POST"])
@staff_required
def new_document(item_id: int):
    item = _item_or_404(item_id)
    form = DocumentForm()
    messages: list[str] = []
    if form.validate_on_submit():
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            form.file.errors = ["Choose a PDF file"]
        else:
            try:
                document = add_document(
                    item,
                    upload.stream,
                    upload.filename,
                    form.title.data,
                    form.visibility.data,
                    [int(p) for p in form.exempt_paragraphs.data or []],
                    form.public_interest_reason.data,
                    user=current_user,
                )
            except (ValidationError, Conflict) as exc:
                db.session.rollback()
                messages = apply_service_errors(form, exc)
            else:
                db.session.flush()
                flash(f"Uploaded {document.title} ({document.page_count} pages)", "success")
                return redirect(
                    url_for(
                        "meetings.agenda", meeting_id=item.meeting_id, _anchor=f"item-{item.id}"
                    )
                )
    return render_template(
        "agenda/document_form.html", form=form, item=item, meeting=item.meeting, messages=messages
    ), (400 if (form.errors or messages) else 200)
