from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth.forms import SignInForm
from app.auth.services import Throttled, authenticate
from app.core.text import safe_next
from app.extensions import db

bp = Blueprint("auth", __name__)

SIGN_IN_FAILED = "Enter a correct email address and password"
THROTTLED = (
    "There have been too many attempts to sign in. Wait 15 minutes and try again, or ask "
    "the clerk to reset your password."
)


def _safe_next(target: str | None) -> str:
    return safe_next(target, url_for("main.home"))


@bp.route("/sign-in", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = SignInForm()
    failed, message, status = False, SIGN_IN_FAILED, 200
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data, request.remote_addr)
        except Throttled:
            user, message, status = None, THROTTLED, 429
        db.session.commit()  # keeps the audit row of a failure too
        if user is not None:
            login_user(user)
            flash(f"Signed in as {user.name}", "success")
            return redirect(_safe_next(request.args.get("next")))
        failed = True
    if status == 200 and (failed or form.errors):
        status = 400
    return render_template(
        "auth/login.html", form=form, failed=failed, failed_message=message
    ), status


@bp.route("/sign-out", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("You have signed out", "success")
    return redirect(url_for("main.home"))
