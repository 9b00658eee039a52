"""Minutes keep the prefix they were approved with.

Reviewed by hand: a minute's displayed number was the committee's current prefix and its
number, so changing the prefix (for a new municipal year, say) renumbered every approved
minute. The prefix is now stamped on each minute when its meeting's minutes are approved;
minutes approved before this revision are stamped with the committee's prefix as it stands.

Revision ID: d9a4b6c2e8f1
Revises: 1c7287668c12
Create Date: 2026-12-01 20:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd9a4b6c2e8f1'
down_revision = '1c7287668c12'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('minutes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prefix', sa.String(length=20), nullable=True))
    op.execute(
        "UPDATE minutes SET prefix = COALESCE((SELECT c.minute_prefix FROM committees c "
        "WHERE c.id = minutes.committee_id), '') "
        "WHERE meeting_id IN (SELECT id FROM meetings WHERE minutes_state = 'approved')"
    )


def downgrade():
    with op.batch_alter_table('minutes', schema=None) as batch_op:
        batch_op.drop_column('prefix')
