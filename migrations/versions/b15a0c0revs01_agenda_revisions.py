"""Agenda revisions as snapshots (placeholder in the chain, filled in by the work that needs it).

Revision ID: b15a0c0revs01
Revises: b17a0c0scale1
Create Date: 2026-12-02 02:20:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import app.core.db  # noqa: F401  (project column types, e.g. UTCDateTime)


# revision identifiers, used by Alembic.
revision = 'b15a0c0revs01'
down_revision = 'b17a0c0scale1'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
