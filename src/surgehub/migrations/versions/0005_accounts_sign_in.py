"""People sign in (issue 17): accounts with roles, emailed sign-in codes (hashes only), tokens owned
by an account, and who sent each API submission.

``account`` is an email address (normalised to lower case); ``account_role`` gives it roles:
submitter (for one locality), board, data_team. ``sign_in_code`` keeps only an HMAC of each code.
``submission_token.account_email`` names the account a token belongs to (null for tokens made before
accounts existed); ``api_submission.sent_by`` names who sent an upload ("account:<email>" or
"token:<prefix>"), and ``api_submission.token_id`` becomes optional (a signed-in upload has no token).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_account")),
    )
    op.create_table(
        "account_role",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("sub_icb_code", sa.String(length=3), nullable=True),
        sa.ForeignKeyConstraint(["email"], ["account.email"], name=op.f("fk_account_role_email_account")),
        sa.ForeignKeyConstraint(
            ["sub_icb_code"], ["locality.sub_icb_code"], name=op.f("fk_account_role_sub_icb_code_locality")
        ),
        sa.PrimaryKeyConstraint("email", "role", name=op.f("pk_account_role")),
    )
    op.create_table(
        "sign_in_code",
        sa.Column("code_id", _ID, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("code_id", name=op.f("pk_sign_in_code")),
    )
    op.create_index("ix_sign_in_code_email", "sign_in_code", ["email", "created_at"])
    with op.batch_alter_table("submission_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_email", sa.String(length=320), nullable=True))
    with op.batch_alter_table("api_submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_by", sa.String(length=330), nullable=True))
        batch_op.alter_column("token_id", existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("api_submission", schema=None) as batch_op:
        batch_op.drop_column("sent_by")
    with op.batch_alter_table("submission_token", schema=None) as batch_op:
        batch_op.drop_column("account_email")
    op.drop_index("ix_sign_in_code_email", table_name="sign_in_code")
    op.drop_table("sign_in_code")
    op.drop_table("account_role")
    op.drop_table("account")
