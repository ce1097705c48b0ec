"""The hub register and the commissioned plan as bitemporal data, the audit trail and the message archive.

The hubs' names and active dates move from ``hub`` (which keeps each hub's identity) to
``hub_version``: each hub already in the warehouse becomes one seeded version, recorded at the start
of time (the register as shipped has always been the register). ``audit_event`` is append-only:
triggers refuse an UPDATE or DELETE on SQLite and PostgreSQL alike.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_KINDS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "bank_holiday")
#: When the shipped register is taken to have been recorded (register.SEED_RECORDED_AT).
_SEEDED_AT = datetime(2000, 1, 1, tzinfo=UTC)

_SQLITE_TRIGGERS = (
    "create trigger audit_event_no_update before update on audit_event "
    "begin select raise(abort, 'audit_event is append-only'); end",
    "create trigger audit_event_no_delete before delete on audit_event "
    "begin select raise(abort, 'audit_event is append-only'); end",
)
_POSTGRES_TRIGGERS = (
    "create or replace function surgehub_audit_append_only() returns trigger language plpgsql as "
    "$$ begin raise exception 'audit_event is append-only'; end $$",
    "create trigger audit_event_append_only before update or delete on audit_event "
    "for each row execute function surgehub_audit_append_only()",
)


def upgrade() -> None:
    op.create_table(
        "hub_version",
        sa.Column("hub_version_id", _ID, autoincrement=True, nullable=False),
        sa.Column("hub_code", sa.String(length=20), nullable=False),
        sa.Column("sub_icb_code", sa.String(length=3), nullable=False),
        sa.Column("hub_name", sa.String(length=200), nullable=False),
        sa.Column("active_from", sa.Date(), nullable=False),
        sa.Column("active_to", sa.Date(), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=320), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["hub_code"], ["hub.hub_code"], name=op.f("fk_hub_version_hub_code_hub")),
        sa.ForeignKeyConstraint(
            ["sub_icb_code"], ["locality.sub_icb_code"], name=op.f("fk_hub_version_sub_icb_code_locality")
        ),
        sa.PrimaryKeyConstraint("hub_version_id", name=op.f("pk_hub_version")),
    )
    op.create_index("ix_hub_version_hub_recorded", "hub_version", ["hub_code", "recorded_at"])
    recorded_at = _SEEDED_AT if op.get_bind().dialect.name != "sqlite" else _SEEDED_AT.replace(tzinfo=None)
    op.execute(
        sa.text(
            "insert into hub_version (hub_code, sub_icb_code, hub_name, active_from, active_to, change, "
            "recorded_at, recorded_by) select hub_code, sub_icb_code, hub_name, active_from, active_to, "
            "'seed', :recorded_at, 'seed' from hub order by hub_code"
        ).bindparams(recorded_at=recorded_at)
    )
    with op.batch_alter_table("hub", schema=None) as batch_op:
        batch_op.drop_column("hub_name")
        batch_op.drop_column("active_from")
        batch_op.drop_column("active_to")

    op.create_table(
        "commissioned_plan",
        sa.Column("plan_id", _ID, autoincrement=True, nullable=False),
        sa.Column("hub_code", sa.String(length=20), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        *(sa.Column(f"sessions_{k}", sa.Integer(), nullable=k == "bank_holiday") for k in _KINDS),
        *(sa.Column(f"appts_{k}", sa.Integer(), nullable=k == "bank_holiday") for k in _KINDS),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=320), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["hub_code"], ["hub.hub_code"], name=op.f("fk_commissioned_plan_hub_code_hub")
        ),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_commissioned_plan")),
    )
    op.create_index("ix_commissioned_plan_hub_from", "commissioned_plan", ["hub_code", "valid_from"])

    op.create_table(
        "audit_event",
        sa.Column("audit_id", _ID, autoincrement=True, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("audit_id", name=op.f("pk_audit_event")),
    )
    op.create_index("ix_audit_event_occurred", "audit_event", ["occurred_at"])
    triggers = _POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)

    op.create_table(
        "email_message",
        sa.Column("email_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("mime", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["email_id"], ["email_log.email_id"], name=op.f("fk_email_message_email_id_email_log")
        ),
        sa.PrimaryKeyConstraint("email_id", name=op.f("pk_email_message")),
    )


def downgrade() -> None:
    op.drop_table("email_message")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("drop trigger if exists audit_event_append_only on audit_event")
        op.execute("drop function if exists surgehub_audit_append_only()")
    op.drop_index("ix_audit_event_occurred", table_name="audit_event")
    op.drop_table("audit_event")
    op.drop_index("ix_commissioned_plan_hub_from", table_name="commissioned_plan")
    op.drop_table("commissioned_plan")
    with op.batch_alter_table("hub", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hub_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("active_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("active_to", sa.Date(), nullable=True))
    op.execute(
        "update hub set hub_name = v.hub_name, active_from = v.active_from, active_to = v.active_to "
        "from hub_version as v where v.hub_code = hub.hub_code and v.superseded_at is null"
    )
    op.drop_index("ix_hub_version_hub_recorded", table_name="hub_version")
    op.drop_table("hub_version")
