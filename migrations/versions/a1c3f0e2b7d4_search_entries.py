"""Full-text search entries, with SQLite FTS5 or a PostgreSQL GIN index.

Revision ID: a1c3f0e2b7d4
Revises: 86e626a3cbbf
Create Date: 2026-11-22 13:10:00

Written by hand: the FTS5 table and its triggers are SQLite-only and the GIN expression index
PostgreSQL-only; both mirror app/search/models.py.
"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401  (project column types, e.g. UTCDateTime)
from app.search.models import FULLTEXT_EXPRESSION, SQLITE_FTS_DDL, SQLITE_FTS_DROP

revision = "a1c3f0e2b7d4"
down_revision = "86e626a3cbbf"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "search_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["committee_id"], ["committees.id"],
                                name=op.f("fk_search_entries_committee_id_committees"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"],
                                name=op.f("fk_search_entries_meeting_id_meetings"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_entries")),
        sa.UniqueConstraint("kind", "ref_id", name=op.f("uq_search_entries_kind_ref_id")),
    )
    with op.batch_alter_table("search_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_entries_committee_id"), ["committee_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_search_entries_meeting_id"), ["meeting_id"],
                              unique=False)
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS_DDL:
            op.execute(statement)
    else:
        op.execute(
            f"CREATE INDEX ix_search_entries_fulltext ON search_entries USING gin "
            f"({FULLTEXT_EXPRESSION})"
        )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS_DROP:
            op.execute(statement)
    else:
        op.execute("DROP INDEX IF EXISTS ix_search_entries_fulltext")
    with op.batch_alter_table("search_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_entries_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_search_entries_committee_id"))
    op.drop_table("search_entries")
