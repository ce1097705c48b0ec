"""A submission keeps what it covers: the activity dates and hub codes its rows name.

A receipt says which file and which days and hubs it is about, in its subject and at its top (issue
16), rejected returns included, and it is rebuilt from the stored submission whenever it is (re)sent.
``coverage`` is ``{"activity_dates": [...], "hubs": [...], "more_dates": n, "more_hubs": n}`` as
written in the file (masked, at most 31 of each); null on submissions recorded before.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coverage', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('coverage')
