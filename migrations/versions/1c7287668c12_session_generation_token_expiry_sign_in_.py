"""Sessions end server-side, API tokens can expire, sign-in attempts are counted per key.

Reviewed by hand. users.session_generation starts at 0 for every existing account, which is
what the sessions already issued are taken to carry, so nobody is signed out by the upgrade.
Existing tokens get no expiry. sign_in_throttles starts empty: the old throttle counted audit
rows, which stay as the record of failures but no longer decide anything.

Revision ID: 1c7287668c12
Revises: c4d8e1f2a3b5
Create Date: 2026-12-01 20:27:54.750440

"""

import sqlalchemy as sa
from alembic import op

import app.core.db

# revision identifiers, used by Alembic.
revision = "1c7287668c12"
down_revision = "c4d8e1f2a3b5"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_in_throttles",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttles")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", app.core.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
    op.drop_table("sign_in_throttles")
