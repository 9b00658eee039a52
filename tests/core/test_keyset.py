"""Keyset paging (app/core/keyset.py) against the database: every row once, in order, both
ways, with ties on the leading key and NULLs listed last; cursors are refused unless the list
made them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.actions import services as actions
from app.actions.models import Action
from app.core.keyset import BadCursor, Key, Keyset, fetch
from app.meetings.models import Meeting

TODAY = date(2026, 12, 2)


def _walk(db, keyset, stmt, per_page):
    """Every page forwards by `next`, then back from the last by `previous`."""
    pages, page = [], fetch(db.session, keyset, stmt, per_page)
    pages.append(page)
    while page.next_cursor:
        page = fetch(db.session, keyset, stmt, per_page, after=page.next_cursor)
        pages.append(page)
    forwards = [row.id for p in pages for row in p.rows]
    back = [page.rows]
    while page.previous_cursor:
        page = fetch(db.session, keyset, stmt, per_page, before=page.previous_cursor)
        back.insert(0, page.rows)
    backwards = [row.id for rows in back for row in rows]
    return forwards, backwards, len(pages)


@pytest.fixture
def meetings(db, f):
    # Ties at the same time across committees: the id decides between them.
    committees = [f.committee(f"Committee {n}") for n in range(3)]
    start = datetime(2024, 1, 10, 13, tzinfo=UTC)
    made = [
        f.meeting(committees[n % 3], starts_at=start + timedelta(days=7 * (n // 3)))
        for n in range(17)
    ]
    db.session.commit()
    return made


NEWEST_FIRST = Keyset(
    (Key(Meeting.starts_at, datetime, descending=True), Key(Meeting.id, descending=True)),
    lambda m: (m.starts_at, m.id),
)


@pytest.mark.parametrize("per_page", [1, 4, 5, 17, 50])
def test_every_row_once_in_order_both_ways(db, meetings, per_page):
    expected = [m.id for m in sorted(meetings, key=lambda m: (m.starts_at, m.id), reverse=True)]
    forwards, backwards, pages = _walk(db, NEWEST_FIRST, select(Meeting), per_page)
    assert forwards == expected and backwards == expected
    assert pages == -(-len(expected) // per_page)


def test_the_first_page_has_no_previous_and_the_last_no_next(db, meetings):
    first = fetch(db.session, NEWEST_FIRST, select(Meeting), 5)
    assert first.previous_cursor is None and first.next_cursor
    rest = fetch(db.session, NEWEST_FIRST, select(Meeting), 50, after=first.next_cursor)
    assert rest.next_cursor is None and rest.previous_cursor
    assert len(rest.rows) == len(meetings) - 5


def test_nulls_listed_last_are_paged_into_and_back_out_of(db, f):
    c = f.committee()
    owner = f.person()
    made = [
        actions.create_action(
            c, f"Action {n}", owner.id, None if n % 4 == 3 else TODAY + timedelta(days=n % 3)
        )
        for n in range(14)
    ]
    db.session.commit()
    due_order = Keyset(
        (Key(Action.due_date, date, nulls_last=True), Key(Action.id)),
        lambda a: (a.due_date, a.id),
    )
    expected = [
        a.id for a in sorted(made, key=lambda a: (a.due_date is None, a.due_date or TODAY, a.id))
    ]
    for per_page in (1, 2, 3, 5, 14):
        forwards, backwards, _ = _walk(db, due_order, select(Action), per_page)
        assert forwards == expected and backwards == expected, per_page


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64!",
        "bm90IGpzb24",  # "not json"
        "WzEsMl0",  # [1,2]: right length, but the first is no time
        "WyIyMDI0LTAxLTEwVDEzOjAwOjAwIiwxXQ",  # a time without its offset
        "WyIyMDI0LTAxLTEwVDEzOjAwOjAwKzAwOjAwIix0cnVlXQ",  # an id that is a boolean
        "WyIyMDI0LTAxLTEwVDEzOjAwOjAwKzAwOjAwIixudWxsXQ",  # NULL where none can be
        "WyIyMDI0LTAxLTEwVDEzOjAwOjAwKzAwOjAwIiw5OTk5OTk5OTk5OTk5OTk5OTk5OTk5XQ",  # id too big
        "A" * 400,
    ],
)
def test_a_cursor_the_list_did_not_make_is_refused(db, meetings, cursor):
    with pytest.raises(BadCursor):
        fetch(db.session, NEWEST_FIRST, select(Meeting), 5, after=cursor)


def test_a_cursor_is_opaque_and_round_trips(db, meetings):
    page = fetch(db.session, NEWEST_FIRST, select(Meeting), 3)
    assert page.next_cursor.isascii() and "=" not in page.next_cursor
    last = page.rows[-1]
    assert NEWEST_FIRST.decode(page.next_cursor) == (last.starts_at, last.id)
