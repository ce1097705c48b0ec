"""Spec 2026.2: a submission keeps each rule's total and the rules not checked beside its capped findings.

Errors and warnings list at most 50 findings a rule (spec 2026.2 §3); ``totals`` counts every finding
of each rule, and ``not_checked`` lists the rules a missing column kept from running. Both are null on
submissions recorded before (their lists were never capped, so the lists are their totals).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totals', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('not_checked', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('not_checked')
        batch_op.drop_column('totals')
