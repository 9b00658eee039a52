"""Council scale: the audit trail read by record (issue 17).

Reviewed by hand: one composite index on audit_events (entity_type, entity_id). The clerk's
meeting page reads the corrections of the actions its minutes gave rise to, an action's page
its own corrections, and the meeting's trail its items' and papers' events, each by entity
type and ids; without the index each read walked the whole trail (407 ms on ten years of a
council's record on SQLite). Checked with EXPLAIN QUERY PLAN on SQLite and EXPLAIN on
PostgreSQL.

Revision ID: b19a0c0audit1
Revises: b18a0c0texts1
Create Date: 2026-12-02 13:45:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "b19a0c0audit1"
down_revision = "b18a0c0texts1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_audit_events_entity", "audit_events", ["entity_type", "entity_id"], unique=False
    )


def downgrade():
    op.drop_index("ix_audit_events_entity", table_name="audit_events")
