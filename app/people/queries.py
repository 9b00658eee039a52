"""Read-side queries over people: the People pages' list and the API's, one order and one
filter for both."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import undefer

from app.core import text as rules
from app.core.keyset import Key, Keyset, Page, fetch
from app.extensions import db
from app.people.models import Person

NAME_LIMIT = 200  # as a person's name (committees.services.PERSON_LIMITS)
PEOPLE_PAGE = 50

# By name as the database lowers it, the id between people of one name.
PEOPLE_ORDER = Keyset(
    (Key(Person.sort_name, str), Key(Person.id)),
    lambda p: (p.sort_name, p.id),
)


def found_by(q: str | None) -> str:
    """What a search for people looks for: the text cleaned, and cut (never refused) at the
    longest a name can be, since a longer one could match nothing."""
    return rules.clean_text(str(q or "")[:NAME_LIMIT], NAME_LIMIT) or ""


def people_query(q: str | None = None) -> Select:
    """People in name order; with `q`, those whose name contains it, matched literally."""
    stmt = select(Person).options(undefer(Person.sort_name))
    q = found_by(q)
    if q:
        stmt = stmt.where(rules.contains_literally(Person.name, q))
    return stmt.order_by(*PEOPLE_ORDER.order_by())


def people_page(
    q: str | None = None,
    after: str | None = None,
    before: str | None = None,
    per_page: int | None = None,
) -> Page:
    """One page of people in name order after (or before) a cursor: no count and no offset,
    so the last page costs what the first does. BadCursor for a cursor this list did not
    give."""
    return fetch(db.session, PEOPLE_ORDER, people_query(q), per_page or PEOPLE_PAGE, after, before)
