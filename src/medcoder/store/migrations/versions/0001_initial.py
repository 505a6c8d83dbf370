"""initial schema: patient, encounter, document, coding run, suggestion, query, audit, api key

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-28 13:10:46.858765
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('salt', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_id')
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('entity_type', sa.String(length=50), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('encounter_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('hash'),
    sa.UniqueConstraint('prev_hash')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_encounter_id'), ['encounter_id'], unique=False)

    op.create_table('patient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identifier', sa.String(length=200), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_identifier'), ['identifier'], unique=False)

    op.create_table('encounter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('setting', sa.String(length=20), nullable=False),
    sa.Column('date_of_service', sa.Date(), nullable=True),
    sa.Column('discharge_date', sa.Date(), nullable=True),
    sa.Column('facility', sa.String(length=200), nullable=True),
    sa.Column('provider', sa.String(length=200), nullable=True),
    sa.Column('age', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('coder', sa.String(length=200), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('encounter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_encounter_coder'), ['coder'], unique=False)
        batch_op.create_index(batch_op.f('ix_encounter_date_of_service'), ['date_of_service'], unique=False)
        batch_op.create_index(batch_op.f('ix_encounter_external_id'), ['external_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_encounter_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_encounter_status'), ['status'], unique=False)

    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('encounter_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounter.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sha256')
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_encounter_id'), ['encounter_id'], unique=False)

    op.create_table('coding_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('encounter_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('pipeline_version', sa.String(length=100), nullable=False),
    sa.Column('releases', sa.JSON(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounter.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('coding_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coding_run_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coding_run_encounter_id'), ['encounter_id'], unique=False)

    op.create_table('code_suggestion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('encounter_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('system', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('rationale', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('original_code', sa.String(length=20), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounter.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['coding_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('code_suggestion', schema=None) as batch_op:
        batch_op.create_index('ix_code_suggestion_encounter_active', ['encounter_id', 'active'], unique=False)
        batch_op.create_index(batch_op.f('ix_code_suggestion_encounter_id'), ['encounter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_code_suggestion_run_id'), ['run_id'], unique=False)

    op.create_table('documentation_query',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('encounter_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('missing', sa.String(length=100), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.String(length=200), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounter.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['coding_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('documentation_query', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documentation_query_encounter_id'), ['encounter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documentation_query_run_id'), ['run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('documentation_query', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documentation_query_run_id'))
        batch_op.drop_index(batch_op.f('ix_documentation_query_encounter_id'))

    op.drop_table('documentation_query')
    with op.batch_alter_table('code_suggestion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_code_suggestion_run_id'))
        batch_op.drop_index(batch_op.f('ix_code_suggestion_encounter_id'))
        batch_op.drop_index('ix_code_suggestion_encounter_active')

    op.drop_table('code_suggestion')
    with op.batch_alter_table('coding_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coding_run_encounter_id'))
        batch_op.drop_index(batch_op.f('ix_coding_run_document_id'))

    op.drop_table('coding_run')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_encounter_id'))

    op.drop_table('document')
    with op.batch_alter_table('encounter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_encounter_status'))
        batch_op.drop_index(batch_op.f('ix_encounter_patient_id'))
        batch_op.drop_index(batch_op.f('ix_encounter_external_id'))
        batch_op.drop_index(batch_op.f('ix_encounter_date_of_service'))
        batch_op.drop_index(batch_op.f('ix_encounter_coder'))

    op.drop_table('encounter')
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_identifier'))

    op.drop_table('patient')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_encounter_id'))

    op.drop_table('audit_event')
    op.drop_table('api_key')
