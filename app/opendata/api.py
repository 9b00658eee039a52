"""Open data through the API: a meeting as an Open Civic Data event, and Popolo."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, fields
from sqlalchemy import select

from app.api import api_blueprint
from app.api.auth import api_user
from app.committees.api import committee_or_404
from app.committees.models import Committee
from app.core.permissions import is_staff
from app.extensions import db
from app.meetings.api import meeting_or_404
from app.minutes.queries import decisions_query
from app.opendata.builders import meeting_to_ocd_event, popolo_export

opendata_bp = api_blueprint(
    __name__, "api_opendata", "Open data: Open Civic Data events and Popolo"
)


class OpenDataSchema(Schema):
    """A document in an open data format (Open Civic Data, Popolo), passed through as is."""

    class Meta:
        unknown = "include"

    def dump(self, obj, *, many=None):  # the builders already produce the exact shape
        return obj


class PopoloQuery(Schema):
    committee = fields.String(metadata={"description": "Limit to one committee (slug)"})


@opendata_bp.route("/meetings/<int:meeting_id>/ocd-event")
@opendata_bp.response(200, OpenDataSchema)
def ocd_event(meeting_id):
    """The meeting as an Open Civic Data Event; exempt flags in `extras`, no exempt content
    for those who may not see it."""
    meeting = meeting_or_404(meeting_id)
    return meeting_to_ocd_event(meeting, api_user(), request.host_url)


@opendata_bp.route("/popolo")
@opendata_bp.arguments(PopoloQuery, location="query")
@opendata_bp.response(200, OpenDataSchema)
def popolo(args):
    """Organisations, people, memberships, motions and vote events (Popolo)."""
    user = api_user()
    committees = db.session.scalars(select(Committee).order_by(Committee.name)).all()
    if args.get("committee"):
        committees = [committee_or_404(args["committee"])]
    stmt = decisions_query(committee_id=committees[0].id if args.get("committee") else None)
    resolutions = db.session.scalars(stmt.limit(5000)).all()
    return popolo_export(committees, resolutions, user, include_email=is_staff(user))
