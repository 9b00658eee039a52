"""Response and query schemas; they also describe the API in /api/v1/openapi.json."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

MAX_PER_PAGE = 200


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_PER_PAGE, error="Must be between {min} and {max}."),
    )


class MeetingQuery(PageQuery):
    committee = fields.String(metadata={"description": "A committee's slug"})
    from_ = fields.String(
        data_key="from",
        metadata={"description": "ISO 8601 date or time; a naive time is the committee's timezone"},
    )
    to = fields.String(metadata={"description": "ISO 8601 date or time"})


class PageMeta(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class CommitteeSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    slug = fields.String()
    description = fields.String(allow_none=True)
    timezone = fields.String()
    regime = fields.String()
    first_minute_number = fields.Integer()
    minute_prefix = fields.String(allow_none=True)
    quorum = fields.String(allow_none=True)
    default_venue = fields.String(allow_none=True)
    default_start_time = fields.String(allow_none=True)
    publish_draft_minutes = fields.Boolean()
    url = fields.String()


class CommitteePage(PageMeta):
    items = fields.List(fields.Nested(CommitteeSchema))


class PersonSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    honorific = fields.String(allow_none=True)
    job_title = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)
    email = fields.String(allow_none=True, metadata={"description": "Only for staff tokens"})


class PersonPage(PageMeta):
    items = fields.List(fields.Nested(PersonSchema))


class PersonRef(Schema):
    id = fields.Integer()
    name = fields.String()


class MembershipSchema(Schema):
    id = fields.Integer()
    person = fields.Nested(PersonRef)
    role = fields.String()
    organisation = fields.String(allow_none=True)
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)


class MembershipPage(PageMeta):
    items = fields.List(fields.Nested(MembershipSchema))


class MeetingSchema(Schema):
    id = fields.Integer()
    committee = fields.String(metadata={"description": "The committee's slug"})
    title = fields.String(allow_none=True)
    starts_at = fields.String(metadata={"description": "ISO 8601 with offset"})
    ends_at = fields.String(allow_none=True)
    timezone = fields.String()
    venue = fields.String(allow_none=True)
    status = fields.String()
    status_reason = fields.String(allow_none=True)
    uid = fields.String()
    sequence = fields.Integer()
    agenda_state = fields.String()
    agenda_published_at = fields.String(allow_none=True)
    agenda_revision = fields.Integer()
    minutes_state = fields.String()
    url = fields.String()


class MeetingPage(PageMeta):
    items = fields.List(fields.Nested(MeetingSchema))


class DocumentSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    page_count = fields.Integer()
    sha256 = fields.String()
    visibility = fields.String()
    url = fields.String()


class AgendaItemSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    parent_id = fields.Integer(allow_none=True)
    position = fields.Integer()
    section = fields.String(allow_none=True)
    kind = fields.String()
    title = fields.String()
    purpose = fields.String(allow_none=True)
    presenter = fields.String(allow_none=True)
    visibility = fields.String()
    exempt_paragraphs = fields.List(fields.Integer())
    public_interest_reason = fields.String(allow_none=True)
    urgent = fields.Boolean()
    urgent_reason = fields.String(allow_none=True)
    documents = fields.List(fields.Nested(DocumentSchema))


class AgendaItemList(Schema):
    items = fields.List(fields.Nested(AgendaItemSchema))


class UserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()


class MeSchema(Schema):
    user = fields.Nested(UserSchema)
    person = fields.Nested(PersonRef, allow_none=True)
    calendar_feed_url = fields.String(allow_none=True)
    actions_feed_url = fields.String(allow_none=True)
