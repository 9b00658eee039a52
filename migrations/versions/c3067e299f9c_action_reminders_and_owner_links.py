"""Action reminders and owners' update links.

Reviewed by hand: a new table of owners' links (a hash of each secret, never the secret;
removed with their action or person); action updates may name the person who reported them
(kept, unnamed, if that person is removed); committees get the number of days before an
action is due that its owner is reminded, 7 for every existing committee (server default),
between 0 and 365. Autogenerate also offered people.version, which is another change in
progress and not this one's, so it is left out, and it cannot see check constraints on an
existing table, so the committees one is added by hand (on SQLite as a column constraint, since a
table constraint there means copying and dropping the committees table, which every
meeting refers to).

Revision ID: c3067e299f9c
Revises: ca0a4d40ed62
Create Date: 2026-12-02 00:30:15.925594

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401  (project column types, e.g. UTCDateTime)


# revision identifiers, used by Alembic.
revision = 'c3067e299f9c'
down_revision = 'ca0a4d40ed62'
branch_labels = None
depends_on = None

REMINDER_RANGE = 'reminder_days_before >= 0 AND reminder_days_before <= 365'


def upgrade():
    op.create_table('notification_owner_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_user_id', sa.Integer(), nullable=True),
    sa.Column('used_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('expires_at > created_at', name=op.f('ck_notification_owner_links_expires_after_made')),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_notification_owner_links_action_id_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_notification_owner_links_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revoked_by_user_id'], ['users.id'], name=op.f('fk_notification_owner_links_revoked_by_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_owner_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_notification_owner_links_token_hash'))
    )
    with op.batch_alter_table('notification_owner_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_owner_links_action_id'), ['action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_owner_links_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_owner_links_revoked_by_user_id'), ['revoked_by_user_id'], unique=False)

    with op.batch_alter_table('action_updates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_person_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_action_updates_author_person_id'), ['author_person_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_action_updates_author_person_id_people'), 'people', ['author_person_id'], ['id'], ondelete='SET NULL')

    if op.get_bind().dialect.name == 'sqlite':
        # Adding a table constraint would make SQLite copy and drop the committees table,
        # which every meeting refers to: a column constraint goes in with the column instead.
        op.execute(
            "ALTER TABLE committees ADD COLUMN reminder_days_before INTEGER DEFAULT '7' NOT NULL "
            "CONSTRAINT ck_committees_reminder_days_before_in_range "
            f"CHECK ({REMINDER_RANGE})"
        )
    else:
        op.add_column('committees', sa.Column('reminder_days_before', sa.Integer(), server_default='7', nullable=False))
        op.create_check_constraint(
            op.f('ck_committees_reminder_days_before_in_range'), 'committees', REMINDER_RANGE
        )



def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite (3.35 on) drops a column with its own column constraint in place.
        op.execute("ALTER TABLE committees DROP COLUMN reminder_days_before")
    else:
        op.drop_constraint(op.f('ck_committees_reminder_days_before_in_range'), 'committees', type_='check')
        op.drop_column('committees', 'reminder_days_before')

    with op.batch_alter_table('action_updates', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_action_updates_author_person_id_people'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_action_updates_author_person_id'))
        batch_op.drop_column('author_person_id')

    with op.batch_alter_table('notification_owner_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_owner_links_revoked_by_user_id'))
        batch_op.drop_index(batch_op.f('ix_notification_owner_links_person_id'))
        batch_op.drop_index(batch_op.f('ix_notification_owner_links_action_id'))

    op.drop_table('notification_owner_links')
