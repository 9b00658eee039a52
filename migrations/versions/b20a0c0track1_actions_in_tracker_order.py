"""Council scale: the actions in the tracker's order (issue 17).

Reviewed by hand: one index on actions ((due_date IS NULL), due_date, id), the expressions the
tracker, its cursors and GET /api/v1/actions order by (actions.services.TRACKER_ORDER: due
date, those without one last, then id). Without it every page sorted every action the reader
may see before taking the first hundred; with it both databases walk the index in order and
stop at a page. Checked with EXPLAIN QUERY PLAN on SQLite (SCAN actions USING INDEX, no temp
B-tree) and EXPLAIN on PostgreSQL.

Revision ID: b20a0c0track1
Revises: b19a0c0audit1
Create Date: 2026-12-02 14:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b20a0c0track1"
down_revision = "b19a0c0audit1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_actions_tracker_order",
        "actions",
        [sa.text("(due_date IS NULL)"), "due_date", "id"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_actions_tracker_order", table_name="actions")
