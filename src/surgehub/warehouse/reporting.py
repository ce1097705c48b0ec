"""Named queries the digests report from: current hub-day versions and locality-day sums, as of a time.

Both read ``sql/digest/`` statements built on the shared "versions as of T" CTE, so a digest judged
as of its cut-off sees exactly what had been received by then, on SQLite and PostgreSQL alike. Each
function opens its own connection and returns plain dictionaries keyed by column name, ordered as
the SQL orders them; an empty date range returns no rows without asking the warehouse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from surgehub.warehouse.queries import statement

if TYPE_CHECKING:
    from datetime import date, datetime

    from sqlalchemy import Engine, TextClause


def _rows(
    engine: Engine, query: TextClause, first: date, last: date, as_of: datetime
) -> list[dict[str, Any]]:
    if last < first:
        return []
    with engine.connect() as connection:
        rows = connection.execute(query, {"first_day": first, "last_day": last, "as_of": as_of}).mappings()
        return [dict(row) for row in rows]


def current_versions(engine: Engine, first: date, last: date, as_of: datetime) -> list[dict[str, Any]]:
    """The current version as of ``as_of`` of every hub-day dated ``first`` to ``last``: its figures,
    comments and warnings (hub-days with no version by then are absent), by day, locality and hub."""
    query = statement("digest/select_current_versions.sql", "activity_date", "received_at", "warnings")
    return _rows(engine, query, first, last, as_of)


def locality_day_totals(engine: Engine, first: date, last: date, as_of: datetime) -> list[dict[str, Any]]:
    """Per locality and day from ``first`` to ``last``: the sums over the current versions as of
    ``as_of`` of the hubs active that day, CLOSED_PLANNED rows left out (spec §5), by day and locality."""
    query = statement("digest/select_locality_day_totals.sql", "activity_date")
    return _rows(engine, query, first, last, as_of)
