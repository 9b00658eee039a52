"""Action plans as councils keep them: the other leads a plan names beside an action's owner.

Reviewed by hand: one new table, action_co_owners (action, person, position in the plan's
cell), each foreign key indexed and cascading (a co-owner link means nothing without its
action or its person), one link per person and action. Theme, objective, review date and
target measure were already columns of actions.

Revision ID: b16a0c0plan01
Revises: 47e769550042
Create Date: 2026-12-02 02:20:00

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401  (project column types, e.g. UTCDateTime)


# revision identifiers, used by Alembic.
revision = 'b16a0c0plan01'
down_revision = '47e769550042'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('action_co_owners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_action_co_owners_action_id_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_action_co_owners_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_co_owners')),
    sa.UniqueConstraint('action_id', 'person_id', name=op.f('uq_action_co_owners_action_id_person_id'))
    )
    with op.batch_alter_table('action_co_owners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_co_owners_action_id'), ['action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_co_owners_person_id'), ['person_id'], unique=False)


def downgrade():
    with op.batch_alter_table('action_co_owners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_co_owners_person_id'))
        batch_op.drop_index(batch_op.f('ix_action_co_owners_action_id'))
    op.drop_table('action_co_owners')
