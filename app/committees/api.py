"""Committees, their memberships and people, through the API."""

from __future__ import annotations

from flask import url_for
from flask_smorest import abort
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api import api_blueprint
from app.api.auth import api_user, require_staff
from app.api.schemas import (
    MAX_ID,
    TEMPLATE_KINDS,
    Boolean,
    CursorPageQuery,
    Id,
    PageQuery,
    PatchSchema,
    PersonRef,
    cursor_list,
    cursor_page_of,
    derived,
    found_or_404,
    list_endpoint,
    one_of,
    page_of,
    paginate,
)
from app.auth import services as auth_services
from app.committees import services as committee_services
from app.committees.models import Committee, Membership, MembershipRole, Regime
from app.core.permissions import Role, is_staff
from app.extensions import db
from app.people.models import Person
from app.people.queries import PEOPLE_ORDER, people_query

committees_bp = api_blueprint(__name__, "api_committees", "Committees and their memberships")
people_bp = api_blueprint(__name__, "api_people", "People")


def committee_or_404(slug: str) -> Committee:
    committee = db.session.scalar(select(Committee).where(Committee.slug == slug))
    if committee is None:
        abort(404, message="No committee with that slug.")
    return committee


class TemplateItem(Schema):
    """One standard item a new agenda starts with."""

    kind = fields.String(required=True, validate=validate.OneOf(TEMPLATE_KINDS))
    title = fields.String(required=True, validate=validate.Length(min=1, max=500))
    section = fields.String(allow_none=True, validate=validate.Length(max=200))


# --- what is sent -----------------------------------------------------------------------------


class CommitteeSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    slug = fields.String()
    description = fields.String(allow_none=True)
    timezone = fields.String()
    regime = fields.String(validate=one_of(Regime))
    first_minute_number = fields.Integer()
    minute_prefix = fields.String(allow_none=True)
    quorum = derived(
        fields.String(allow_none=True),
        lambda c: str(c.quorum_count) if c.quorum_count else c.quorum_fraction,
    )
    default_venue = fields.String(allow_none=True)
    default_start_time = derived(
        fields.String(allow_none=True),
        lambda c: c.default_start_time.strftime("%H:%M") if c.default_start_time else None,
    )
    publish_draft_minutes = fields.Boolean()
    agenda_template = derived(
        fields.List(fields.Nested(TemplateItem)), lambda c: c.agenda_template or []
    )
    url = derived(
        fields.String(), lambda c: url_for("committees.show", slug=c.slug, _external=True)
    )


def email_shown(person: Person) -> str | None:
    """Addresses are for staff: anyone else reads null."""
    return person.email if is_staff(api_user()) else None


class PersonSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    honorific = fields.String(allow_none=True)
    job_title = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)
    email = derived(
        fields.String(allow_none=True, metadata={"description": "Only for staff tokens"}),
        email_shown,
    )
    version = fields.Integer(
        metadata={"description": "Send it back with a PATCH to be told of another's edit (409)"}
    )


class MembershipSchema(Schema):
    id = fields.Integer()
    person = fields.Nested(PersonRef)
    role = fields.String(validate=one_of(MembershipRole))
    organisation = fields.String(allow_none=True)
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)


CommitteePage = page_of(CommitteeSchema, "CommitteePage")
PersonPage = cursor_page_of(PersonSchema, "PersonPage")
MembershipPage = page_of(MembershipSchema, "MembershipPage")


# --- what is received -------------------------------------------------------------------------


class CommitteeIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    slug = fields.String(validate=validate.Length(max=200))
    description = fields.String(allow_none=True)
    timezone = fields.String(load_default="Europe/London")
    regime = fields.String(validate=one_of(Regime))
    first_minute_number = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    minute_prefix = fields.String(allow_none=True)
    quorum = fields.String(allow_none=True)
    default_venue = fields.String(allow_none=True)
    default_start_time = fields.String(allow_none=True)
    publish_draft_minutes = Boolean()
    sections = fields.List(fields.String())
    agenda_template = fields.List(
        fields.Nested(TemplateItem),
        validate=validate.Length(max=30, error="A template can hold at most {max} items."),
        metadata={"description": "The standard items new agendas start with, in order"},
    )
    clerk_name = fields.String(allow_none=True)
    clerk_email = fields.String(allow_none=True)
    clerk_phone = fields.String(allow_none=True)


class CommitteePatch(PatchSchema, CommitteeIn):
    name = fields.String(validate=validate.Length(min=1, max=200))
    timezone = fields.String()  # no default: a change of anything else must not reset it


class PersonIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    honorific = fields.String(allow_none=True)
    job_title = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


class PersonPatch(PatchSchema, PersonIn):
    """Send only what is to change; `version` (from GET) to be told of another's edit."""

    name = fields.String(validate=validate.Length(min=1, max=200))  # not required here
    version = fields.Integer(validate=validate.Range(min=0, max=MAX_ID))


class InvitationIn(Schema):
    role = fields.String(
        load_default=Role.MEMBER.value,
        validate=one_of(Role),
        metadata={"description": "Clerks invite members and viewers; admins anyone"},
    )


class InvitationSent(Schema):
    """The same whether or not the address has an account: someone who has one is sent a
    reminder of how to sign in instead of a link."""

    person = derived(fields.Nested(PersonRef), lambda sent: sent["person"])
    email = fields.String()
    role = fields.String(validate=one_of(Role))


class PersonQuery(CursorPageQuery):
    q = fields.String(
        validate=validate.Length(max=200),
        metadata={"description": "Words in the name, matched literally"},
    )


class MembershipIn(Schema):
    person_id = Id(required=True)
    role = fields.String(required=True, validate=one_of(MembershipRole))
    organisation = fields.String(allow_none=True)
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)


# --- committees -------------------------------------------------------------------------------


@committees_bp.route("/committees")
@list_endpoint(committees_bp, PageQuery, CommitteePage)
def list_committees(args):
    """Committees, by name."""
    return paginate(select(Committee).order_by(Committee.name), args)


@committees_bp.route("/committees", methods=["POST"])
@committees_bp.arguments(CommitteeIn)
@committees_bp.response(201, CommitteeSchema)
def create_committee(body):
    """Create a committee (clerks and admins)."""
    require_staff()
    committee = committee_services.create_committee(**body)
    db.session.flush()
    return committee


@committees_bp.route("/committees/<slug>")
@committees_bp.response(200, CommitteeSchema)
def get_committee(slug):
    """One committee."""
    return committee_or_404(slug)


@committees_bp.route("/committees/<slug>", methods=["PATCH"])
@committees_bp.arguments(CommitteePatch)
@committees_bp.response(200, CommitteeSchema)
def update_committee(body, slug):
    """Change a committee's settings."""
    require_staff()
    committee = committee_or_404(slug)
    committee_services.update_committee(committee, **body)
    db.session.flush()
    return committee


@committees_bp.route("/committees/<slug>/memberships")
@list_endpoint(committees_bp, PageQuery, MembershipPage)
def list_memberships(args, slug):
    """A committee's memberships, past and present."""
    committee = committee_or_404(slug)
    stmt = (
        select(Membership)
        .where(Membership.committee_id == committee.id)
        .options(selectinload(Membership.person))  # with the page, not person by person
        .order_by(Membership.start_date, Membership.id)
    )
    return paginate(stmt, args)


@committees_bp.route("/committees/<slug>/memberships", methods=["POST"])
@committees_bp.arguments(MembershipIn)
@committees_bp.response(201, MembershipSchema)
def create_membership(body, slug):
    """Add a membership."""
    require_staff()
    committee = committee_or_404(slug)
    person = db.session.get(Person, body.pop("person_id"))
    if person is None:
        abort(
            422,
            message="There is no person with that id.",
            errors={"person_id": ["Unknown person."]},
        )
    membership = committee_services.add_membership(committee, person, **body)
    db.session.flush()
    return membership


# --- people -----------------------------------------------------------------------------------


@people_bp.route("/people")
@list_endpoint(people_bp, PersonQuery, PersonPage)
def list_people(args):
    """People in name order, as the People pages list them; `q` finds them by name. E-mail
    addresses only for staff tokens. Page by `cursor` for pages that cost the same however
    far on."""
    return cursor_list(people_query(args.get("q")), args, PEOPLE_ORDER)


@people_bp.route("/people", methods=["POST"])
@people_bp.arguments(PersonIn)
@people_bp.response(201, PersonSchema)
def create_person(body):
    """Add a person."""
    require_staff()
    person = committee_services.create_person(**body)
    db.session.flush()
    return person


@people_bp.route("/people/<int:person_id>")
@people_bp.response(200, PersonSchema)
def get_person(person_id):
    """One person."""
    return found_or_404(Person, person_id, "person")


@people_bp.route("/people/<int:person_id>", methods=["PATCH"])
@people_bp.arguments(PersonPatch)
@people_bp.response(200, PersonSchema)
def update_person(body, person_id):
    """Correct a person's record (clerks and admins), as the People pages do; audited. With
    `version`, an edit made since that version is a 409 rather than overwritten."""
    require_staff()
    person = found_or_404(Person, person_id, "person")
    version = body.pop("version", None)
    committee_services.update_person(person, version, **body)
    db.session.flush()
    return person


@people_bp.route("/people/<int:person_id>/invitations", methods=["POST"])
@people_bp.arguments(InvitationIn)
@people_bp.response(202, InvitationSent)
def invite_person(body, person_id):
    """Invite the person to make an account, by e-mail to the address on their record (clerks
    and admins). The answer never says whether that address has an account; the message is
    sent after the request succeeds."""
    user = require_staff()
    person = found_or_404(Person, person_id, "person")
    auth_services.invite(person, body["role"], by=user)
    return {"person": person, "email": person.email, "role": body["role"]}
