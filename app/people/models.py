from __future__ import annotations

from sqlalchemy import CheckConstraint, Integer, String, func
from sqlalchemy.orm import Mapped, column_property, mapped_column

from app.core.db import created_at, intpk, str_name
from app.extensions import db


class Person(db.Model):
    """Someone who sits on, reports to or attends committees; need not have an account."""

    __tablename__ = "people"
    __table_args__ = (CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),)

    id: Mapped[intpk]
    name: Mapped[str_name]
    honorific: Mapped[str | None] = mapped_column(String(50))
    job_title: Mapped[str | None] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[created_at]
    # Optimistic locking for the edit form: two clerks editing one person cannot silently
    # overwrite each other (committees.services.update_person).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    @property
    def display_name(self) -> str:
        return f"{self.honorific} {self.name}" if self.honorific else self.name

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.name!r}>"


# The name as the database lowers it, for lists in name order: their cursors must hold the
# database's own value (SQLite lowers ASCII only, Python every letter). Loaded only by the lists
# that ask for it (undefer).
Person.sort_name = column_property(func.lower(Person.name), deferred=True)
