"""The GET endpoints of the API contract (../shared/API.md)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask_smorest import Blueprint, abort
from sqlalchemy import func, select

from app.api import schemas
from app.api.auth import api_user, guard_request, require_user
from app.api.serializers import (
    agenda_item_out,
    committee_out,
    meeting_out,
    membership_out,
    person_out,
)
from app.committees.models import Committee, Membership
from app.extensions import db
from app.meetings.models import Meeting
from app.people.models import Person

committees_bp = Blueprint(
    "api_committees", __name__, url_prefix="/api/v1", description="Committees and their memberships"
)
people_bp = Blueprint("api_people", __name__, url_prefix="/api/v1", description="People")
meetings_bp = Blueprint(
    "api_meetings", __name__, url_prefix="/api/v1", description="Meetings and their agendas"
)
me_bp = Blueprint("api_me", __name__, url_prefix="/api/v1", description="The token's user")

BLUEPRINTS = (committees_bp, people_bp, meetings_bp, me_bp)
for _blueprint in BLUEPRINTS:
    _blueprint.before_request(guard_request)


def paginate(stmt, args, render) -> dict:
    page, per_page = args["page"], args["per_page"]
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [render(r) for r in rows], "page": page, "per_page": per_page, "total": total}


def committee_or_404(slug: str) -> Committee:
    committee = db.session.scalar(select(Committee).where(Committee.slug == slug))
    if committee is None:
        abort(404, message="No committee with that slug.")
    return committee


@committees_bp.route("/committees")
@committees_bp.arguments(schemas.PageQuery, location="query")
@committees_bp.response(200, schemas.CommitteePage)
def list_committees(args):
    """Committees, by name."""
    return paginate(select(Committee).order_by(Committee.name), args, committee_out)


@committees_bp.route("/committees/<slug>")
@committees_bp.response(200, schemas.CommitteeSchema)
def get_committee(slug):
    """One committee."""
    return committee_out(committee_or_404(slug))


@committees_bp.route("/committees/<slug>/memberships")
@committees_bp.arguments(schemas.PageQuery, location="query")
@committees_bp.response(200, schemas.MembershipPage)
def list_memberships(args, slug):
    """A committee's memberships, past and present."""
    committee = committee_or_404(slug)
    stmt = (
        select(Membership)
        .where(Membership.committee_id == committee.id)
        .order_by(Membership.start_date, Membership.id)
    )
    return paginate(stmt, args, membership_out)


@people_bp.route("/people")
@people_bp.arguments(schemas.PageQuery, location="query")
@people_bp.response(200, schemas.PersonPage)
def list_people(args):
    """People; e-mail addresses only for staff tokens."""
    user = api_user()
    return paginate(
        select(Person).order_by(Person.name, Person.id), args, lambda p: person_out(p, user)
    )


@people_bp.route("/people/<int:person_id>")
@people_bp.response(200, schemas.PersonSchema)
def get_person(person_id):
    """One person."""
    person = db.session.get(Person, person_id)
    if person is None:
        abort(404, message="No person with that id.")
    return person_out(person, api_user())


def parse_when(value: str | None, field: str, tz: ZoneInfo, end: bool = False):
    """An ISO 8601 date or date-time; a naive value means the given timezone."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time.max if end else time.min, tzinfo=tz)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        abort(
            422,
            message=f"'{field}' is not an ISO 8601 date or time.",
            errors={field: ["Use a date like 2013-07-17 or a time like 2013-07-17T14:00."]},
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


@meetings_bp.route("/meetings")
@meetings_bp.arguments(schemas.MeetingQuery, location="query")
@meetings_bp.response(200, schemas.MeetingPage)
def list_meetings(args):
    """Meetings in time order; filter by committee slug and a from/to window."""
    stmt = select(Meeting).order_by(Meeting.starts_at, Meeting.id)
    tz = ZoneInfo("Europe/London")
    if args.get("committee"):
        committee = committee_or_404(args["committee"])
        tz = ZoneInfo(committee.timezone)
        stmt = stmt.where(Meeting.committee_id == committee.id)
    start = parse_when(args.get("from_"), "from", tz)
    end = parse_when(args.get("to"), "to", tz, end=True)
    if start:
        stmt = stmt.where(Meeting.starts_at >= start)
    if end:
        stmt = stmt.where(Meeting.starts_at <= end)
    return paginate(stmt, args, meeting_out)


def meeting_or_404(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not meeting.can_view(api_user()):
        abort(404, message="No meeting with that id.")
    return meeting


@meetings_bp.route("/meetings/<int:meeting_id>")
@meetings_bp.response(200, schemas.MeetingSchema)
def get_meeting(meeting_id):
    """One meeting."""
    return meeting_out(meeting_or_404(meeting_id))


@meetings_bp.route("/meetings/<int:meeting_id>/agenda-items")
@meetings_bp.response(200, schemas.AgendaItemList)
def list_agenda_items(meeting_id):
    """The agenda in order with computed numbers. A draft agenda is 404 to those who may not
    see it, as if it did not exist."""
    meeting = meeting_or_404(meeting_id)
    user = api_user()
    if not meeting.can_see_agenda(user):
        abort(404, message="This meeting has no published agenda.")
    return {
        "items": [agenda_item_out(item, number, user) for item, number in meeting.numbered_items()]
    }


@me_bp.route("/me")
@me_bp.response(200, schemas.MeSchema)
def me():
    """The account the token belongs to."""
    from app.ical.services import feed_urls

    user = require_user()
    person = user.person
    out = {
        "user": {"id": user.id, "email": user.email, "name": user.name, "role": user.role.value},
        "person": {"id": person.id, "name": person.display_name} if person else None,
        **feed_urls(user),
    }
    return out
