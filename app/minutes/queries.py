"""Read-side queries over minutes: the decisions register and minute look-ups."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true
from sqlalchemy.orm import aliased, selectinload

from app.agenda.models import AgendaItem, Visibility
from app.committees.models import Committee, Membership, active_on
from app.core.keyset import Key, Keyset, Page, fetch
from app.core.permissions import CommitteeReader, is_staff, person_id_of
from app.core.text import contains_literally
from app.extensions import db
from app.meetings.models import Declaration, Meeting, MinutesState
from app.minutes.models import Minute, Resolution, ResolutionKind


def visible_minutes(user) -> ColumnElement[bool]:
    """SQL form of Minute.can_view(user), for queries joined to Minute and Meeting, so lists
    can filter and page in the database instead of trimming a fixed batch in Python.
    tests/minutes/test_queries.py checks it agrees with the predicate."""
    if is_staff(user):
        return true()
    if isinstance(user, CommitteeReader):
        member = Meeting.committee_id == user.committee_id
    elif person_id_of(user) is None:
        member = false()  # the public, or an account for no person: no committee's member
    else:
        member = Meeting.committee_id.in_(
            select(Membership.committee_id).where(
                Membership.person_id == person_id_of(user), active_on(date.today())
            )
        )
    publishes_drafts = select(Committee.id).where(Committee.publish_draft_minutes.is_(True))
    minutes_seen = or_(
        Meeting.minutes_state == MinutesState.APPROVED,
        and_(
            Meeting.minutes_state == MinutesState.PUBLISHED,
            or_(Meeting.committee_id.in_(publishes_drafts), member),
        ),
    )
    item_seen = or_(Minute.agenda_item_id.is_(None), _public_item(), member)
    return and_(minutes_seen, item_seen)


def _public_item() -> ColumnElement[bool]:
    """The minute's item is public by AgendaItem.public_ids' rule, asked of that one item by
    its primary key (and its parent's): an IN over public_ids would gather every public item
    of ten years for each page."""
    item, parent = aliased(AgendaItem), aliased(AgendaItem)
    parent_public = (
        select(parent.id)
        .where(parent.id == item.parent_id, parent.visibility == Visibility.PUBLIC)
        .exists()
    )
    return (
        select(item.id)
        .where(
            item.id == Minute.agenda_item_id,
            item.visibility == Visibility.PUBLIC,
            or_(item.parent_id.is_(None), parent_public),
        )
        .exists()
    )


LONDON = ZoneInfo("Europe/London")


def decisions_query(
    text: str | None = None,
    committee_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    kind: ResolutionKind | str | None = None,
    user=None,
    *,
    for_reader: bool = False,
) -> Select:
    """Resolutions matching the register's filters, newest meeting first. With for_reader,
    only those `user` may see (the SQL form of resolution.can_view(user))."""
    minute = selectinload(Resolution.minute)
    stmt = (
        select(Resolution)
        .join(Resolution.minute)
        .join(Minute.meeting)
        # What a row shows and its predicate asks (reference, committee, restricted), loaded
        # with the page rather than row by row.
        .options(
            minute.selectinload(Minute.meeting).selectinload(Meeting.committee),
            minute.selectinload(Minute.committee),
            minute.selectinload(Minute.resolutions),
            minute.selectinload(Minute.item).selectinload(AgendaItem.parent),
        )
    )
    if text and text.strip():
        text = text.strip()
        stmt = stmt.where(
            or_(contains_literally(Resolution.text, text), contains_literally(Minute.title, text))
        )
    if committee_id:
        # The meeting's committee (always the minute's): ix_meetings_committee_id_starts_at
        # then gives the committee's meetings newest first, so a page reads only its rows.
        stmt = stmt.where(Meeting.committee_id == committee_id)
    if date_from:
        stmt = stmt.where(Meeting.starts_at >= datetime.combine(date_from, time(0), LONDON))
    if date_to:
        stmt = stmt.where(Meeting.starts_at < datetime.combine(date_to, time(23, 59, 59), LONDON))
    if kind:
        stmt = stmt.where(Resolution.kind == ResolutionKind(kind))
    if for_reader:
        stmt = stmt.where(visible_minutes(user))
    return stmt.order_by(*DECISIONS_ORDER.order_by())


# Newest meeting first (the meeting's id between meetings at the same time), then in the
# minutes' order: (meeting, minute number, ordinal) is unique, so a cursor names one place.
DECISIONS_ORDER = Keyset(
    (
        Key(Meeting.starts_at, datetime, descending=True),
        Key(Meeting.id, descending=True),
        Key(Minute.number),
        Key(Resolution.ordinal),
    ),
    lambda r: (r.minute.meeting.starts_at, r.minute.meeting_id, r.minute.number, r.ordinal),
)
DECISIONS_PAGE = 50


def decisions_page(
    user,
    after: str | None = None,
    before: str | None = None,
    per_page: int | None = None,
    **filters,
) -> Page:
    """One page of the register as this reader may see it, after (or before) a cursor: no
    count and no offset, so the thousandth page costs what the first does. Rows are filtered
    in SQL and the predicate is asked again of each one shown. BadCursor for a cursor the
    register did not give."""
    stmt = decisions_query(**filters, user=user, for_reader=True)
    page = fetch(db.session, DECISIONS_ORDER, stmt, per_page or DECISIONS_PAGE, after, before)
    return Page([r for r in page.rows if r.can_view(user)], page.next_cursor, page.previous_cursor)


def minute_by_number(committee: Committee, number: int) -> Minute | None:
    return db.session.scalar(
        select(Minute).where(Minute.committee_id == committee.id, Minute.number == number)
    )


def declarations_by_item(
    meeting: Meeting, include_restricted: bool
) -> dict[int, list[Declaration]]:
    """Declarations of interest keyed by the item whose minute records them: their own item's
    if it has a minute, else the nearest parent's (sub-items are usually minuted with their
    parent). One made on exempt or confidential business is left out unless the reader may
    see it, even when a public parent's minute is where it would be shown."""
    minuted = set(
        db.session.scalars(select(Minute.agenda_item_id).where(Minute.meeting_id == meeting.id))
    )
    out: dict[int, list[Declaration]] = {}
    for d in sorted(meeting.declarations, key=lambda d: d.id):
        item = d.item
        hidden = item.restricted
        while item.id not in minuted and item.parent is not None:
            item = item.parent
            hidden = hidden or item.restricted
        if hidden and not include_restricted:
            continue
        out.setdefault(item.id, []).append(d)
    return out
