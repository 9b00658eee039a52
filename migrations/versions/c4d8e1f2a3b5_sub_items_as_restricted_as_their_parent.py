"""Sub-items are at least as restricted as the item they belong to.

Reviewed by hand: data only, no schema change. A sub-item of exempt or confidential business
was stored as public by default, and the queries that filter by the stored visibility (the
decisions register, search, the action tracker) trusted it. From now on the agenda services
keep a sub-item at least as strict as its parent; this brings the rows written before into
line, giving each such sub-item its parent's visibility and, where it has none of its own, its
parent's Schedule 12A paragraphs and public-interest statement. Downgrade keeps the data: there
is no telling which sub-items were public by mistake.

Revision ID: c4d8e1f2a3b5
Revises: b7e2d4a9c1f0
Create Date: 2026-12-01 20:55:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4d8e1f2a3b5'
down_revision = 'b7e2d4a9c1f0'
branch_labels = None
depends_on = None


def _rank(column):
    return (
        f"(CASE {column} WHEN 'public' THEN 0 WHEN 'exempt' THEN 1 "
        "WHEN 'confidential' THEN 2 END)"
    )


LOOSER = (
    f"SELECT c.id FROM agenda_items c JOIN agenda_items p ON p.id = c.parent_id "
    f"WHERE {_rank('c.visibility')} < {_rank('p.visibility')}"
)


def upgrade():
    # Paragraphs first, while the rows to fix can still be told by their visibility.
    op.execute(
        "INSERT INTO agenda_item_paragraphs (agenda_item_id, paragraph) "
        "SELECT c.id, pp.paragraph FROM agenda_items c "
        "JOIN agenda_item_paragraphs pp ON pp.agenda_item_id = c.parent_id "
        f"WHERE c.id IN ({LOOSER}) AND NOT EXISTS "
        "(SELECT 1 FROM agenda_item_paragraphs own WHERE own.agenda_item_id = c.id)"
    )
    op.execute(
        "UPDATE agenda_items SET "
        "public_interest_reason = COALESCE(public_interest_reason, "
        "(SELECT p.public_interest_reason FROM agenda_items p "
        "WHERE p.id = agenda_items.parent_id)), "
        "visibility = (SELECT p.visibility FROM agenda_items p "
        "WHERE p.id = agenda_items.parent_id), "
        "version = version + 1 "
        f"WHERE id IN ({LOOSER})"
    )


def downgrade():
    pass
