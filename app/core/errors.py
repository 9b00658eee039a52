"""Errors that services raise and both front doors (pages and API) translate."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError


class ServiceError(Exception):
    status = 400
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}
        self.headers = headers or {}  # sent with the answer (e.g. Retry-After)


class ValidationError(ServiceError):
    status = 422
    title = "Validation failed"


class NotFound(ServiceError):
    status = 404
    title = "Not found"


class Forbidden(ServiceError):
    status = 403
    title = "Forbidden"


class Conflict(ServiceError):
    status = 409
    title = "Conflict"


def check_version(obj, expected: int | None) -> None:
    """Optimistic locking: refuse a change made to a copy older than the stored one."""
    if expected is not None and expected != obj.version:
        raise Conflict(
            f"This record was changed by someone else (your copy is version {expected}, "
            f"the current one is version {obj.version}). Reload it and make your change again.",
            {"version": [f"Current version is {obj.version}."]},
        )


# Constraint names (see NAMING_CONVENTION) mapped to what a person should be told.
CONSTRAINT_MESSAGES: dict[str, tuple[str, str]] = {
    "uq_minutes_committee_id_number": ("number", "That minute number is already used."),
    "uq_attendance_meeting_id_person_id": (
        "person_id",
        "That person already has an attendance record for this meeting.",
    ),
    "uq_committees_name": ("name", "A committee with that name already exists."),
    "uq_committees_slug": ("slug", "A committee with that web address already exists."),
    "uq_users_email": ("email", "An account with that e-mail address already exists."),
    "uq_users_person_id": ("person_id", "That person already has an account."),
    "uq_resolutions_minute_id_ordinal": ("ordinal", "That resolution number is already used."),
}


def integrity_to_validation(exc: IntegrityError) -> ValidationError:
    """Name the broken constraint in words; never show the database's message."""
    message = str(exc.orig)
    for name, (field, text) in CONSTRAINT_MESSAGES.items():
        if name in message:
            return ValidationError(text, {field: [text]})
    # SQLite reports UNIQUE failures by column, not by constraint name.
    match = re.search(r"UNIQUE constraint failed: ([\w.]+(?:, [\w.]+)*)", message)
    if match:
        cols = [c.split(".")[-1] for c in match.group(1).split(", ")]
        table = match.group(1).split(".")[0]
        name = f"uq_{table}_{'_'.join(cols)}"
        if name in CONSTRAINT_MESSAGES:
            field, text = CONSTRAINT_MESSAGES[name]
            return ValidationError(text, {field: [text]})
        return ValidationError(
            "That would duplicate an existing record.", {cols[-1]: ["This value is already used."]}
        )
    return ValidationError("The change breaks a rule of the record and was not saved.")


@contextmanager
def constraint_errors(session) -> Iterator[None]:
    """Flush inside a savepoint and turn a broken constraint into a ValidationError.

    The savepoint keeps the rest of the caller's transaction usable after the refusal, so a
    request can still record what it must (an audit row, say) and answer with a clear error.
    """
    savepoint = session.begin_nested()
    try:
        yield
        session.flush()
    except IntegrityError as exc:
        savepoint.rollback()
        raise integrity_to_validation(exc) from None
    else:
        savepoint.commit()
