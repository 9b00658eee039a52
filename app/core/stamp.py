"""One number that moves with every change a reader could see: a cheap validator for outputs
worked out from many records (an agenda pack reads the agenda, the previous minutes, the
action log and the membership). A request that finds the number where it was when the
output's content key was last worked out knows, in one query, that the key still holds.

Moved inside the transaction that makes the change (so it commits with it or not at all),
once per transaction, by any write to a table outside IGNORED: an ORM flush or a bulk
UPDATE/DELETE. It errs on the side of moving: an output is worked out again for nothing
rather than served stale. On PostgreSQL the row is locked by each writing transaction until it
commits; writes are short and few beside reads."""

from __future__ import annotations

from sqlalchemy import DDL, BigInteger, Integer, event, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.db import before_commit
from app.extensions import db

# Tables whose rows no derived output shows: bookkeeping, mail, sign-in and the index itself.
IGNORED = frozenset(
    {
        "api_tokens",
        "audit_events",
        "change_stamps",
        "ical_event_cache",
        "invitations",
        "notification_messages",
        "notification_opt_outs",
        "notification_owner_links",
        "notification_subscriptions",
        "search_entries",
        "search_texts",
        "sign_in_throttles",
        "users",
    }
)


class ChangeStamp(db.Model):
    __tablename__ = "change_stamps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the one row: 1
    value: Mapped[int] = mapped_column(BigInteger, default=0)


# The one row exists from the start (the migration inserts it too), so moving it is always an
# UPDATE: two first writers never race to insert it.
event.listen(
    ChangeStamp.__table__,
    "after_create",
    DDL("INSERT INTO change_stamps (id, value) VALUES (1, 0)"),
)


# Built once: it is asked on every download of a pack.
_CURRENT = select(ChangeStamp.value).where(ChangeStamp.id == 1)


def current() -> int | None:
    """The number now (None if the row is missing: then nothing may be taken as unchanged)."""
    return db.session.scalar(_CURRENT)


def as_column():
    """The number now as a column, for a request to read it in the statement that reads its
    rows (the pack route: one statement for a download)."""
    return _CURRENT.scalar_subquery()


def _move(session: Session) -> None:
    moved = session.execute(
        update(ChangeStamp).where(ChangeStamp.id == 1).values(value=ChangeStamp.value + 1)
    )
    if moved.rowcount:
        return
    # The row has gone (tables emptied by hand): put it back, racing no one, and move it.
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(ChangeStamp).values(id=1, value=0).on_conflict_do_nothing())
    session.execute(
        update(ChangeStamp).where(ChangeStamp.id == 1).values(value=ChangeStamp.value + 1)
    )


def _changed(session: Session) -> None:
    before_commit(session, lambda: _move(session), key=("change-stamp",))


def _seen(table_name: str | None) -> bool:
    return table_name is not None and table_name not in IGNORED


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if _seen(getattr(obj, "__tablename__", None)) and (
            obj not in session.dirty or session.is_modified(obj)
        ):
            _changed(session)
            return


@event.listens_for(Session, "do_orm_execute")
def _bulk(state) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if _seen(getattr(table, "name", None)):
        _changed(state.session)
