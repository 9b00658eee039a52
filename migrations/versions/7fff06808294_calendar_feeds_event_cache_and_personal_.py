"""Calendar feeds: the serialised-event cache and personal feed tokens.

Reviewed by hand: the new NOT NULL flag gets a server default so existing users can be
migrated; the cache table needs no index beyond its primary key; meetings get an index
on updated_at for the feeds' cheap change check.

Revision ID: 7fff06808294
Revises: a1c3f0e2b7d4
Create Date: 2026-11-22 13:49:18.034897

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401  (project column types, e.g. UTCDateTime)


# revision identifiers, used by Alembic.
revision = '7fff06808294'
down_revision = 'a1c3f0e2b7d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ical_event_cache',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('built_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_ical_event_cache_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id', name=op.f('pk_ical_event_cache'))
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index('ix_meetings_updated_at', ['updated_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_nonce', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('calendar_token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('actions_feed_enabled', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_unique_constraint(batch_op.f('uq_users_calendar_token_hash'), ['calendar_token_hash'])



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_calendar_token_hash'), type_='unique')
        batch_op.drop_column('actions_feed_enabled')
        batch_op.drop_column('calendar_token_hash')
        batch_op.drop_column('calendar_nonce')

    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index('ix_meetings_updated_at')

    op.drop_table('ical_event_cache')
