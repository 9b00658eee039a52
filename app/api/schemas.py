"""What every domain's API module (app/<domain>/api.py) shares: strict fields, ids, PATCH
bodies, pages and the person reference. Each resource's own schemas live with its domain."""

from __future__ import annotations

import enum

from marshmallow import Schema, ValidationError, fields, missing, validate, validates_schema
from sqlalchemy import func, select

from app.agenda.models import ItemKind
from app.core.keyset import MAX_CURSOR_LENGTH, BadCursor, Keyset, fetch
from app.extensions import db

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


class CommitteeSlug(fields.String):
    """A list's committee filter: the committee's slug (an unknown one is a 404)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {"description": "A committee's slug"})
        super().__init__(**kwargs)


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_PER_PAGE, error="Must be between {min} and {max}."),
    )


class PageMeta(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class CursorPageQuery(PageQuery):
    """A big list's query: `page` as before, or `cursor`, the `next_cursor` of the page before
    (keyset paging: the hundredth page costs what the first does)."""

    cursor = fields.String(
        validate=validate.Length(min=1, max=MAX_CURSOR_LENGTH),
        metadata={
            "description": "Opaque: the `next_cursor` of the page before (or the `Link` "
            "header's rel=next). Start without one; `page` is ignored with it, and a cursor "
            "the list did not give is a 404."
        },
    )


class CursorPageMeta(PageMeta):
    page = fields.Integer(metadata={"description": "With `page` paging only"})
    total = fields.Integer(
        metadata={
            "description": "With `page` paging only: counting every row is what a cursor saves"
        }
    )
    next_cursor = fields.String(
        allow_none=True,
        metadata={"description": "The `cursor` of the next page; null on the last page"},
    )


# The Link header of a cursor-paged list, for the document.
LINK_HEADER = {
    "Link": {
        "description": 'The next page, as `<url>; rel="next"` (RFC 8288), when there is one',
        "schema": {"type": "string"},
    }
}


# What a standard item (or an item added through the API) may be: the exclusion item is
# inserted by itself in front of Part 2. The committees service reads the same kinds from
# templates (its TEMPLATE_KINDS); tests/api/test_schemas.py checks that they agree.
TEMPLATE_KINDS = [kind.value for kind in ItemKind if kind is not ItemKind.EXCLUSION]


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def derived(field: fields.Field, value_of) -> fields.Field:
    """`field`, documented and dumped as its type is, holding value_of(obj) instead of an
    attribute: a value the model computes (a time in the meeting's timezone, a slug) or decides
    for this reader. Returning `missing` leaves the key out, for what the reader may not see."""

    def get_value(obj, attr, accessor=None, default=missing):
        return value_of(obj)

    field.get_value = get_value
    return field


class PersonRef(Schema):
    id = fields.Integer()
    name = fields.String(attribute="display_name")


def found_or_404(model, row_id: int, what: str, *, visible: bool = False):
    """The row with that id, or a 404 naming what was asked for. With `visible`, one the token's
    user may not see (row.can_view) is as absent as one that is not there."""
    from flask_smorest import abort

    from app.api.auth import api_user

    row = db.session.get(model, row_id)
    if row is None or (visible and not row.can_view(api_user())):
        abort(404, message=f"No {what} with that id.")
    return row


def paginate(stmt, args, keep=None) -> dict:
    """One page of the statement's rows, for a schema made by page_of; `keep` drops rows the
    reader may not see after the count (the statement filters them in SQL already)."""
    page, per_page = args["page"], args["per_page"]
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    if keep is not None:
        rows = [row for row in rows if keep(row)]
    return {"items": rows, "page": page, "per_page": per_page, "total": total}


def page_of(schema: type[Schema], name: str) -> type[Schema]:
    """A page of a list: the resource's own schema for its items."""
    return type(name, (PageMeta,), {"items": fields.List(fields.Nested(schema))})


def cursor_page_of(schema: type[Schema], name: str) -> type[Schema]:
    """A page of a big list (CursorPageQuery): with `next_cursor`."""
    return type(name, (CursorPageMeta,), {"items": fields.List(fields.Nested(schema))})


def cursor_list(stmt, args, keyset: Keyset, keep=None) -> tuple[dict, dict]:
    """What a big list's handler returns: one page and its Link header. With `cursor`: the
    rows after it in the keyset's order, no count and no offset, so every page costs the
    same. Without: `page` and `total` as documented for every list. Either way `next_cursor`
    and the Link header lead on by keyset; `keep` drops rows the reader may not see after the
    page is read (the statement filters them in SQL already)."""
    from flask_smorest import abort

    per_page, cursor = args["per_page"], args.get("cursor")
    if cursor is not None:
        # Any string is a cursor to the document (it is opaque), so one this list did not
        # give names a page that is not there: a 404, as an unknown slug in a query is.
        try:
            page = fetch(db.session, keyset, stmt, per_page, after=cursor)
        except BadCursor as exc:
            abort(404, message=f"No such page: {str(exc).lower()}")
        rows, next_cursor, out = page.rows, page.next_cursor, {}
    else:
        number = args["page"]
        stmt = keyset.page(stmt, None)
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        rows = db.session.scalars(stmt.limit(per_page).offset((number - 1) * per_page)).all()
        more = (number - 1) * per_page + len(rows) < total
        next_cursor = keyset.encode(rows[-1]) if more and rows else None
        out = {"page": number, "total": total}
    if keep is not None:
        rows = [row for row in rows if keep(row)]
    page = {"items": rows, "per_page": per_page, "next_cursor": next_cursor, **out}
    return page, _next_link(next_cursor)


def _next_link(next_cursor: str | None) -> dict:
    """The Link header leading to the next page: this request's URL with the next cursor
    instead of its page or cursor, the filters kept."""
    from urllib.parse import urlencode

    from flask import request

    if not next_cursor:
        return {}
    query = [(k, v) for k, v in request.args.items(multi=True) if k not in ("page", "cursor")]
    query.append(("cursor", next_cursor))
    return {"Link": f'<{request.base_url}?{urlencode(query)}>; rel="next"'}


def list_endpoint(blp, query: type[Schema], page: type[Schema]):
    """A list's query and answer, declared once for every list: the query's parameters, and
    the page (page_of, or cursor_page_of with its Link header)."""
    headers = LINK_HEADER if issubclass(page, CursorPageMeta) else None

    def decorate(view):
        view = blp.response(200, page, headers=headers)(view)
        return blp.arguments(query, location="query")(view)

    return decorate
