"""The token's own account, and the accounts admins manage, through the API."""

from __future__ import annotations

from flask_smorest import abort
from marshmallow import Schema, fields
from sqlalchemy import select

from app.api import api_blueprint, error_response
from app.api.auth import require_user
from app.api.schemas import (
    Boolean,
    PageQuery,
    PatchSchema,
    PersonRef,
    derived,
    found_or_404,
    one_of,
    page_of,
    paginate,
)
from app.auth import services
from app.auth.models import User
from app.core.permissions import Role, is_admin
from app.extensions import db

me_bp = api_blueprint(__name__, "api_me", "The token's user")
users_bp = api_blueprint(__name__, "api_users", "Accounts (admins)")


class UserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String(validate=one_of(Role))


def feed_url(name: str):
    def url(user):
        from app.ical.services import feed_urls

        return feed_urls(user)[name]

    return url


class MeSchema(Schema):
    user = derived(fields.Nested(UserSchema), lambda user: user)
    person = fields.Nested(PersonRef, allow_none=True)
    calendar_feed_url = derived(fields.String(allow_none=True), feed_url("calendar_feed_url"))
    actions_feed_url = derived(fields.String(allow_none=True), feed_url("actions_feed_url"))


@me_bp.route("/me")
@me_bp.response(200, MeSchema)
def me():
    """The account the token belongs to."""
    return require_user()


# --- accounts (admins) ------------------------------------------------------------------------


class AccountSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String(validate=one_of(Role))
    active = fields.Boolean()
    person = fields.Nested(PersonRef, allow_none=True)
    created_at = fields.DateTime()
    last_login_at = fields.DateTime(allow_none=True)


AccountPage = page_of(AccountSchema, "AccountPage")


class AccountPatch(PatchSchema):
    role = fields.String(validate=one_of(Role))
    active = Boolean(
        metadata={
            "description": "false ends the account's sessions and revokes its API tokens; "
            "true lets it sign in again (revoked tokens stay revoked)"
        }
    )


def require_admin():
    user = require_user()
    if not is_admin(user):
        abort(403, message="This needs an administrator's token.")
    return user


# A read that only admins may make: the one GET whose token may lack the right.
ADMIN_ONLY = {"responses": {"403": error_response("403")}}


@users_bp.route("/users")
@users_bp.arguments(PageQuery, location="query")
@users_bp.response(200, AccountPage)
@users_bp.doc(**ADMIN_ONLY)
def list_users(args):
    """Every account, active first, by e-mail address (admins)."""
    require_admin()
    return paginate(select(User).order_by(User.active.desc(), User.email, User.id), args)


@users_bp.route("/users/<int:user_id>", methods=["PATCH"])
@users_bp.arguments(AccountPatch)
@users_bp.response(200, AccountSchema)
def update_user(body, user_id):
    """Change an account's role, or deactivate or reactivate it (admins), as the Accounts
    pages do; audited. Nobody may change their own account here, nor leave the site without
    an active admin (422)."""
    admin = require_admin()
    account = found_or_404(User, user_id, "account")
    if "role" in body:
        services.change_role(account, body["role"], by=admin)
    if body.get("active") is False:
        services.deactivate_user(account, by=admin)
    elif body.get("active") is True:
        services.reactivate_user(account)
    db.session.flush()
    return account
