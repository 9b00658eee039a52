"""Initial schema: the whole domain model of DESIGN.md.

Reviewed by hand: enum CHECK constraints are given their conventional names
(ck_<table>_<enum>) because op.create_table does not apply the models' naming
convention to them; UTCDateTime is the project's own type, imported below.

Revision ID: 86e626a3cbbf
Revises: 
Create Date: 2026-11-22 12:26:30.065404

"""
from alembic import op
import sqlalchemy as sa

import app.core.db


# revision identifiers, used by Alembic.
revision = '86e626a3cbbf'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('committees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('default_venue', sa.String(length=300), nullable=True),
    sa.Column('default_start_time', sa.Time(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('regime', sa.Enum('principal', 'parish', 'none', name=op.f('ck_committees_regime'), native_enum=False, create_constraint=True), nullable=False),
    sa.Column('first_minute_number', sa.Integer(), nullable=False),
    sa.Column('minute_prefix', sa.String(length=20), nullable=True),
    sa.Column('last_minute_number', sa.Integer(), nullable=True),
    sa.Column('quorum_count', sa.Integer(), nullable=True),
    sa.Column('quorum_fraction', sa.String(length=20), nullable=True),
    sa.Column('publish_draft_minutes', sa.Boolean(), nullable=False),
    sa.Column('sections', sa.JSON(), nullable=False),
    sa.Column('agenda_template', sa.JSON(), nullable=False),
    sa.Column('clerk_name', sa.String(length=200), nullable=True),
    sa.Column('clerk_email', sa.String(length=254), nullable=True),
    sa.Column('clerk_phone', sa.String(length=50), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('first_minute_number >= 1', name=op.f('ck_committees_first_minute_number_positive')),
    sa.CheckConstraint('length(slug) > 0', name=op.f('ck_committees_slug_not_blank')),
    sa.CheckConstraint('length(trim(name)) > 0', name=op.f('ck_committees_name_not_blank')),
    sa.CheckConstraint('quorum_count IS NULL OR quorum_count >= 1', name=op.f('ck_committees_quorum_count_positive')),
    sa.CheckConstraint('quorum_count IS NULL OR quorum_fraction IS NULL', name=op.f('ck_committees_quorum_count_or_fraction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_committees')),
    sa.UniqueConstraint('name', name=op.f('uq_committees_name')),
    sa.UniqueConstraint('slug', name=op.f('uq_committees_slug'))
    )
    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('honorific', sa.String(length=50), nullable=True),
    sa.Column('job_title', sa.String(length=200), nullable=True),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(trim(name)) > 0', name=op.f('ck_people_name_not_blank')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people'))
    )
    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('committee_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('starts_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('venue', sa.String(length=300), nullable=True),
    sa.Column('status', sa.Enum('scheduled', 'cancelled', 'postponed', 'held', name=op.f('ck_meetings_meeting_status'), native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('ical_uid', sa.String(length=200), nullable=False),
    sa.Column('ical_sequence', sa.Integer(), nullable=False),
    sa.Column('agenda_state', sa.Enum('draft', 'published', name=op.f('ck_meetings_agenda_state'), native_enum=False, create_constraint=True), nullable=False),
    sa.Column('agenda_published_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('agenda_revision', sa.Integer(), nullable=False),
    sa.Column('minutes_state', sa.Enum('none', 'draft', 'published', 'approved', name=op.f('ck_meetings_minutes_state'), native_enum=False, create_constraint=True), nullable=False),
    sa.Column('minutes_published_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('minutes_approved_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_at_meeting_id', sa.Integer(), nullable=True),
    sa.Column('approval_amendments', sa.Text(), nullable=True),
    sa.Column('chair_signed_name', sa.String(length=200), nullable=True),
    sa.Column('chair_signed_on', sa.Date(), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("minutes_state != 'approved' OR minutes_approved_at IS NOT NULL", name=op.f('ck_meetings_approval_is_stamped')),
    sa.CheckConstraint("status NOT IN ('cancelled', 'postponed') OR status_reason IS NOT NULL", name=op.f('ck_meetings_cancellation_has_reason')),
    sa.CheckConstraint('agenda_revision >= 0', name=op.f('ck_meetings_agenda_revision_not_negative')),
    sa.CheckConstraint('ends_at IS NULL OR ends_at > starts_at', name=op.f('ck_meetings_ends_after_start')),
    sa.CheckConstraint('ical_sequence >= 0', name=op.f('ck_meetings_ical_sequence_not_negative')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_meetings_version_positive')),
    sa.ForeignKeyConstraint(['approved_at_meeting_id'], ['meetings.id'], name=op.f('fk_meetings_approved_at_meeting_id_meetings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['committee_id'], ['committees.id'], name=op.f('fk_meetings_committee_id_committees'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings')),
    sa.UniqueConstraint('ical_uid', name=op.f('uq_meetings_ical_uid'))
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meetings_approved_at_meeting_id'), ['approved_at_meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meetings_committee_id'), ['committee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meetings_starts_at'), ['starts_at'], unique=False)

    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('committee_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('chair', 'vice_chair', 'member', 'substitute', 'co_opted', 'observer', 'officer', name=op.f('ck_memberships_membership_role'), native_enum=False, create_constraint=True), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('end_date IS NULL OR start_date IS NULL OR end_date >= start_date', name=op.f('ck_memberships_dates_in_order')),
    sa.ForeignKeyConstraint(['committee_id'], ['committees.id'], name=op.f('fk_memberships_committee_id_committees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_memberships_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberships_committee_id'), ['committee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_memberships_person_id'), ['person_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('role', sa.Enum('admin', 'clerk', 'member', 'viewer', name=op.f('ck_users_role'), native_enum=False, create_constraint=True), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_users_email_lowercase')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_users_person_id_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_person_id'), ['person_id'], unique=True)

    op.create_table('agenda_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.Enum('apologies', 'declarations', 'previous_minutes', 'matters_arising', 'business', 'aob', 'next_meeting', 'exclusion', name=op.f('ck_agenda_items_item_kind'), native_enum=False, create_constraint=True), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=True),
    sa.Column('presenter_id', sa.Integer(), nullable=True),
    sa.Column('presenter_text', sa.String(length=300), nullable=True),
    sa.Column('visibility', sa.Enum('public', 'exempt', 'confidential', name=op.f('ck_agenda_items_visibility'), native_enum=False, create_constraint=True), nullable=False),
    sa.Column('public_interest_reason', sa.Text(), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('urgent_reason', sa.Text(), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("visibility != 'exempt' OR public_interest_reason IS NOT NULL", name=op.f('ck_agenda_items_exempt_has_public_interest_reason')),
    sa.CheckConstraint('NOT urgent OR urgent_reason IS NOT NULL', name=op.f('ck_agenda_items_urgent_has_reason')),
    sa.CheckConstraint('length(trim(title)) > 0', name=op.f('ck_agenda_items_title_not_blank')),
    sa.CheckConstraint('parent_id IS NULL OR parent_id != id', name=op.f('ck_agenda_items_not_own_parent')),
    sa.CheckConstraint('position >= 0', name=op.f('ck_agenda_items_position_not_negative')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_agenda_items_version_positive')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_agenda_items_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['agenda_items.id'], name=op.f('fk_agenda_items_parent_id_agenda_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['presenter_id'], ['people.id'], name=op.f('fk_agenda_items_presenter_id_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_items')),
    sa.UniqueConstraint('meeting_id', 'parent_id', 'position', name=op.f('uq_agenda_items_meeting_id_parent_id_position'))
    )
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_items_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agenda_items_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agenda_items_presenter_id'), ['presenter_id'], unique=False)
        batch_op.create_index('uq_agenda_items_top_level_position', ['meeting_id', 'position'], unique=True, sqlite_where=sa.text('parent_id IS NULL'), postgresql_where=sa.text('parent_id IS NULL'))

    op.create_table('agenda_publications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('published_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('deadline', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('late_reason', sa.Text(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.CheckConstraint('NOT late OR late_reason IS NOT NULL', name=op.f('ck_agenda_publications_late_has_reason')),
    sa.CheckConstraint('revision >= 1', name=op.f('ck_agenda_publications_revision_positive')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_agenda_publications_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_agenda_publications_published_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_publications')),
    sa.UniqueConstraint('meeting_id', 'revision', name=op.f('uq_agenda_publications_meeting_id_revision'))
    )
    with op.batch_alter_table('agenda_publications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_publications_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agenda_publications_published_by_id'), ['published_by_id'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('verb', sa.String(length=100), nullable=False),
    sa.Column('entity_type', sa.String(length=100), nullable=True),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_events_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_user_id'), ['user_id'], unique=False)

    op.create_table('agenda_item_paragraphs',
    sa.Column('agenda_item_id', sa.Integer(), nullable=False),
    sa.Column('paragraph', sa.Integer(), nullable=False),
    sa.CheckConstraint('paragraph BETWEEN 1 AND 7', name=op.f('ck_agenda_item_paragraphs_paragraph_1_to_7')),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_items.id'], name=op.f('fk_agenda_item_paragraphs_agenda_item_id_agenda_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agenda_item_id', 'paragraph', name=op.f('pk_agenda_item_paragraphs'))
    )
    with op.batch_alter_table('agenda_item_paragraphs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_item_paragraphs_agenda_item_id'), ['agenda_item_id'], unique=False)

    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('present', 'apologies', 'absent', 'substitute', 'in_attendance', name=op.f('ck_attendance_attendance_status'), native_enum=False, create_constraint=True), nullable=False),
    sa.Column('substitute_for_id', sa.Integer(), nullable=True),
    sa.Column('in_chair', sa.Boolean(), nullable=False),
    sa.Column('capacity', sa.String(length=200), nullable=True),
    sa.Column('arrived_at_item_id', sa.Integer(), nullable=True),
    sa.Column('left_at_item_id', sa.Integer(), nullable=True),
    sa.Column('apologies_sent_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(status = 'substitute') = (substitute_for_id IS NOT NULL)", name=op.f('ck_attendance_substitute_names_whom')),
    sa.CheckConstraint("NOT in_chair OR status IN ('present', 'substitute')", name=op.f('ck_attendance_chair_is_present')),
    sa.CheckConstraint('substitute_for_id IS NULL OR substitute_for_id != person_id', name=op.f('ck_attendance_not_own_substitute')),
    sa.ForeignKeyConstraint(['arrived_at_item_id'], ['agenda_items.id'], name=op.f('fk_attendance_arrived_at_item_id_agenda_items'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['left_at_item_id'], ['agenda_items.id'], name=op.f('fk_attendance_left_at_item_id_agenda_items'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_attendance_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_attendance_person_id_people'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['substitute_for_id'], ['people.id'], name=op.f('fk_attendance_substitute_for_id_people'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance')),
    sa.UniqueConstraint('meeting_id', 'person_id', name=op.f('uq_attendance_meeting_id_person_id'))
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_arrived_at_item_id'), ['arrived_at_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_left_at_item_id'), ['left_at_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_substitute_for_id'), ['substitute_for_id'], unique=False)

    op.create_table('declarations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('agenda_item_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('disclosable_pecuniary', 'other_registrable', 'non_registrable', name=op.f('ck_declarations_declaration_kind'), native_enum=False, create_constraint=True), nullable=False),
    sa.Column('nature', sa.Text(), nullable=False),
    sa.Column('withdrew', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(trim(nature)) > 0', name=op.f('ck_declarations_nature_not_blank')),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_items.id'], name=op.f('fk_declarations_agenda_item_id_agenda_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_declarations_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_declarations_person_id_people'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declarations'))
    )
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_declarations_agenda_item_id'), ['agenda_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_declarations_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_declarations_person_id'), ['person_id'], unique=False)

    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agenda_item_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('page_count', sa.Integer(), nullable=False),
    sa.Column('visibility', sa.Enum('public', 'exempt', 'confidential', name=op.f('ck_documents_visibility'), native_enum=False, create_constraint=True), nullable=False),
    sa.Column('public_interest_reason', sa.Text(), nullable=True),
    sa.Column('text_content', sa.Text(), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("visibility != 'exempt' OR public_interest_reason IS NOT NULL", name=op.f('ck_documents_exempt_has_public_interest_reason')),
    sa.CheckConstraint('length(sha256) = 64', name=op.f('ck_documents_sha256_length')),
    sa.CheckConstraint('page_count >= 1', name=op.f('ck_documents_page_count_positive')),
    sa.CheckConstraint('position >= 0', name=op.f('ck_documents_position_not_negative')),
    sa.CheckConstraint('size_bytes >= 1', name=op.f('ck_documents_size_positive')),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_items.id'], name=op.f('fk_documents_agenda_item_id_agenda_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_documents_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('agenda_item_id', 'position', name=op.f('uq_documents_agenda_item_id_position'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_agenda_item_id'), ['agenda_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_uploaded_by_id'), ['uploaded_by_id'], unique=False)

    op.create_table('minutes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('committee_id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('agenda_item_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('number >= 1', name=op.f('ck_minutes_number_positive')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_minutes_version_positive')),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_items.id'], name=op.f('fk_minutes_agenda_item_id_agenda_items'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['committee_id'], ['committees.id'], name=op.f('fk_minutes_committee_id_committees'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_minutes_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes')),
    sa.UniqueConstraint('agenda_item_id', name=op.f('uq_minutes_agenda_item_id')),
    sa.UniqueConstraint('committee_id', 'number', name=op.f('uq_minutes_committee_id_number'))
    )
    with op.batch_alter_table('minutes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_agenda_item_id'), ['agenda_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_minutes_committee_id'), ['committee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_minutes_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('document_paragraphs',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('paragraph', sa.Integer(), nullable=False),
    sa.CheckConstraint('paragraph BETWEEN 1 AND 7', name=op.f('ck_document_paragraphs_paragraph_1_to_7')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_paragraphs_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id', 'paragraph', name=op.f('pk_document_paragraphs'))
    )
    with op.batch_alter_table('document_paragraphs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_paragraphs_document_id'), ['document_id'], unique=False)

    op.create_table('minute_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('minute_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('kind', sa.Enum('edit', 'correction', name=op.f('ck_minute_revisions_revision_kind'), native_enum=False, create_constraint=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('edited_by_id', sa.Integer(), nullable=True),
    sa.Column('edited_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind != 'correction' OR reason IS NOT NULL", name=op.f('ck_minute_revisions_correction_has_reason')),
    sa.ForeignKeyConstraint(['edited_by_id'], ['users.id'], name=op.f('fk_minute_revisions_edited_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['minute_id'], ['minutes.id'], name=op.f('fk_minute_revisions_minute_id_minutes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minute_revisions')),
    sa.UniqueConstraint('minute_id', 'version', name=op.f('uq_minute_revisions_minute_id_version'))
    )
    with op.batch_alter_table('minute_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minute_revisions_edited_by_id'), ['edited_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_minute_revisions_minute_id'), ['minute_id'], unique=False)

    op.create_table('resolutions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('minute_id', sa.Integer(), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('resolved', 'recommended', 'noted', name=op.f('ck_resolutions_resolution_kind'), native_enum=False, create_constraint=True), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('recommended_to', sa.String(length=300), nullable=True),
    sa.Column('votes_for', sa.Integer(), nullable=True),
    sa.Column('votes_against', sa.Integer(), nullable=True),
    sa.Column('abstentions', sa.Integer(), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind != 'recommended' OR recommended_to IS NOT NULL", name=op.f('ck_resolutions_recommendation_names_body')),
    sa.CheckConstraint('(votes_for IS NULL OR votes_for >= 0) AND (votes_against IS NULL OR votes_against >= 0) AND (abstentions IS NULL OR abstentions >= 0)', name=op.f('ck_resolutions_vote_counts_not_negative')),
    sa.CheckConstraint('length(trim(text)) > 0', name=op.f('ck_resolutions_text_not_blank')),
    sa.CheckConstraint('ordinal >= 1', name=op.f('ck_resolutions_ordinal_positive')),
    sa.ForeignKeyConstraint(['minute_id'], ['minutes.id'], name=op.f('fk_resolutions_minute_id_minutes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resolutions')),
    sa.UniqueConstraint('minute_id', 'ordinal', name=op.f('uq_resolutions_minute_id_ordinal'))
    )
    with op.batch_alter_table('resolutions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resolutions_minute_id'), ['minute_id'], unique=False)

    op.create_table('actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('committee_id', sa.Integer(), nullable=False),
    sa.Column('resolution_id', sa.Integer(), nullable=True),
    sa.Column('minute_id', sa.Integer(), nullable=True),
    sa.Column('reference', sa.String(length=50), nullable=True),
    sa.Column('theme', sa.String(length=300), nullable=True),
    sa.Column('objective', sa.Text(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('review_date', sa.Date(), nullable=True),
    sa.Column('target_measure', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('open', 'in_progress', 'complete', 'cancelled', name=op.f('ck_actions_action_status'), native_enum=False, create_constraint=True), nullable=False),
    sa.Column('rag', sa.Enum('red', 'amber', 'green', 'grey', name=op.f('ck_actions_rag'), native_enum=False, create_constraint=True), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status NOT IN ('complete', 'cancelled') OR closed_at IS NOT NULL", name=op.f('ck_actions_closed_is_stamped')),
    sa.CheckConstraint('length(trim(title)) > 0', name=op.f('ck_actions_title_not_blank')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_actions_version_positive')),
    sa.ForeignKeyConstraint(['committee_id'], ['committees.id'], name=op.f('fk_actions_committee_id_committees'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['minute_id'], ['minutes.id'], name=op.f('fk_actions_minute_id_minutes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['people.id'], name=op.f('fk_actions_owner_id_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resolution_id'], ['resolutions.id'], name=op.f('fk_actions_resolution_id_resolutions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actions'))
    )
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_actions_committee_id'), ['committee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_actions_due_date'), ['due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_actions_minute_id'), ['minute_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_actions_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_actions_resolution_id'), ['resolution_id'], unique=False)

    op.create_table('resolution_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resolution_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('vote', sa.Enum('for', 'against', 'abstain', name=op.f('ck_resolution_votes_vote_choice'), native_enum=False, create_constraint=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_resolution_votes_person_id_people'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['resolution_id'], ['resolutions.id'], name=op.f('fk_resolution_votes_resolution_id_resolutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resolution_votes')),
    sa.UniqueConstraint('resolution_id', 'person_id', name=op.f('uq_resolution_votes_resolution_id_person_id'))
    )
    with op.batch_alter_table('resolution_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resolution_votes_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resolution_votes_resolution_id'), ['resolution_id'], unique=False)

    op.create_table('action_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('author_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('open', 'in_progress', 'complete', 'cancelled', name=op.f('ck_action_updates_action_status'), native_enum=False, create_constraint=True), nullable=True),
    sa.Column('rag', sa.Enum('red', 'amber', 'green', 'grey', name=op.f('ck_action_updates_rag'), native_enum=False, create_constraint=True), nullable=True),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_action_updates_action_id_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_user_id'], ['users.id'], name=op.f('fk_action_updates_author_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_updates'))
    )
    with op.batch_alter_table('action_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_updates_action_id'), ['action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_updates_author_user_id'), ['author_user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('action_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_updates_author_user_id'))
        batch_op.drop_index(batch_op.f('ix_action_updates_action_id'))

    op.drop_table('action_updates')
    with op.batch_alter_table('resolution_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resolution_votes_resolution_id'))
        batch_op.drop_index(batch_op.f('ix_resolution_votes_person_id'))

    op.drop_table('resolution_votes')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actions_resolution_id'))
        batch_op.drop_index(batch_op.f('ix_actions_owner_id'))
        batch_op.drop_index(batch_op.f('ix_actions_minute_id'))
        batch_op.drop_index(batch_op.f('ix_actions_due_date'))
        batch_op.drop_index(batch_op.f('ix_actions_committee_id'))

    op.drop_table('actions')
    with op.batch_alter_table('resolutions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resolutions_minute_id'))

    op.drop_table('resolutions')
    with op.batch_alter_table('minute_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minute_revisions_minute_id'))
        batch_op.drop_index(batch_op.f('ix_minute_revisions_edited_by_id'))

    op.drop_table('minute_revisions')
    with op.batch_alter_table('document_paragraphs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_paragraphs_document_id'))

    op.drop_table('document_paragraphs')
    with op.batch_alter_table('minutes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_minutes_committee_id'))
        batch_op.drop_index(batch_op.f('ix_minutes_agenda_item_id'))

    op.drop_table('minutes')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_uploaded_by_id'))
        batch_op.drop_index(batch_op.f('ix_documents_sha256'))
        batch_op.drop_index(batch_op.f('ix_documents_agenda_item_id'))

    op.drop_table('documents')
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_declarations_person_id'))
        batch_op.drop_index(batch_op.f('ix_declarations_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_declarations_agenda_item_id'))

    op.drop_table('declarations')
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_substitute_for_id'))
        batch_op.drop_index(batch_op.f('ix_attendance_person_id'))
        batch_op.drop_index(batch_op.f('ix_attendance_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_attendance_left_at_item_id'))
        batch_op.drop_index(batch_op.f('ix_attendance_arrived_at_item_id'))

    op.drop_table('attendance')
    with op.batch_alter_table('agenda_item_paragraphs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agenda_item_paragraphs_agenda_item_id'))

    op.drop_table('agenda_item_paragraphs')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_occurred_at'))

    op.drop_table('audit_events')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('agenda_publications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agenda_publications_published_by_id'))
        batch_op.drop_index(batch_op.f('ix_agenda_publications_meeting_id'))

    op.drop_table('agenda_publications')
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.drop_index('uq_agenda_items_top_level_position', sqlite_where=sa.text('parent_id IS NULL'), postgresql_where=sa.text('parent_id IS NULL'))
        batch_op.drop_index(batch_op.f('ix_agenda_items_presenter_id'))
        batch_op.drop_index(batch_op.f('ix_agenda_items_parent_id'))
        batch_op.drop_index(batch_op.f('ix_agenda_items_meeting_id'))

    op.drop_table('agenda_items')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_person_id'))

    op.drop_table('users')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberships_person_id'))
        batch_op.drop_index(batch_op.f('ix_memberships_committee_id'))

    op.drop_table('memberships')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meetings_starts_at'))
        batch_op.drop_index(batch_op.f('ix_meetings_committee_id'))
        batch_op.drop_index(batch_op.f('ix_meetings_approved_at_meeting_id'))

    op.drop_table('meetings')
    op.drop_table('people')
    op.drop_table('committees')
