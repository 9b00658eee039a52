"""Search through the API: the search page's own search, as the reader may see it."""

from __future__ import annotations

from flask import url_for
from marshmallow import Schema, fields, validate

from app.agenda.api import file_url
from app.api import api_blueprint
from app.api.auth import api_user
from app.api.schemas import PageQuery, derived, page_of
from app.meetings.api import MeetingRef
from app.search.services import search as run_search

search_bp = api_blueprint(__name__, "api_search", "Search")

SEARCH_LIMIT = 200  # hits read for one search, before the kind filter and paging
SEARCH_KINDS = ("item", "document", "minute", "resolution")


def hit_kind(hit) -> str:
    """A match in an item's purpose is a hit on the item, as the search page links it."""
    return "item" if hit.kind == "purpose" else hit.kind


def hit_url(hit) -> str:
    """Where the search page links the hit."""
    if hit.kind == "document":
        return file_url(hit.obj)
    if hit.kind in ("minute", "resolution"):
        minute = hit.obj if hit.kind == "minute" else hit.obj.minute
        anchor = f"minute-{minute.number}"
    else:
        anchor = f"item-{hit.obj.id}"
    return url_for("meetings.show", meeting_id=hit.meeting.id, _anchor=anchor, _external=True)


class SearchHitOut(Schema):
    kind = derived(fields.String(validate=validate.OneOf(SEARCH_KINDS)), hit_kind)
    id = derived(
        fields.Integer(metadata={"description": "The item's, paper's, minute's or resolution's"}),
        lambda hit: hit.obj.id,
    )
    title = fields.String()
    excerpt = fields.String()
    meeting = fields.Nested(MeetingRef)
    url = derived(fields.String(metadata={"description": "Where the pages show it"}), hit_url)


SearchPage = page_of(SearchHitOut, "SearchPage")


class SearchQuery(PageQuery):
    q = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(validate=validate.OneOf(SEARCH_KINDS))


@search_bp.route("/search")
@search_bp.arguments(SearchQuery, location="query")
@search_bp.response(200, SearchPage)
def search(args):
    """Full-text search over agendas, papers, minutes and resolutions the reader may see (the
    search page's own search, best match first, at most 200 hits); `kind` keeps one kind."""
    found, seen = [], set()
    for hit in run_search(args["q"], api_user(), limit=SEARCH_LIMIT):
        key = (hit_kind(hit), hit.obj.id)
        if (args.get("kind") and key[0] != args["kind"]) or key in seen:
            continue
        seen.add(key)
        found.append(hit)
    page, per_page = args["page"], args["per_page"]
    start = (page - 1) * per_page
    return {
        "items": found[start : start + per_page],
        "page": page,
        "per_page": per_page,
        "total": len(found),
    }
