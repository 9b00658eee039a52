from __future__ import annotations

import functools

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import services
from app.auth.forms import AcceptInvitationForm, PasswordForm, RoleForm, SignInForm, TokenForm
from app.auth.services import Throttled, authenticate
from app.core.errors import ValidationError
from app.core.forms import apply_service_errors
from app.core.permissions import Role, is_admin
from app.core.text import safe_next
from app.extensions import db, login_manager
from app.notifications import invitations as _invitation_mail  # noqa: F401  (the receivers)

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


# --- accounts, for admins ---------------------------------------------------------------


def admin_required(view):
    """Signed-out visitors are asked to sign in; anyone else but an admin gets a 404, as for
    the staff pages."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not is_admin(current_user):
            abort(404)
        return view(*args, **kwargs)

    return wrapper


@bp.route("/admin/users")
@admin_required
def users():
    return render_template("auth/users.html", users=services.users_list())


def _user_page(user, role_form=None, messages=(), status=200):
    if role_form is None:
        role_form = RoleForm(formdata=None, role=user.role.value)
    role_form.role.choices = [(r.value, r.value.capitalize()) for r in Role]
    return render_template(
        "auth/user.html",
        account=user,
        role_form=role_form,
        messages=list(messages),
        tokens=services.tokens_of(user),
    ), status


@bp.route("/admin/users/<int:user_id>")
@admin_required
def user(user_id: int):
    return _user_page(services.user_or_404(user_id))


@bp.route("/admin/users/<int:user_id>/role", methods=["POST"])
@admin_required
def change_role(user_id: int):
    account = services.user_or_404(user_id)
    form = RoleForm()
    form.role.choices = [(r.value, r.value.capitalize()) for r in Role]
    if form.validate_on_submit():
        try:
            services.change_role(account, form.role.data, by=current_user)
        except ValidationError as exc:
            return _user_page(account, form, apply_service_errors(form, exc), 400)
        flash(f"{account.email} is now {account.role.value}", "success")
        return redirect(url_for("auth.user", user_id=account.id))
    return _user_page(account, form, status=400)


@bp.route("/admin/users/<int:user_id>/deactivate", methods=["POST"])
@admin_required
def deactivate(user_id: int):
    account = services.user_or_404(user_id)
    try:
        services.deactivate_user(account, by=current_user)
    except ValidationError as exc:
        db.session.rollback()
        return _user_page(account, messages=[exc.detail], status=400)
    flash(
        f"{account.email} is deactivated: signed out everywhere, and its API tokens revoked",
        "success",
    )
    return redirect(url_for("auth.user", user_id=account.id))


@bp.route("/admin/users/<int:user_id>/reactivate", methods=["POST"])
@admin_required
def reactivate(user_id: int):
    account = services.user_or_404(user_id)
    services.reactivate_user(account)
    flash(f"{account.email} can sign in again", "success")
    return redirect(url_for("auth.user", user_id=account.id))


# --- invitations ------------------------------------------------------------------------


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """Where an invitation's link leads: choose a password, and the account is made. A link
    that cannot be used gets one answer, whatever the reason (InvitationRefused)."""
    try:
        invitation = services.open_invitation(token)
    except services.InvitationRefused:
        return _refused()
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            services.accept_invitation(token, form.password.data)
        except services.InvitationRefused:
            return _refused()
        except ValidationError as exc:
            apply_service_errors(form, exc)
            form.password.errors = [exc.detail]
        else:
            if current_user.is_authenticated:
                logout_user()
            flash("Your account is ready: sign in with your e-mail address and password", "success")
            return redirect(url_for("auth.login"))
    status = 400 if form.errors else 200
    return render_template("auth/invitation.html", form=form, invitation=invitation), status


def _refused():
    return render_template(
        "auth/invitation_refused.html", message=services.InvitationRefused.message
    ), 410
