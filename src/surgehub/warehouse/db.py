"""Warehouse connections: one engine per URL, Alembic upgrades to head, and the reference-data seed.

SQLite (the embedded default) is opened in WAL mode with a busy timeout and foreign keys on, and its
transactions are begun by us (``BEGIN``, or ``BEGIN IMMEDIATE`` for writers) so that DDL, savepoints
and rollbacks behave as on PostgreSQL. PostgreSQL goes through psycopg 3 (``postgresql+psycopg://``).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

#: Execution option that marks a transaction as a writer (SQLite: BEGIN IMMEDIATE, waits on the lock).
WRITE = {"surgehub_write": True}

SQLITE_BUSY_TIMEOUT_MS = 30_000

#: Arbitrary constant key of the PostgreSQL advisory lock held while migrating.
MIGRATION_LOCK_KEY = 4_104_202_610

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
_ready: set[str] = set()


def normalise_url(url: str | URL) -> URL:
    """The URL with the driver we use: ``postgresql://`` and ``postgres://`` become psycopg 3."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.drivername in {"postgresql", "postgres", "postgresql+psycopg2"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (pysqlite's own BEGIN handling skips DDL).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("pragma journal_mode=wal")
        cursor.execute(f"pragma busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("pragma foreign_keys=on")
        cursor.execute("pragma synchronous=normal")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A writer takes the lock up front, so it waits (busy_timeout) instead of failing mid-way.
        write = connection.get_execution_options().get("surgehub_write", False)
        connection.exec_driver_sql("begin immediate" if write else "begin")


def get_engine(url: str | URL) -> Engine:
    """The engine for a warehouse URL, created once per URL per process."""
    parsed = normalise_url(url)
    key = parsed.render_as_string(hide_password=False)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is not None:
            return engine
        if parsed.get_backend_name() == "sqlite":
            # No folder or file is made here: a reader must not create a warehouse (`upgrade` does).
            engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
            _configure_sqlite(engine)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
        _engines[key] = engine
        return engine


def sqlite_file(engine: Engine) -> Path | None:
    """The file of an SQLite warehouse on disk (None for PostgreSQL or an in-memory database)."""
    database = engine.url.database
    if (
        engine.dialect.name != "sqlite"
        or not database
        or database == ":memory:"
        or database.startswith("file:")
    ):
        return None
    return Path(database)


class WarehouseNotReady(RuntimeError):
    """The warehouse is missing, unreachable or not migrated; the message says what to do, in one line."""


def check_ready(engine: Engine) -> Engine:
    """For readers: the warehouse exists, answers and is at the head revision. Creates nothing, migrates nothing.

    Raises WarehouseNotReady with a one-line message (what is wrong and what to run).
    """
    from sqlalchemy.exc import SQLAlchemyError

    shown = engine.url.render_as_string(hide_password=True)
    path = sqlite_file(engine)
    if path is not None and not path.is_file():  # sqlite would create an empty file on connect
        raise WarehouseNotReady(f"there is no warehouse at {path}: run `surgehub db upgrade` to create it")
    try:
        current, heads = current_revisions(engine), head_revisions()
    except SQLAlchemyError as exc:
        raise WarehouseNotReady(f"cannot read the warehouse {shown}: {one_line(exc)}") from exc
    if current != heads:
        at = ", ".join(sorted(current)) or "no revision"
        raise WarehouseNotReady(
            f"the warehouse {shown} is not migrated (at {at}; this surgehub needs {', '.join(sorted(heads))}): "
            "run `surgehub db upgrade`"
        )
    return engine


def one_line(exc: BaseException) -> str:
    """A database error as one plain line: the driver's own first line, without SQLAlchemy's trailer."""
    original = getattr(exc, "orig", None)
    text_ = str(original if original is not None else exc).strip()
    return text_.splitlines()[0] if text_ else type(exc).__name__


def dispose_engines() -> None:
    """Close every cached engine (tests, forked workers)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _ready.clear()


def writer(engine: Engine) -> Engine:
    """The same engine whose transactions are writers (SQLite ``BEGIN IMMEDIATE``)."""
    return engine.execution_options(**WRITE)


# -- migrations ----------------------------------------------------------------------------------


def alembic_config(url: str | URL | None = None) -> Any:
    """An Alembic Config for the packaged migrations, usable from any working directory."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "surgehub:migrations")
    if url is not None:
        cfg.set_main_option(
            "sqlalchemy.url", normalise_url(url).render_as_string(hide_password=False).replace("%", "%%")
        )
    return cfg


def _as_engine(engine_or_url: Engine | str | URL) -> Engine:
    if isinstance(engine_or_url, Engine):
        return engine_or_url
    return get_engine(engine_or_url)


def upgrade(engine_or_url: Engine | str | URL, revision: str = "head") -> Engine:
    """Run the Alembic migrations up to ``revision`` and refresh the reference data; returns the engine."""
    from alembic import command

    engine = _as_engine(engine_or_url)
    path = sqlite_file(engine)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    cfg = alembic_config()
    with writer(engine).begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two processes starting together (scheduler, API) must not both create the tables.
            connection.execute(text("select pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
    if revision == "head":
        refresh_reference(engine)
    return engine


def head_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def migrations_current(engine: Engine) -> bool:
    """True when the warehouse is at the head revision of the packaged migrations."""
    return current_revisions(engine) == head_revisions()


# -- reference data ------------------------------------------------------------------------------


def refresh_reference(engine: Engine) -> None:
    """Upsert the localities, and seed an empty register (hubs, commissioned plan) from the shipped CSVs.

    Idempotent; once the register holds hubs or plans, seeding leaves them alone (changes are made by
    ``surgehub hubs`` and ``surgehub plan``, recorded and audited).
    """
    from surgehub.warehouse.seed import seed_register

    with writer(engine).begin() as connection:
        seed_register(connection)
    _ready.add(_engine_key(engine))


def _engine_key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def ensure_warehouse(engine: Engine) -> Engine:
    """Make the warehouse usable: migrate to head when behind, and seed the reference data once."""
    key = _engine_key(engine)
    if key in _ready:
        return engine
    path = sqlite_file(engine)
    if path is not None:  # a writer may create the warehouse: its folder first
        path.parent.mkdir(parents=True, exist_ok=True)
    if not migrations_current(engine):
        upgrade(engine)
    else:
        refresh_reference(engine)
    return engine
