"""Alembic environment: migrate the connection we are handed, else the configured warehouse URL.

Batch mode is on for SQLite (ALTER TABLE there is limited), so every revision means the same on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alembic import context

from surgehub.warehouse.tables import metadata

if TYPE_CHECKING:
    from sqlalchemy import Connection

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    from surgehub.warehouse.db import normalise_url

    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from surgehub.config import load_settings

        url = load_settings().warehouse_url
    context.configure(
        url=normalise_url(url).render_as_string(hide_password=False),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from surgehub.warehouse.db import get_engine, writer

    url = config.get_main_option("sqlalchemy.url")
    if not url:  # run by the `alembic` command line: an entry point of its own
        from surgehub.config import load_settings

        url = load_settings().warehouse_url
    engine = get_engine(url)
    with writer(engine).begin() as conn:
        _run(conn)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
