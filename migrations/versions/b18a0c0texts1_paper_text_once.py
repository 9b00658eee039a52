"""A paper's text stored and indexed once per file (sha256), not once per paper and copy.

Reviewed by hand: search_texts holds each file's text once, with its own index, made by hand
as the models' DDL events make it (app/search/models.py): on SQLite the FTS5 table
search_fts_texts over it with its triggers, on PostgreSQL the table search_fts_texts of each
text's tsvector (written by a trigger when the text is stored, going with its text) and its
GIN index. Both are named search_fts* so the models-against-migrations check leaves them out,
as it does search_fts.

Search entries gain `sha256`, a foreign key to the text: a paper's entries (working and
published copies, in every meeting holding the same file) name their file's text and keep only
their title. Existing entries are moved over here, in SQL: each paper's file is its
document's, or, for a paper no longer on the working copy, the one its meeting's latest
snapshot names (read in Python, few); each file's text is made from its entries' bodies, and
the entries lose their bodies (on SQLite the FTS5 triggers re-index each entry as it is
updated; on PostgreSQL the generated tsvector follows). An entry whose file cannot be found
keeps its body: it is still found as before until the index is next rebuilt. The foreign key
is made last, once every file named has its text.

On SQLite adding the foreign key rebuilds search_entries (a batch operation), which drops its
FTS5 triggers with the old table; they are made again straight after (the ids, and so the
FTS5 rows, are kept).

Downgrade gives each paper's entry its text back before the texts go.

Revision ID: b18a0c0texts1
Revises: b15a0c0revs01
Create Date: 2026-12-02 05:30:00

"""

import json

import sqlalchemy as sa
from alembic import op

from app.search.models import (
    POSTGRES_TEXT_FTS_DDL,
    POSTGRES_TEXT_FTS_DROP,
    SQLITE_FTS_DDL,
    SQLITE_TEXT_FTS_DDL,
    SQLITE_TEXT_FTS_DROP,
)

revision = "b18a0c0texts1"
down_revision = "b15a0c0revs01"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "search_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_texts")),
        sa.UniqueConstraint("sha256", name=op.f("uq_search_texts_sha256")),
    )
    _run(SQLITE_TEXT_FTS_DDL, POSTGRES_TEXT_FTS_DDL)

    with op.batch_alter_table("search_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sha256", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_search_entries_sha256"), ["sha256"], unique=False)

    # Each paper entry's file: its document's, else the one its meeting's latest snapshot
    # gives the paper.
    op.execute(
        "UPDATE search_entries SET sha256 = "
        "(SELECT d.sha256 FROM documents d WHERE d.id = search_entries.ref_id) "
        "WHERE kind = 'document'"
    )
    conn = op.get_bind()
    gone = conn.execute(
        sa.text(
            "SELECT id, ref_id, meeting_id FROM search_entries "
            "WHERE kind = 'document' AND sha256 IS NULL"
        )
    ).all()
    for entry_id, ref_id, meeting_id in gone:
        sha256 = _snapshot_file(conn, meeting_id, ref_id)
        if sha256:
            conn.execute(
                sa.text("UPDATE search_entries SET sha256 = :sha256 WHERE id = :id"),
                {"id": entry_id, "sha256": sha256},
            )

    # One text per file, from its entries' bodies (the same file's text; max() prefers one
    # that is not empty), then the entries keep only their titles.
    op.execute(
        "INSERT INTO search_texts (sha256, body) "
        "SELECT sha256, max(body) FROM search_entries WHERE sha256 IS NOT NULL GROUP BY sha256"
    )
    op.execute("UPDATE search_entries SET body = '' WHERE sha256 IS NOT NULL AND body != ''")

    with op.batch_alter_table("search_entries", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_search_entries_sha256_search_texts"),
            "search_texts",
            ["sha256"],
            ["sha256"],
        )
    _entry_triggers()


def downgrade():
    op.execute(
        "UPDATE search_entries SET body = "
        "(SELECT t.body FROM search_texts t WHERE t.sha256 = search_entries.sha256) "
        "WHERE sha256 IS NOT NULL"
    )
    with op.batch_alter_table("search_entries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_search_entries_sha256_search_texts"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_search_entries_sha256"))
        batch_op.drop_column("sha256")
    _entry_triggers()
    _run(SQLITE_TEXT_FTS_DROP, POSTGRES_TEXT_FTS_DROP)
    op.drop_table("search_texts")


def _snapshot_file(conn, meeting_id: int, document_id: int) -> str | None:
    """The file the meeting's latest snapshot gives the paper, if any."""
    snapshot = conn.execute(
        sa.text(
            "SELECT snapshot FROM agenda_publications WHERE meeting_id = :m "
            "AND snapshot IS NOT NULL ORDER BY revision DESC LIMIT 1"
        ),
        {"m": meeting_id},
    ).scalar()
    if isinstance(snapshot, str):
        snapshot = json.loads(snapshot)
    for item in (snapshot or {}).get("items", []):
        for paper in item.get("documents", []):
            if paper.get("id") == document_id:
                return paper.get("sha256")
    return None


def _run(sqlite_statements, postgres_statements):
    dialect = op.get_bind().dialect.name
    for statement in sqlite_statements if dialect == "sqlite" else postgres_statements:
        op.execute(statement)


def _entry_triggers():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS_DDL:
            op.execute(statement)
