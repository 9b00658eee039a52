"""Audit events name their meeting in an indexed column.

Reviewed by hand: a meeting's trail is read on every agenda-builder page and publication, and
reading it from the JSON data meant parsing every row; the column is filled from the data of
the events recorded so far. Not a foreign key: the trail outlives the records it describes.

Revision ID: b7e2d4a9c1f0
Revises: 7fff06808294
Create Date: 2026-11-23 07:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e2d4a9c1f0'
down_revision = '7fff06808294'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_events_meeting_id'), ['meeting_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "UPDATE audit_events SET meeting_id = (data ->> 'meeting_id')::integer "
            "WHERE data ->> 'meeting_id' IS NOT NULL"
        )
    else:
        op.execute(
            "UPDATE audit_events SET meeting_id = CAST(json_extract(data, '$.meeting_id') AS INTEGER) "
            "WHERE data IS NOT NULL AND json_extract(data, '$.meeting_id') IS NOT NULL"
        )


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_meeting_id'))
        batch_op.drop_column('meeting_id')
