"""People: listing, adding and editing them. Adding reuses the committees' rules for a
person's fields (the membership form and the CSV import make people too), so a person is
the same whichever page made them."""

from __future__ import annotations

from sqlalchemy import func, select

from app.audit.services import record
from app.committees.services import _LIKE_ESCAPE, _name_like, clean_person_fields, create_person
from app.core.errors import NotFound
from app.extensions import db
from app.meetings.services import check_version
from app.people.models import Person

PAGE_SIZE = 50
FIELDS = ("name", "honorific", "job_title", "organisation", "email")

__all__ = ["PAGE_SIZE", "add_person", "list_people", "person_or_404", "update_person"]


def list_people(q: str | None = None, page: int = 1) -> tuple[list[Person], int]:
    """One page of people in name order, found by name when `q` is given (matched literally,
    anywhere in the name), and how many there are in all."""
    stmt = select(Person)
    q = (q or "").strip()[:200]
    if q:
        stmt = stmt.where(func.lower(Person.name).like(_name_like(q), escape=_LIKE_ESCAPE))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(1, page)
    people = db.session.scalars(
        stmt.order_by(func.lower(Person.name), Person.id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return list(people), total


def person_or_404(person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None:
        raise NotFound("There is no such person.")
    return person


def add_person(**fields) -> Person:
    return create_person(**{k: fields.get(k) for k in FIELDS})


def update_person(person: Person, expected_version: int | None = None, **fields) -> Person:
    """Change a person's fields; refused with a Conflict when the form was loaded from an older
    version. The audit event lists what changed, old and new."""
    check_version(person, expected_version)
    cleaned = clean_person_fields({k: fields.get(k) for k in FIELDS if k in fields})
    changes = {}
    for key, value in cleaned.items():
        old = getattr(person, key)
        if (old or None) != (value or None):
            changes[key] = [old, value]
            setattr(person, key, value)
    if changes:
        person.version += 1
        db.session.flush()
        record("person_updated", person, summary=person.name, changes=changes)
    return person
