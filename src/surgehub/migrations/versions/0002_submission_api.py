"""Submission API: submission tokens (hashes only) and the returns received over HTTP.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('submission_token',
    sa.Column('token_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('sub_icb_code', sa.String(length=3), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['sub_icb_code'], ['locality.sub_icb_code'], name=op.f('fk_submission_token_sub_icb_code_locality')),
    sa.PrimaryKeyConstraint('token_id', name=op.f('pk_submission_token')),
    sa.UniqueConstraint('prefix', name=op.f('uq_submission_token_prefix'))
    )
    op.create_table('api_submission',
    sa.Column('api_submission_id', sa.String(length=24), nullable=False),
    sa.Column('sub_icb_code', sa.String(length=3), nullable=False),
    sa.Column('token_id', sa.BigInteger(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('landing_name', sa.String(length=64), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('duplicate', sa.Boolean(), nullable=False),
    sa.Column('validation', sa.JSON(), nullable=False),
    sa.Column('warehouse_submission_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['sub_icb_code'], ['locality.sub_icb_code'], name=op.f('fk_api_submission_sub_icb_code_locality')),
    sa.ForeignKeyConstraint(['token_id'], ['submission_token.token_id'], name=op.f('fk_api_submission_token_id_submission_token')),
    sa.ForeignKeyConstraint(['warehouse_submission_id'], ['submission.submission_id'], name=op.f('fk_api_submission_warehouse_submission_id_submission')),
    sa.PrimaryKeyConstraint('api_submission_id', name=op.f('pk_api_submission'))
    )
    with op.batch_alter_table('api_submission', schema=None) as batch_op:
        batch_op.create_index('ix_api_submission_locality_received', ['sub_icb_code', 'received_at'], unique=False)
        batch_op.create_index('ix_api_submission_locality_sha256', ['sub_icb_code', 'sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('api_submission', schema=None) as batch_op:
        batch_op.drop_index('ix_api_submission_locality_sha256')
        batch_op.drop_index('ix_api_submission_locality_received')

    op.drop_table('api_submission')
    op.drop_table('submission_token')
