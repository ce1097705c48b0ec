"""hub_day_version loads without per-row checks: no foreign keys, one key index serving the reads.

A million-row COPY into hub_day_version spent most of its time in the server's per-row checks of its
three foreign keys (submission, hub, locality) and in two overlapping indexes (docs/benchmarks.md,
``load_1m_pg_bare_ratio``; docs/decisions/0076). So:

- the foreign keys go. ``sub_icb_code → locality`` was redundant (a hub belongs to one locality). The
  loader checks, in one query per load, that every row's hub is a hub of the locality named beside it
  and that the submission exists, and locks those rows (PostgreSQL ``FOR KEY SHARE``, as a foreign
  key's check does) until it commits; the triggers below refuse to delete or re-key a hub or a
  submission that versions name, which is the other half of what the foreign keys guaranteed;
- the unique key becomes (activity_date, hub_code, version) and ``ix_hub_day_version_day``
  (activity_date, hub_code, received_at), which it now covers for every query, is dropped.

SQLite rebuilds hub_day_version (batch mode); the triggers are created after it and dropped before the
downgrade rebuilds it. A later batch rebuild of ``hub`` or ``submission`` on SQLite drops their
triggers with the old table: such a migration must create them again (``TRIGGERS`` here).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FOREIGN_KEYS = (  # name, column, referred table and column (as 0001 created them)
    ("fk_hub_day_version_submission_id_submission", "submission_id", "submission", "submission_id"),
    ("fk_hub_day_version_hub_code_hub", "hub_code", "hub", "hub_code"),
    ("fk_hub_day_version_sub_icb_code_locality", "sub_icb_code", "locality", "sub_icb_code"),
)

#: (table, key column): the parents whose rows versions name.
_PARENTS = (("hub", "hub_code"), ("submission", "submission_id"))


def _sqlite_triggers(table: str, key: str) -> tuple[str, ...]:
    found = f"exists (select 1 from hub_day_version where {key} = old.{key})"
    message = f"a {table} that hub_day_version names is kept"
    return (
        f"create trigger {table}_kept_for_versions before delete on {table} when {found} "
        f"begin select raise(abort, '{message}'); end",
        f"create trigger {table}_key_kept_for_versions before update of {key} on {table} "
        f"when new.{key} is not old.{key} and {found} "
        f"begin select raise(abort, '{message}'); end",
    )


def _postgres_triggers(table: str, key: str) -> tuple[str, ...]:
    function = f"surgehub_{table}_kept_for_versions"
    return (
        f"create or replace function {function}() returns trigger language plpgsql as $$ begin "
        f"if tg_op = 'UPDATE' and new.{key} = old.{key} then return new; end if; "
        f"if exists (select 1 from hub_day_version where {key} = old.{key}) then "
        f"raise exception 'a {table} that hub_day_version names is kept (%)', old.{key} "
        "using errcode = 'foreign_key_violation'; end if; "
        "if tg_op = 'DELETE' then return old; end if; return new; end $$",
        f"create trigger {table}_kept_for_versions before delete or update of {key} on {table} "
        f"for each row execute function {function}()",
    )


def _create_triggers() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, key in _PARENTS:
        for statement in (_postgres_triggers if postgresql else _sqlite_triggers)(table, key):
            op.execute(statement)


def _drop_triggers() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, _key in _PARENTS:
        if postgresql:
            op.execute(f"drop trigger if exists {table}_kept_for_versions on {table}")
            op.execute(f"drop function if exists surgehub_{table}_kept_for_versions()")
        else:
            op.execute(f"drop trigger if exists {table}_kept_for_versions")
            op.execute(f"drop trigger if exists {table}_key_kept_for_versions")


def upgrade() -> None:
    with op.batch_alter_table("hub_day_version", schema=None) as batch_op:
        for name, _column, _table, _key in _FOREIGN_KEYS:
            batch_op.drop_constraint(name, type_="foreignkey")
        batch_op.drop_index("ix_hub_day_version_day")
        batch_op.drop_constraint("uq_hub_day_version_key", type_="unique")
        batch_op.create_unique_constraint("uq_hub_day_version_key", ["activity_date", "hub_code", "version"])
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    with op.batch_alter_table("hub_day_version", schema=None) as batch_op:
        batch_op.drop_constraint("uq_hub_day_version_key", type_="unique")
        batch_op.create_unique_constraint("uq_hub_day_version_key", ["hub_code", "activity_date", "version"])
        batch_op.create_index(
            "ix_hub_day_version_day", ["activity_date", "hub_code", "received_at"], unique=False
        )
        for name, column, table, key in _FOREIGN_KEYS:
            batch_op.create_foreign_key(name, table, [column], [key])
