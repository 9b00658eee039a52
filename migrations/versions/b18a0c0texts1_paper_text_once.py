"""Placeholder: a paper's text indexed once per sha256 (issue 17).

Reviewed by hand: filled in by the change that uses it.

Revision ID: b18a0c0texts1
Revises: b15a0c0revs01
Create Date: 2026-12-02 05:30:00

"""


revision = "b18a0c0texts1"
down_revision = "b15a0c0revs01"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
