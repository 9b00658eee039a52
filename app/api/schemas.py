"""Response and query schemas; they also describe the API in /api/v1/openapi.json."""

from __future__ import annotations

import enum

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.actions.models import ActionStatus, Rag
from app.agenda.models import ItemKind, Visibility
from app.committees.models import MembershipRole, Regime
from app.meetings.models import AttendanceStatus, DeclarationKind, MeetingStatus
from app.minutes.models import ResolutionKind, VoteChoice

MAX_PER_PAGE = 200


def values(kind: type[enum.Enum]) -> list[str]:
    """The values the API accepts for a model's enum: the enum's own, so they cannot drift."""
    return [member.value for member in kind]


def one_of(kind: type[enum.Enum]) -> validate.OneOf:
    return validate.OneOf(values(kind))


class Boolean(fields.Boolean):
    """JSON's true or false only. marshmallow's own also takes 0, 1, "yes", "on" and the like,
    and a truthy set of {True} alone would not help: 1 == True, so `1 in {True}`."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            return value
        raise self.make_error("invalid", input=value)


class QueryBoolean(fields.Boolean):
    """A query string's `true` or `false`, and no other spelling."""

    def __init__(self, **kwargs):
        super().__init__(truthy={"true"}, falsy={"false"}, **kwargs)


class PatchSchema(Schema):
    """A PATCH body names at least one thing to change: an empty one is a mistake, not a
    request to change nothing. What only qualifies a change (`version`) does not count."""

    NOT_CHANGES: frozenset[str] = frozenset({"version"})

    @validates_schema
    def something_to_change(self, data, **kwargs):
        if not data.keys() - self.NOT_CHANGES:
            names = ", ".join(sorted(self.changes()))
            raise ValidationError(f"Send at least one field to change: {names}.", "_schema")

    @classmethod
    def changes(cls) -> list[str]:
        """The fields' JSON names that are a change, for the document's `anyOf`."""
        return [
            field.data_key or name
            for name, field in cls._declared_fields.items()
            if name not in cls.NOT_CHANGES and not field.dump_only
        ]


# Ids are the database's integers; a larger one cannot exist, and the database would refuse it.
MAX_ID = 2**31 - 1
# The largest page a list is asked for: beyond any list's length, within what SQL can offset.
MAX_PAGE = 2**31 - 1


class Id(fields.Integer):
    """A record's id in a body or a query: as the path's ids, 1 to MAX_ID."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_PER_PAGE, error="Must be between {min} and {max}."),
    )


# What `from` and `to` take (parsed by app/api/resources.py parse_when).
DATE_OR_TIME = [{"format": "date"}, {"format": "date-time"}]
NOT_EMPTY = "Give a date or a time, or leave the parameter out."


class MeetingQuery(PageQuery):
    committee = fields.String(metadata={"description": "A committee's slug"})
    from_ = fields.String(
        data_key="from",
        metadata={
            "description": "ISO 8601 date or time; a naive time is the committee's timezone",
            "anyOf": DATE_OR_TIME,
        },
        validate=validate.Length(min=1, error=NOT_EMPTY),
    )
    to = fields.String(
        metadata={"description": "ISO 8601 date or time", "anyOf": DATE_OR_TIME},
        validate=validate.Length(min=1, error=NOT_EMPTY),
    )


class PageMeta(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


# What a standard item (or an item added through the API) may be: the exclusion item is
# inserted by itself in front of Part 2. The committees service reads the same kinds from
# templates (its TEMPLATE_KINDS); tests/api/test_schemas.py checks that they agree.
TEMPLATE_KINDS = [kind.value for kind in ItemKind if kind is not ItemKind.EXCLUSION]


class TemplateItem(Schema):
    """One standard item a new agenda starts with."""

    kind = fields.String(required=True, validate=validate.OneOf(TEMPLATE_KINDS))
    title = fields.String(required=True, validate=validate.Length(min=1, max=500))
    section = fields.String(allow_none=True, validate=validate.Length(max=200))


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
    agenda_template = fields.List(fields.Nested(TemplateItem))
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
    # Each only where the token's user would get the file (absent otherwise).
    pack_url = fields.String()
    members_pack_url = fields.String()
    minutes_pdf_url = fields.String()


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


# --- write bodies (issue 3: the agenda builder) --------------------------------------------


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


class MembershipIn(Schema):
    person_id = Id(required=True)
    role = fields.String(
        required=True,
        validate=one_of(MembershipRole),
    )
    organisation = fields.String(allow_none=True)
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)


class MeetingIn(Schema):
    committee = fields.String(required=True, metadata={"description": "The committee's slug"})
    starts_at = fields.DateTime(
        required=True,
        metadata={"description": "ISO 8601; with an offset, or naive for the committee's timezone"},
    )
    ends_at = fields.DateTime(allow_none=True)
    venue = fields.String(allow_none=True)
    title = fields.String(allow_none=True)


class MeetingPatch(PatchSchema):
    NOT_CHANGES = frozenset({"version", "status_reason"})  # a reason goes with a status

    starts_at = fields.DateTime()
    ends_at = fields.DateTime(allow_none=True)
    venue = fields.String(allow_none=True)
    title = fields.String(
        allow_none=True, metadata={"description": "Empty or null: the committee's name is used"}
    )
    status = fields.String(validate=one_of(MeetingStatus))
    status_reason = fields.String(allow_none=True)
    version = fields.Integer(metadata={"description": "For optimistic locking"})


class AgendaItemIn(Schema):
    title = fields.String(required=True)
    section = fields.String(allow_none=True)
    parent_id = Id(allow_none=True)
    position = fields.Integer(allow_none=True, validate=validate.Range(min=0))
    presenter = fields.String(allow_none=True, metadata={"description": "Free-text presenter"})
    presenter_id = Id(allow_none=True)
    purpose = fields.String(allow_none=True)
    kind = fields.String(validate=validate.OneOf(TEMPLATE_KINDS))
    visibility = fields.String(validate=one_of(Visibility))
    exempt_paragraphs = fields.List(fields.Integer())
    public_interest_reason = fields.String(allow_none=True)
    urgent_reason = fields.String(allow_none=True)


class AgendaItemPatch(PatchSchema, AgendaItemIn):
    title = fields.String()
    version = fields.Integer(metadata={"description": "For optimistic locking"})


class DocumentUpload(Schema):
    """A paper, sent as multipart/form-data: the PDF and what the agenda says of it."""

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
    title = fields.String(required=True)
    visibility = fields.String(validate=one_of(Visibility))
    exempt_paragraphs = fields.List(
        fields.Integer(),
        metadata={"description": "Schedule 12A paragraphs, for an exempt paper; repeat the field"},
    )
    public_interest_reason = fields.String(allow_none=True)


class PublishIn(Schema):
    late_reason = fields.String(allow_none=True)
    summary = fields.String(
        allow_none=True,
        metadata={"description": "An optional note, published after the list of changes"},
    )


class PublicationSchema(Schema):
    published_at = fields.String()
    revision = fields.Integer()
    deadline = fields.String(allow_none=True)
    late = fields.Boolean()
    late_reason = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)


# --- the meeting record (issue 5) ------------------------------------------------------------


class AttendanceIn(Schema):
    status = fields.String(
        required=True,
        validate=one_of(AttendanceStatus),
    )
    substitute_for = Id(allow_none=True)
    in_chair = Boolean(load_default=False)
    arrived_at_item = Id(allow_none=True)
    left_at_item = Id(allow_none=True)
    capacity = fields.String(allow_none=True)


class AttendanceSchema(Schema):
    person_id = fields.Integer()
    status = fields.String()
    substitute_for = fields.Integer(allow_none=True)
    in_chair = fields.Boolean()
    arrived_at_item = fields.Integer(allow_none=True)
    left_at_item = fields.Integer(allow_none=True)
    quorate = fields.Boolean(allow_none=True)


class DeclarationIn(Schema):
    person_id = Id(required=True)
    agenda_item_id = Id(required=True)
    kind = fields.String(
        required=True,
        validate=one_of(DeclarationKind),
    )
    nature = fields.String(required=True)
    withdrew = Boolean(load_default=False)


class DeclarationSchema(DeclarationIn):
    id = fields.Integer()


class MinuteIn(Schema):
    text = fields.String(required=True)
    title = fields.String()
    version = fields.Integer(metadata={"description": "For optimistic locking; 409 if stale"})


class MinuteSchema(Schema):
    id = fields.Integer()
    number = fields.Integer()
    display_number = fields.String()
    title = fields.String()
    text = fields.String()
    version = fields.Integer()
    locked = fields.Boolean()


class ResolutionIn(Schema):
    text = fields.String(required=True)
    kind = fields.String(
        load_default=ResolutionKind.RESOLVED.value, validate=one_of(ResolutionKind)
    )
    recommended_to = fields.String(allow_none=True)
    votes_for = fields.Integer(allow_none=True, validate=validate.Range(min=0))
    votes_against = fields.Integer(allow_none=True, validate=validate.Range(min=0))
    abstentions = fields.Integer(allow_none=True, validate=validate.Range(min=0))
    votes = fields.List(
        fields.Nested(lambda: NamedVote()),
        metadata={"description": "Named votes, where the minutes record how each member voted"},
    )


class NamedVote(Schema):
    person_id = Id(metadata={"description": "The voter; or give their name"})
    name = fields.String(metadata={"description": "A voting member's (or substitute's) name"})
    vote = fields.String(required=True, validate=one_of(VoteChoice))

    @validates_schema
    def one_voter(self, data, **kwargs):
        if ("person_id" in data) == ("name" in data):
            raise ValidationError("Give the voter's person_id or their name.", "person_id")


class ResolutionSchema(Schema):
    id = fields.Integer()
    ordinal = fields.Integer()
    reference = fields.String()
    kind = fields.String()
    text = fields.String()
    votes_for = fields.Integer(allow_none=True)
    votes_against = fields.Integer(allow_none=True)
    abstentions = fields.Integer(allow_none=True)
    votes = fields.List(fields.Nested(lambda: NamedVoteOut()))


class NamedVoteOut(Schema):
    person_id = fields.Integer()
    name = fields.String()
    vote = fields.String()


class ActionIn(Schema):
    title = fields.String(required=True)
    owner_id = Id(required=True, allow_none=False)
    due_date = fields.Date(allow_none=True)
    reference = fields.String(allow_none=True)
    committee = fields.String(metadata={"description": "Slug; needed for standalone actions"})


class ActionQuery(PageQuery):
    owner = Id()
    status = fields.String(validate=one_of(ActionStatus))
    rag = fields.String(validate=one_of(Rag))
    committee = fields.String()
    overdue = QueryBoolean()


class ActionSchema(Schema):
    id = fields.Integer()
    committee = fields.String()
    reference = fields.String(allow_none=True)
    title = fields.String()
    owner = fields.Nested(PersonRef, allow_none=True)
    due_date = fields.Date(allow_none=True)
    status = fields.String()
    rag = fields.String(allow_none=True)
    overdue = fields.Boolean()
    resolution = fields.String(allow_none=True, metadata={"description": "e.g. 211(1)"})
    version = fields.Integer()


class ActionPage(PageMeta):
    items = fields.List(fields.Nested(ActionSchema))


class UpdateIn(Schema):
    note = fields.String(allow_none=True)
    status = fields.String(allow_none=True, validate=one_of(ActionStatus))
    rag = fields.String(allow_none=True, validate=one_of(Rag))
    version = fields.Integer()


class UpdateSchema(Schema):
    id = fields.Integer()
    created_at = fields.String()
    note = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    rag = fields.String(allow_none=True)


class ActionCorrectionIn(PatchSchema):
    """Send only what is to be corrected; `version` to be told of a clash with another edit."""

    title = fields.String()
    owner_id = Id()
    due_date = fields.Date(allow_none=True)
    reference = fields.String(allow_none=True)
    version = fields.Integer()


class HistoryEntrySchema(Schema):
    kind = fields.String(metadata={"description": "`update` (progress) or `correction`"})
    at = fields.DateTime()
    by = fields.String(allow_none=True, metadata={"description": "The user's name"})
    note = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    rag = fields.String(allow_none=True)
    changes = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Raw(allow_none=True)),
        allow_none=True,
        metadata={"description": "A correction's fields, each as [old, new]"},
    )
    approved_record = fields.Boolean(
        metadata={"description": "Corrected after the minutes it arises from were approved"}
    )


class ActionDetailSchema(ActionSchema):
    history = fields.List(fields.Nested(HistoryEntrySchema))


class ApproveIn(Schema):
    at_meeting_id = Id(required=True)
    amendments = fields.String(allow_none=True)
    chair_name = fields.String(allow_none=True)
    signed_on = fields.Date(allow_none=True)


class OpenDataSchema(Schema):
    """A document in an open data format (Open Civic Data, Popolo), passed through as is."""

    class Meta:
        unknown = "include"

    def dump(self, obj, *, many=None):  # the builders already produce the exact shape
        return obj


class PopoloQuery(Schema):
    committee = fields.String(metadata={"description": "Limit to one committee (slug)"})
