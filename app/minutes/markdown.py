"""Minutes are written in Markdown; shown as sanitised HTML with minute references linked."""

from __future__ import annotations

from collections.abc import Callable

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from app.minutes.references import link_references

# CommonMark with tables; raw HTML typed by a clerk is escaped rather than passed through.
_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

ALLOWED_TAGS = {
    "p",
    "br",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "b",
    "i",
    "a",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "code",
    "pre",
    "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "class"}, "th": {"scope"}, "td": set()}

# GOV.UK Frontend styles only elements with classes; add them after sanitising.
_CLASSES = {
    "<p>": '<p class="govuk-body">',
    "<ul>": '<ul class="govuk-list govuk-list--bullet">',
    "<ol>": '<ol class="govuk-list govuk-list--number">',
    "<table>": '<table class="govuk-table">',
    "<a href=": '<a class="govuk-link" href=',
}


def render(
    text: str | None, url_for_minute: Callable[[int, int | None], str | None] | None = None
) -> Markup:
    if not text:
        return Markup("")
    html = nh3.clean(
        _md.render(text),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    for plain, styled in _CLASSES.items():
        html = html.replace(plain, styled)
    if url_for_minute is not None:
        return link_references(html, url_for_minute)
    return Markup(html)
