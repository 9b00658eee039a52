"""E-mail subscriptions and preferences.

Reviewed by hand: a table of subscriptions to a committee's publications (the address, lower
case, once per committee; when it was confirmed, None until the link sent is followed; when a
message about subscribing was last sent, so none goes twice within a short window; removed
with their committee), a table of the kinds of message a person has chosen not to receive
(once per person and kind, removed with the person), and two columns on notification
messages: the subscription a message is for (kept, unlinked, when the subscription ends) and
its one-click unsubscribe address (List-Unsubscribe, RFC 8058). The new columns are nullable,
so existing messages need nothing.

Revision ID: b16b0c0subs01
Revises: b16a0c0plan01
Create Date: 2026-12-02 02:20:00

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401  (project column types, e.g. UTCDateTime)


# revision identifiers, used by Alembic.
revision = 'b16b0c0subs01'
down_revision = 'b16a0c0plan01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('committee_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notice_sent_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('length(trim(email)) > 0', name=op.f('ck_notification_subscriptions_email_not_blank')),
    sa.ForeignKeyConstraint(['committee_id'], ['committees.id'], name=op.f('fk_notification_subscriptions_committee_id_committees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_subscriptions')),
    sa.UniqueConstraint('committee_id', 'email', name=op.f('uq_notification_subscriptions_committee_id_email'))
    )
    with op.batch_alter_table('notification_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_subscriptions_committee_id'), ['committee_id'], unique=False)

    op.create_table('notification_opt_outs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('agenda', 'minutes', 'reminders', 'overdue', 'digest', name='notification_kind', native_enum=False, create_constraint=True, length=9), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_notification_opt_outs_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_opt_outs')),
    sa.UniqueConstraint('person_id', 'kind', name=op.f('uq_notification_opt_outs_person_id_kind'))
    )
    with op.batch_alter_table('notification_opt_outs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_opt_outs_person_id'), ['person_id'], unique=False)

    with op.batch_alter_table('notification_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subscription_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('unsubscribe_url', sa.String(length=500), nullable=True))
        batch_op.create_index(batch_op.f('ix_notification_messages_subscription_id'), ['subscription_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notification_messages_subscription_id_notification_subscriptions'), 'notification_subscriptions', ['subscription_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('notification_messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notification_messages_subscription_id_notification_subscriptions'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notification_messages_subscription_id'))
        batch_op.drop_column('unsubscribe_url')
        batch_op.drop_column('subscription_id')

    with op.batch_alter_table('notification_opt_outs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_opt_outs_person_id'))

    op.drop_table('notification_opt_outs')
    with op.batch_alter_table('notification_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_subscriptions_committee_id'))

    op.drop_table('notification_subscriptions')
