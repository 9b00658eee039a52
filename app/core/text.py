"""One cleaning rule for every piece of text and every date people send, whichever door it
comes through (page, API, CLI, CSV import), so they are all refused with the same words.

Text is cleaned rather than refused where the intent is plain: characters nobody can see or
type on purpose (controls, bidirectional overrides, zero-width marks, lone surrogates) are
removed, and a one-line field reads its line breaks and tabs as spaces. What cannot be
guessed is refused with a message naming the limit: too long, or a date no meeting can have.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, func

from app.core.errors import ValidationError

# Sensible maxima; the column sizes of the schema are never larger than what is allowed here.
NAME = 200
TITLE = 500
LINE = 300
SHORT_TEXT = 2_000
LONG_TEXT = 10_000
MARKDOWN = 100_000

FIRST_YEAR = 1900
LAST_YEAR = 2200

# Joiners shape Arabic, Indic and emoji text, so they are kept; every other format character
# (bidirectional overrides and isolates, zero-width spaces, BOMs) can only hide or reorder text.
_KEEP_FORMAT = {"\u200c", "\u200d"}
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")


def _visible(char: str, multiline: bool) -> bool:
    if char in "\n\t":
        return multiline
    category = unicodedata.category(char)
    if category == "Cf":
        return char in _KEEP_FORMAT
    return category not in ("Cc", "Cs")


def strip_controls(value: str, multiline: bool = False) -> str:
    """The text without control, format and surrogate characters; one-line text also loses
    its line breaks and tabs (each read as a space)."""
    value = _LINE_BREAKS.sub("\n", value)
    if not multiline:
        value = value.replace("\n", " ").replace("\t", " ")
    return "".join(c for c in value if _visible(c, multiline))


def clean_text(
    value,
    limit: int,
    *,
    multiline: bool = False,
    label: str = "This",
) -> str | None:
    """The cleaned, stripped text, or None when nothing is left. One-line text has its runs of
    spaces closed up. Raises ValueError with a message for a person when it is too long."""
    if value is None:
        return None
    value = strip_controls(str(value), multiline)
    value = value.strip() if multiline else " ".join(value.split())
    if len(value) > limit:
        raise ValueError(f"{label} can be at most {limit:,} characters.")
    return value or None


def text_field(
    value,
    field: str,
    limit: int,
    *,
    multiline: bool = False,
    label: str | None = None,
    required: bool = False,
) -> str | None:
    """`clean_text` for a service: a refusal is a ValidationError on `field`."""
    label = label or field.replace("_", " ").capitalize()
    try:
        cleaned = clean_text(value, limit, multiline=multiline, label=label)
    except ValueError as exc:
        raise ValidationError(str(exc), {field: [str(exc)]}) from None
    if required and cleaned is None:
        message = f"Enter the {label.lower()}."
        raise ValidationError(message, {field: [message]})
    return cleaned


def check_year(value: date | datetime | None, label: str = "The date") -> None:
    """Raises ValueError for a date outside the years any committee business can fall in."""
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"{label} must be between the years {FIRST_YEAR} and {LAST_YEAR}.")


def date_field(value: date | datetime | None, field: str, label: str = "The date"):
    """`check_year` for a service: a refusal is a ValidationError on `field`."""
    try:
        check_year(value, label)
    except ValueError as exc:
        raise ValidationError(str(exc), {field: [str(exc)]}) from None
    return value


def clean_filename(name: str | None, default: str = "document.pdf", limit: int = 200) -> str:
    """An uploaded file's name as it is safe to keep and send back in a header: no folders,
    no controls or direction overrides (which make "txt.exe" look like "exe.txt"), no quotes,
    and short enough for the column, keeping the extension."""
    name = strip_controls(str(name or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = " ".join(name.replace('"', "").split()).strip(". ")
    if len(name) > limit:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: limit - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:limit]
    return name or default


def safe_next(target: str | None, fallback: str) -> str:
    """A `next` address to redirect to, if it is a path on this site; else `fallback`. Any
    control character (a header injection attempt) or backslash (which browsers read as a
    slash, making "/\\evil.example" leave the site) refuses it."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target or strip_controls(target) != target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


LIKE_ESCAPE = "\\"


def contains_literally(column, text: str) -> ColumnElement[bool]:
    """Whether the column's value contains the text, ignoring case, as typed: a % or _ that
    someone searches for is that character, not a wildcard. Every name and text search asks
    this, so none forgets the escape."""
    escaped = (
        text.lower()
        .replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return func.lower(column).like(f"%{escaped}%", escape=LIKE_ESCAPE)
