"""Agenda revisions as snapshots: each publication keeps the agenda as published, and an index
of the papers each revision carries.

Reviewed by hand: `snapshot` is nullable because publications made before this migration have
none (they read as the working copy, as before). revision_papers.document_id is deliberately
not a foreign key: a paper removed from the working copy stays in the revisions that published
it. Its rows go with their publication and their meeting.

Search entries gain `copy`: minutes and resolutions are the record; an agenda's items and papers
are indexed twice, as the working copy (staff) and as published (everyone else). Every
publication before this migration has no snapshot and so reads as the working copy: the
published entries of a published meeting are therefore copies of its working entries, made
here in SQL (on SQLite the FTS5 triggers index the copies as they are inserted). The unique
constraint takes the copy in. On SQLite the batch operation rebuilds search_entries, which
drops its FTS5 triggers with the old table; they are created again straight after (the ids, and
so the FTS5 rows, are kept).

On PostgreSQL the text is also stored as a tsvector (a generated column) and the GIN index is
made over it instead of the expression, so ranking a match reads the stored vector.

change_stamps (app/core/stamp.py) holds the one number every write moves, with its row
inserted here: moving it is always an UPDATE.

Revision ID: b15a0c0revs01
Revises: b17a0c0scale1
Create Date: 2026-12-02 02:20:00

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401  (project column types, e.g. UTCDateTime)
from app.search.models import FULLTEXT_EXPRESSION, POSTGRES_FTS_DDL, SQLITE_FTS_DDL


# revision identifiers, used by Alembic.
revision = 'b15a0c0revs01'
down_revision = 'b17a0c0scale1'
branch_labels = None
depends_on = None


AGENDA_KINDS = "('item', 'purpose', 'document')"


def upgrade():
    op.create_table('change_stamps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_stamps'))
    )
    op.execute("INSERT INTO change_stamps (id, value) VALUES (1, 0)")

    with op.batch_alter_table('search_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('copy', sa.String(length=10), server_default='record', nullable=False))
        batch_op.drop_constraint('uq_search_entries_kind_ref_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_search_entries_kind_ref_id_copy'), ['kind', 'ref_id', 'copy'])
    _fts_triggers()
    _postgres_fulltext(stored=True)
    op.execute(f"UPDATE search_entries SET copy = 'working' WHERE kind IN {AGENDA_KINDS}")
    op.execute(
        "INSERT INTO search_entries (kind, ref_id, meeting_id, committee_id, title, body, updated_at, copy) "
        "SELECT e.kind, e.ref_id, e.meeting_id, e.committee_id, e.title, e.body, e.updated_at, 'published' "
        "FROM search_entries e JOIN meetings m ON m.id = e.meeting_id "
        f"WHERE e.copy = 'working' AND m.agenda_revision > 0"
    )

    with op.batch_alter_table('agenda_publications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('snapshot', sa.JSON(), nullable=True))

    op.create_table('revision_papers',
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_revision_papers_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['publication_id'], ['agenda_publications.id'], name=op.f('fk_revision_papers_publication_id_agenda_publications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('publication_id', 'document_id', name=op.f('pk_revision_papers'))
    )
    with op.batch_alter_table('revision_papers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revision_papers_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_revision_papers_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_revision_papers_publication_id'), ['publication_id'], unique=False)


def downgrade():
    op.drop_table('change_stamps')
    _postgres_fulltext(stored=False)
    with op.batch_alter_table('revision_papers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revision_papers_publication_id'))
        batch_op.drop_index(batch_op.f('ix_revision_papers_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_revision_papers_document_id'))

    op.drop_table('revision_papers')
    op.execute("DELETE FROM search_entries WHERE copy = 'published'")
    with op.batch_alter_table('search_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_search_entries_kind_ref_id_copy'), type_='unique')
        batch_op.create_unique_constraint('uq_search_entries_kind_ref_id', ['kind', 'ref_id'])
        batch_op.drop_column('copy')
    _fts_triggers()
    with op.batch_alter_table('agenda_publications', schema=None) as batch_op:
        batch_op.drop_column('snapshot')


def _postgres_fulltext(stored: bool):
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_search_entries_fulltext")
    if stored:
        for statement in POSTGRES_FTS_DDL:
            op.execute(statement)
    else:
        op.execute("ALTER TABLE search_entries DROP COLUMN IF EXISTS fulltext")
        op.execute(
            f"CREATE INDEX ix_search_entries_fulltext ON search_entries USING gin "
            f"({FULLTEXT_EXPRESSION})"
        )


def _fts_triggers():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS_DDL:
            op.execute(statement)
