"""Council scale: an index for a committee's meetings in time order (issue 17).

Reviewed by hand: one composite index on meetings (committee_id, starts_at), so the decisions
register and the API's lists filtered to a committee read that committee's meetings newest (or
oldest) first a page at a time, instead of walking every committee's meetings by starts_at or
sorting all of one committee's. Checked with EXPLAIN QUERY PLAN on SQLite and EXPLAIN on
PostgreSQL. The unfiltered register already walks ix_meetings_starts_at.

Revision ID: b17a0c0scale1
Revises: b16b0c0subs01
Create Date: 2026-12-02 02:20:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import app.core.db  # noqa: F401  (project column types, e.g. UTCDateTime)


# revision identifiers, used by Alembic.
revision = 'b17a0c0scale1'
down_revision = 'b16b0c0subs01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_meetings_committee_id_starts_at",
        "meetings",
        ["committee_id", "starts_at"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_meetings_committee_id_starts_at", table_name="meetings")
