"""The page an action's owner reaches from a message: report progress (status, RAG, note)
without signing in, by their personal link; and a clerk's page to revoke an action's
links."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField

from app.actions import services as actions
from app.actions.forms import UpdateForm
from app.actions.models import Action
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden, ValidationError
from app.core.forms import apply_service_errors, expected_version
from app.core.permissions import is_staff
from app.extensions import db
from app.notifications import owner_links
from app.notifications.owner_links import Refusal
from app.notifications.services import PersonReader

bp = Blueprint("owner_update", __name__, url_prefix="/owner-update")

REFUSALS = {
    Refusal.INVALID: (
        404,
        "This link does not work",
        "This progress link is not valid. Check that you copied the whole link from the "
        "message, or ask the committee's clerk for a new one.",
    ),
    Refusal.EXPIRED: (
        410,
        "This link has expired",
        "Progress links work for a limited time, and this one has expired. The next "
        "reminder or weekly digest brings a new one, or ask the committee's clerk.",
    ),
    Refusal.REVOKED: (
        410,
        "This link has been withdrawn",
        "This progress link no longer works: the clerk withdrew it, or the action has passed "
        "to someone else. Ask the committee's clerk if you still need to report progress.",
    ),
}


def _private(response):
    # The token is in the address: keep it out of caches and out of the Referer header.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/<int:action_id>/<token>", methods=["GET", "POST"])
def update(action_id: int, token: str):
    opened = owner_links.open_link(action_id, token)
    if opened.refusal is not None:
        status, title, text = REFUSALS[opened.refusal]
        page = render_template("notifications/owner_link_refused.html", title=title, text=text)
        return _private(make_response(page, status))
    action, row = opened.action, opened.link
    owner = PersonReader(row.person_id)
    form = UpdateForm()
    messages: list[str] = []
    if request.method == "GET":
        form.version.data = str(action.version)
    elif form.validate_on_submit():
        try:
            actions.post_update(
                action,
                owner,
                form.note.data,
                form.status.data,
                form.rag.data,
                expected_version=expected_version(form.version.data),
            )
        except (ValidationError, Conflict, Forbidden) as exc:
            db.session.rollback()
            action = db.session.get(Action, action_id)
            messages = (
                apply_service_errors(form, exc)
                if isinstance(exc, ValidationError)
                else [exc.detail]
            )
            form.version.data = str(action.version)
        else:
            row.used_at = utcnow()
            flash("Thank you: your update is recorded", "success")
            return _private(redirect(url_for(".update", action_id=action_id, token=token)))
    status = 400 if (form.errors or messages) else 200
    page = render_template(
        "notifications/owner_update.html",
        action=action,
        owner=action.owner,
        form=form,
        messages=messages,
        history=actions.action_history(action),
        correctable=actions.CORRECTABLE,
    )
    return _private(make_response(page, status))


class RevokeForm(FlaskForm):
    submit = SubmitField("Withdraw these links", widget=GovSubmitInput())


@bp.route("/actions/<int:action_id>/links", methods=["GET", "POST"])
def links(action_id: int):
    """A clerk withdraws every progress link sent for an action (a message sent to the wrong
    address, say)."""
    if not is_staff(current_user):
        abort(404 if not current_user.is_authenticated else 403)
    action = db.session.get(Action, action_id) or abort(404)
    form = RevokeForm()
    if form.validate_on_submit():
        count = owner_links.revoke_links(action, current_user)
        flash(f"{count} link{'' if count == 1 else 's'} withdrawn", "success")
        return redirect(url_for(".links", action_id=action.id))
    status = 400 if form.errors else 200
    page = render_template(
        "notifications/owner_links.html",
        action=action,
        form=form,
        live=owner_links.live_links(action),
    )
    return make_response(page, status)
