"""Notification messages: the e-mail queue.

Reviewed by hand: one row per message and recipient, its key unique so the same message is
never queued or sent twice; the sender finds what is due by status and next attempt time.
A new table only, so nothing existing is touched.

Revision ID: ca0a4d40ed62
Revises: d9a4b6c2e8f1
Create Date: 2026-12-01 23:37:42.238519

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401  (project column types, e.g. UTCDateTime)


# revision identifiers, used by Alembic.
revision = 'ca0a4d40ed62'
down_revision = 'd9a4b6c2e8f1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('recipient_name', sa.String(length=200), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('sender', sa.String(length=400), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('message_id', sa.String(length=300), nullable=False),
    sa.Column('status', sa.Enum('queued', 'sent', 'failed', name=op.f('ck_notification_messages_message_status'), native_enum=False, create_constraint=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status != 'sent' OR sent_at IS NOT NULL", name=op.f('ck_notification_messages_sent_is_stamped')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_notification_messages_attempts_not_negative')),
    sa.CheckConstraint('length(trim(recipient)) > 0', name=op.f('ck_notification_messages_recipient_not_blank')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_notification_messages_person_id_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_messages')),
    sa.UniqueConstraint('key', name=op.f('uq_notification_messages_key'))
    )
    with op.batch_alter_table('notification_messages', schema=None) as batch_op:
        batch_op.create_index('ix_notification_messages_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_messages_person_id'), ['person_id'], unique=False)



def downgrade():
    with op.batch_alter_table('notification_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_messages_person_id'))
        batch_op.drop_index('ix_notification_messages_due')

    op.drop_table('notification_messages')
