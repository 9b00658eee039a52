"""The declarative base, column types and enum helpers shared by every domain's models."""

from __future__ import annotations

import enum
import logging
from datetime import UTC, datetime
from typing import Annotated

from sqlalchemy import DateTime, Engine, Enum, ForeignKey, Integer, MetaData, String, Text, event
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so migrations can refer to them and errors can be mapped to fields.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike.

    SQLite keeps no offset, so values are normalised to UTC before they are stored and tagged
    as UTC when read. A naive datetime is a programming error: refusing it stops local times
    being stored as if they were UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given for a UTC column; attach a timezone first")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def str_enum(enum_cls: type[enum.StrEnum], name: str) -> Enum:
    """A StrEnum stored as its value in a VARCHAR with a named CHECK of the allowed values."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
str_name = Annotated[str, mapped_column(String(200))]
text = Annotated[str, mapped_column(Text)]
created_at = Annotated[datetime, mapped_column(UTCDateTime, default=utcnow, nullable=False)]
updated_at = Annotated[
    datetime, mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
]


def meeting_id_of(entity) -> int | None:
    """The meeting whose record an entity is part of (a minute, a vote, an action arising, a
    paper...), as each model says with `record_meeting_id`; None for what belongs to no
    meeting. The audit trail and the search index both ask this, so they never disagree."""
    return getattr(entity, "record_meeting_id", None)


def meeting_id_through(meeting_id: int | None, meeting) -> int | None:
    """A row's meeting id, also before its first flush (when only the relationship is set)."""
    if isinstance(meeting_id, int):
        return meeting_id
    return meeting.id if meeting is not None else None


def fk(target: str, *, ondelete: str | None = None, nullable: bool = False, **kw):
    """A foreign-key column with the index every foreign key should have."""
    return mapped_column(ForeignKey(target, ondelete=ondelete), index=True, nullable=nullable, **kw)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite ignores foreign keys unless asked. (How long it waits for a lock is the driver's
    `timeout`, set from DATABASE_BUSY_TIMEOUT by the app factory.)"""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


# --- work tied to the outcome of a transaction ------------------------------------------------
# One place keeps what a transaction has collected and what must happen once it ends, so that
# domains never write their own after-commit or after-rollback queues. A callback keyed twice
# runs once (the pack builds of one meeting, asked by several changes).

_AFTER_COMMIT, _AFTER_ROLLBACK, _SCRATCH = "mb_after_commit", "mb_after_rollback", "mb_scratch"
_BEFORE_COMMIT = "mb_before_commit"


def before_commit(session, fn, key=None) -> None:
    """Run fn() as the transaction commits, inside it, so what fn writes commits with it or
    not at all: for data derived from the change (the search index), which must never
    disagree with what was kept."""
    session.info.setdefault(_BEFORE_COMMIT, {})[key if key is not None else id(fn)] = fn


def on_commit(session, fn, key=None) -> None:
    """Run fn() once the session's current transaction has committed; forget it on rollback.
    For work that must never see uncommitted data (a worker reading the meeting, say)."""
    session.info.setdefault(_AFTER_COMMIT, {})[key if key is not None else id(fn)] = fn


def on_rollback(session, fn, key=None) -> None:
    """Run fn() if the session's current transaction rolls back; forget it on commit. For
    undoing what the database cannot (a file written for a row that was never kept)."""
    session.info.setdefault(_AFTER_ROLLBACK, {})[key if key is not None else id(fn)] = fn


def transaction_scratch(session, name: str, factory):
    """Somewhere for a listener to collect what this transaction changed (the audit's old
    values, the meetings search must re-index), emptied when the transaction ends."""
    scratch = session.info.setdefault(_SCRATCH, {})
    if name not in scratch:
        scratch[name] = factory()
    return scratch[name]


def _finish(session, run: str, drop: str) -> None:
    session.info.pop(_SCRATCH, None)
    session.info.pop(_BEFORE_COMMIT, None)
    session.info.pop(drop, None)
    callbacks = session.info.pop(run, None) or {}
    for fn in callbacks.values():
        try:
            fn()
        except Exception:
            # The transaction is over either way; a failed follow-up (a broker that is down)
            # is logged, not turned into a failure of what has already been kept.
            logging.getLogger(__name__).exception("work after the transaction failed")


@event.listens_for(Session, "before_commit")
def _before_commit(session) -> None:
    # Flush first: work is asked for as changes are flushed, and the commit's own final flush
    # would come too late for it. Work may flush more changes and ask for more: run until
    # nothing new is asked.
    session.flush()
    done: set = set()
    while True:
        asked = session.info.get(_BEFORE_COMMIT, {})
        pending = [(key, fn) for key, fn in list(asked.items()) if key not in done]
        if not pending:
            break
        for key, fn in pending:
            done.add(key)
            fn()
        session.flush()
    session.info.pop(_BEFORE_COMMIT, None)


@event.listens_for(Session, "after_commit")
def _after_commit(session) -> None:
    _finish(session, _AFTER_COMMIT, _AFTER_ROLLBACK)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session) -> None:
    _finish(session, _AFTER_ROLLBACK, _AFTER_COMMIT)
