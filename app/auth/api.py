"""The token's own account through the API."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.api import api_blueprint
from app.api.auth import require_user
from app.api.schemas import PersonRef, derived, one_of
from app.core.permissions import Role

me_bp = api_blueprint(__name__, "api_me", "The token's user")


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
