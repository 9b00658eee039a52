"""Cross-references between minutes: "Minute No. 86(1) refers", "Further to Minute No. 204".

A reference becomes a link only when it names a minute that exists (in the same committee)
and that the reader may see; otherwise the text is left as written."""

from __future__ import annotations

import re
from collections.abc import Callable

from markupsafe import Markup, escape

# "Minute No. 86(1)", "Minute 204", "Minute No 86 (1)"; an optional prefix such as "CAB".
REFERENCE_RE = re.compile(
    r"\bMinute\s+(?:No\.?\s*)?(?P<prefix>[A-Z]{0,6})(?P<number>\d{1,6})"
    r"(?:\s?\((?P<ordinal>\d{1,3})\))?",
)


def find_references(text: str) -> list[tuple[int, int | None]]:
    return [
        (int(m["number"]), int(m["ordinal"]) if m["ordinal"] else None)
        for m in REFERENCE_RE.finditer(text or "")
    ]


def link_references(html: str, url_for_minute: Callable[[int, int | None], str | None]) -> Markup:
    """Wrap each known reference in sanitised HTML with a link. `url_for_minute(number,
    ordinal)` returns the link target, or None for an unknown or hidden minute.

    Runs on already-sanitised HTML, and only rewrites text outside tags and existing links."""
    out, pos, in_link = [], 0, 0
    for token in re.finditer(r"<[^>]+>", html):
        out.append(_link_text(html[pos : token.start()], url_for_minute, in_link))
        tag = token.group(0).lower()
        if tag.startswith("<a ") or tag == "<a>":
            in_link += 1
        elif tag.startswith("</a"):
            in_link = max(0, in_link - 1)
        out.append(token.group(0))
        pos = token.end()
    out.append(_link_text(html[pos:], url_for_minute, in_link))
    return Markup("".join(out))


def _link_text(text: str, url_for_minute, in_link: int) -> str:
    if in_link or "Minute" not in text:
        return text

    def replace(match: re.Match) -> str:
        ordinal = int(match["ordinal"]) if match["ordinal"] else None
        url = url_for_minute(int(match["number"]), ordinal)
        if not url:
            return match.group(0)
        return f'<a class="govuk-link" href="{escape(url)}">{match.group(0)}</a>'

    return REFERENCE_RE.sub(replace, text)
