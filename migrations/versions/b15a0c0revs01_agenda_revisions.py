"""Agenda revisions as snapshots: each publication keeps the agenda as published, and an index
of the papers each revision carries.

Reviewed by hand: `snapshot` is nullable because publications made before this migration have
none (they read as the working copy, as before). revision_papers.document_id is deliberately
not a foreign key: a paper removed from the working copy stays in the revisions that published
it. Its rows go with their publication and their meeting.

Revision ID: b15a0c0revs01
Revises: b17a0c0scale1
Create Date: 2026-12-02 02:20:00

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401  (project column types, e.g. UTCDateTime)


# revision identifiers, used by Alembic.
revision = 'b15a0c0revs01'
down_revision = 'b17a0c0scale1'
branch_labels = None
depends_on = None


def upgrade():
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
    with op.batch_alter_table('revision_papers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revision_papers_publication_id'))
        batch_op.drop_index(batch_op.f('ix_revision_papers_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_revision_papers_document_id'))

    op.drop_table('revision_papers')
    with op.batch_alter_table('agenda_publications', schema=None) as batch_op:
        batch_op.drop_column('snapshot')
