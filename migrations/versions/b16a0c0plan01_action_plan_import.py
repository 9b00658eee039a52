"""Action plans as councils keep them (placeholder in the chain, filled in by the work that needs it).

Revision ID: b16a0c0plan01
Revises: 47e769550042
Create Date: 2026-12-02 02:20:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import app.core.db  # noqa: F401  (project column types, e.g. UTCDateTime)


# revision identifiers, used by Alembic.
revision = 'b16a0c0plan01'
down_revision = '47e769550042'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
