"""Keyset paging: a page starts after (or ends before) the row a cursor names, by its place in
the list's order, instead of after OFFSET rows. A page then costs the same however far into ten
years of records it is, and a row added meanwhile never shifts or repeats one.

A list names its order as Keys, most significant first, ending in something unique (an id).
Cursors are opaque to readers: the last row's key values, as URL-safe base64 of JSON."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_

# Cursors longer than this are not ours: refused before decoding.
MAX_CURSOR_LENGTH = 300
LARGEST_INT = 2**63 - 1


@dataclass(frozen=True)
class Key:
    column: ColumnElement
    kind: type = int  # int, str, date or datetime: how the cursor's value is read back
    descending: bool = False
    # For an ascending column that may be NULL, listed after every value (as the tracker's
    # due dates are): ordered by "IS NULL" first, which both databases agree on.
    nulls_last: bool = False


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Keyset:
    keys: tuple[Key, ...]
    values_of: Callable[[Any], tuple]  # a row's values of the keys, in order

    def order_by(self, reverse: bool = False) -> list[ColumnElement]:
        clauses = []
        for key in self.keys:
            down = key.descending != reverse
            if key.nulls_last:
                is_null = key.column.is_(None)
                clauses.append(is_null.desc() if reverse else is_null)
            clauses.append(key.column.desc() if down else key.column.asc())
        return clauses

    def beyond(self, values: Sequence, reverse: bool = False) -> ColumnElement[bool]:
        """Rows after `values` in the order (before them, with reverse): the rows of the keys
        equal so far and the next one further on, for each key in turn."""
        terms, equal = [], []
        for key, value in zip(self.keys, values, strict=True):
            terms.append(and_(*equal, _further(key, value, reverse)))
            equal.append(key.column.is_(None) if value is None else key.column == value)
        clause = or_(*terms)
        first, value = self.keys[0], values[0]
        if value is not None and not first.nulls_last:
            # Redundant with the terms, but a range on the leading key that an index can
            # start from: the OR of mixed directions alone is read row by row.
            down = first.descending != reverse
            clause = and_(first.column <= value if down else first.column >= value, clause)
        return clause

    def page(self, stmt: Select, cursor: str | None, reverse: bool = False) -> Select:
        """The statement in this order, starting beyond the cursor (if any)."""
        stmt = stmt.order_by(None).order_by(*self.order_by(reverse))
        if cursor is not None:
            stmt = stmt.where(self.beyond(self.decode(cursor), reverse))
        return stmt

    def encode(self, row) -> str:
        raw = [_plain(v) for v in self.values_of(row)]
        text = json.dumps(raw, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(text).rstrip(b"=").decode()

    def decode(self, cursor: str) -> tuple:
        """The key values a cursor holds; BadCursor for anything this list did not make."""
        if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
            raise BadCursor("This cursor is not one this list gave.")
        try:
            raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise BadCursor("This cursor is not one this list gave.") from None
        if not isinstance(raw, list) or len(raw) != len(self.keys):
            raise BadCursor("This cursor is not one this list gave.")
        return tuple(_read(key, value) for key, value in zip(self.keys, raw, strict=True))


def _further(key: Key, value, reverse: bool) -> ColumnElement[bool]:
    down = key.descending != reverse
    if key.nulls_last:
        if not reverse:  # ascending, NULLs after every value
            return false() if value is None else or_(key.column > value, key.column.is_(None))
        # descending, NULLs first
        return key.column.is_not(None) if value is None else key.column < value
    if value is None:
        return false()
    return key.column < value if down else key.column > value


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _read(key: Key, value):
    if value is None:
        if not key.nulls_last:
            raise BadCursor("This cursor is not one this list gave.")
        return None
    try:
        if key.kind is int:
            if isinstance(value, bool) or not isinstance(value, int) or abs(value) > LARGEST_INT:
                raise ValueError
            return value
        if key.kind is str:
            if not isinstance(value, str):
                raise ValueError
            return value
        if not isinstance(value, str):
            raise ValueError
        if key.kind is datetime:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError
            return parsed
        if key.kind is date:
            return date.fromisoformat(value)
    except ValueError:
        raise BadCursor("This cursor is not one this list gave.") from None
    raise TypeError(f"no cursor reading for {key.kind}")


@dataclass(frozen=True)
class Page:
    rows: list
    next_cursor: str | None  # for the page after, if there is one
    previous_cursor: str | None  # for the page before (as `before`), if there is one


def fetch(session, keyset: Keyset, stmt: Select, per_page: int, after=None, before=None) -> Page:
    """One page of the statement: after the `after` cursor, or ending just before the
    `before` one (read backwards, then turned round). One row more than the page is asked for,
    to know whether there is a next; there is a previous page whenever the page starts after a
    row. BadCursor for a cursor this list did not make."""
    backwards = before is not None
    stmt = keyset.page(stmt, before if backwards else after, reverse=backwards)
    found = list(session.scalars(stmt.limit(per_page + 1)))
    more = len(found) > per_page
    rows = found[:per_page]
    if backwards:
        rows.reverse()
        return Page(
            rows,
            keyset.encode(rows[-1]) if rows else None,
            keyset.encode(rows[0]) if more and rows else None,
        )
    return Page(
        rows,
        keyset.encode(rows[-1]) if more and rows else None,
        keyset.encode(rows[0]) if after is not None and rows else None,
    )
