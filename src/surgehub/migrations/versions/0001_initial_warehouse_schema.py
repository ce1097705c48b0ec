"""Initial warehouse schema: reference data, submissions, hub-day versions, RAG results, email log.

UTC instants are timestamptz on PostgreSQL and naive-UTC text on SQLite (see tables.UtcDateTime).

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('email_log',
    sa.Column('email_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('period_key', sa.String(length=100), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('message_id', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('email_id', name=op.f('pk_email_log')),
    sa.UniqueConstraint('kind', 'period_key', 'recipient', name='uq_email_log_key'),
    sa.UniqueConstraint('message_id', name=op.f('uq_email_log_message_id'))
    )
    op.create_table('locality',
    sa.Column('sub_icb_code', sa.String(length=3), nullable=False),
    sa.Column('locality_name', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=50), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('sub_icb_code', name=op.f('pk_locality')),
    sa.UniqueConstraint('slug', name=op.f('uq_locality_slug'))
    )
    op.create_table('rag_result',
    sa.Column('rag_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('activity_date', sa.Date(), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('sub_icb_code', sa.String(length=3), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('points', sa.Integer(), nullable=True),
    sa.Column('escalated', sa.Boolean(), nullable=False),
    sa.Column('assurance', sa.String(length=12), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('ruleset_version', sa.String(length=40), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('rag_id', name=op.f('pk_rag_result')),
    sa.UniqueConstraint('activity_date', 'sub_icb_code', 'as_of', name='uq_rag_result_key')
    )
    op.create_table('hub',
    sa.Column('hub_code', sa.String(length=20), nullable=False),
    sa.Column('sub_icb_code', sa.String(length=3), nullable=False),
    sa.Column('hub_name', sa.String(length=200), nullable=False),
    sa.Column('active_from', sa.Date(), nullable=False),
    sa.Column('active_to', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['sub_icb_code'], ['locality.sub_icb_code'], name=op.f('fk_hub_sub_icb_code_locality')),
    sa.PrimaryKeyConstraint('hub_code', name=op.f('pk_hub'))
    )
    op.create_table('submission',
    sa.Column('submission_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('sub_icb_code', sa.String(length=3), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('arrival_seq', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('quarantined', sa.Boolean(), nullable=False),
    sa.Column('duplicate_of', sa.BigInteger(), nullable=True),
    sa.Column('spec_version', sa.String(length=20), nullable=False),
    sa.Column('data_rows', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('archive_path', sa.Text(), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['duplicate_of'], ['submission.submission_id'], name=op.f('fk_submission_duplicate_of_submission')),
    sa.ForeignKeyConstraint(['sub_icb_code'], ['locality.sub_icb_code'], name=op.f('fk_submission_sub_icb_code_locality')),
    sa.PrimaryKeyConstraint('submission_id', name=op.f('pk_submission')),
    sa.UniqueConstraint('sub_icb_code', 'sha256', 'received_at', name='uq_submission_receipt')
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index('ix_submission_locality_received', ['sub_icb_code', 'received_at'], unique=False)

    op.create_table('hub_day_version',
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('submission_id', sa.BigInteger(), nullable=False),
    sa.Column('activity_date', sa.Date(), nullable=False),
    sa.Column('hub_code', sa.String(length=20), nullable=False),
    sa.Column('sub_icb_code', sa.String(length=3), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('arrival_seq', sa.BigInteger(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('hub_status', sa.String(length=20), nullable=False),
    sa.Column('sessions_planned', sa.Integer(), nullable=False),
    sa.Column('sessions_delivered', sa.Integer(), nullable=False),
    sa.Column('appts_offered', sa.Integer(), nullable=False),
    sa.Column('appts_booked', sa.Integer(), nullable=False),
    sa.Column('appts_attended', sa.Integer(), nullable=False),
    sa.Column('appts_dna', sa.Integer(), nullable=False),
    sa.Column('attended_f2f', sa.Integer(), nullable=False),
    sa.Column('attended_remote', sa.Integer(), nullable=False),
    sa.Column('src_practice', sa.Integer(), nullable=False),
    sa.Column('src_nhs111', sa.Integer(), nullable=False),
    sa.Column('src_ed_streaming', sa.Integer(), nullable=False),
    sa.Column('src_other', sa.Integer(), nullable=False),
    sa.Column('onward_ed', sa.Integer(), nullable=False),
    sa.Column('patients_turned_away', sa.Integer(), nullable=False),
    sa.Column('gp_hours', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('other_clinician_hours', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('comments', sa.Text(), nullable=True),
    sa.Column('signed_off_by', sa.String(length=100), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['hub_code'], ['hub.hub_code'], name=op.f('fk_hub_day_version_hub_code_hub')),
    sa.ForeignKeyConstraint(['sub_icb_code'], ['locality.sub_icb_code'], name=op.f('fk_hub_day_version_sub_icb_code_locality')),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.submission_id'], name=op.f('fk_hub_day_version_submission_id_submission')),
    sa.PrimaryKeyConstraint('version_id', name=op.f('pk_hub_day_version')),
    sa.UniqueConstraint('hub_code', 'activity_date', 'version', name='uq_hub_day_version_key')
    )
    with op.batch_alter_table('hub_day_version', schema=None) as batch_op:
        batch_op.create_index('ix_hub_day_version_day', ['activity_date', 'hub_code', 'received_at'], unique=False)
        batch_op.create_index('ix_hub_day_version_submission', ['submission_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('hub_day_version', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_day_version_submission')
        batch_op.drop_index('ix_hub_day_version_day')

    op.drop_table('hub_day_version')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index('ix_submission_locality_received')

    op.drop_table('submission')
    op.drop_table('hub')
    op.drop_table('rag_result')
    op.drop_table('locality')
    op.drop_table('email_log')
