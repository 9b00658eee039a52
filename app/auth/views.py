from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import services
from app.auth.forms import PasswordForm, SignInForm, TokenForm
from app.auth.services import Throttled, authenticate
from app.core.errors import ValidationError
from app.core.text import safe_next
from app.extensions import db

bp = Blueprint("auth", __name__)

SIGN_IN_FAILED = "Enter a correct email address and password"
THROTTLED = (
    "There have been too many attempts to sign in. Wait {wait} and try again, or ask "
    "the clerk to reset your password."
)


def _wait_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{-(-seconds // 60)} minutes"


def _safe_next(target: str | None) -> str:
    return safe_next(target, url_for("main.home"))


@bp.route("/sign-in", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = SignInForm()
    failed, message, status, retry_after = False, SIGN_IN_FAILED, 200, None
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data, request.remote_addr)
        except Throttled as exc:
            retry_after = max(1, int(exc.retry_after.total_seconds()))
            user, status = None, 429
            message = THROTTLED.format(wait=_wait_words(retry_after))
        if user is not None:
            login_user(user)
            flash(f"Signed in as {user.name}", "success")
            return redirect(_safe_next(request.args.get("next")))
        failed = True
    if status == 200 and (failed or form.errors):
        status = 400
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return (
        render_template("auth/login.html", form=form, failed=failed, failed_message=message),
        status,
        headers,
    )


@bp.route("/sign-out", methods=["POST"])
@login_required
def logout():
    # Server-side: the cookie just cleared, any copy of it and any remember-me cookie stop
    # working too (the user loader compares the generation).
    current_user.end_sessions()
    logout_user()
    flash("You have signed out", "success")
    return redirect(url_for("main.home"))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = TokenForm()
    plain = None
    if form.validate_on_submit():
        try:
            plain = services.issue_token(
                current_user, form.name.data or None, form.expires_in_days.data
            )
        except ValidationError as exc:
            db.session.rollback()
            field = getattr(form, next(iter(exc.errors), "name"), form.name)
            field.errors = [exc.detail]
        else:
            form = TokenForm(formdata=None)
    status = 400 if form.errors else 200
    return render_template(
        "auth/tokens.html", form=form, tokens=services.tokens_of(current_user), plain=plain
    ), status


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke_token(token_id: int):
    token = services.token_of(current_user, token_id)
    if request.method == "POST":
        services.revoke_token(token.id, by=current_user)
        flash(f"Token {token.name or token.id} has been revoked: it no longer works", "success")
        return redirect(url_for("auth.tokens"))
    return render_template("auth/revoke_token.html", token=token)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors = ["Your current password is not correct"]
        else:
            try:
                services.set_password(current_user, form.new.data)
            except ValidationError as exc:
                db.session.rollback()
                form.new.errors = [exc.detail]
            else:
                # This session carries the new generation; every other one has ended.
                login_user(current_user._get_current_object())
                flash("Your password has been changed and you are signed out elsewhere", "success")
                return redirect(url_for("auth.tokens"))
    status = 400 if form.errors else 200
    return render_template("auth/password.html", form=form), status
