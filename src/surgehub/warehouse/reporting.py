"""Named queries the digests report from: current hub-day versions and locality-day sums, as of a time.

``current_versions`` reads a ``sql/digest/`` statement built on the shared "versions as of T" CTE, so a digest judged
as of its cut-off sees exactly what had been received by then, on SQLite and PostgreSQL alike. Each
function opens its own connection and returns plain dictionaries keyed by column name, ordered as
the SQL orders them; an empty date range returns no rows without asking the warehouse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from surgehub.warehouse.queries import statement

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import date, datetime

    from sqlalchemy import Engine, TextClause

    from surgehub.register import RegisterView


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


#: The count columns the locality-day totals sum.
TOTALLED: tuple[str, ...] = (
    "sessions_planned",
    "sessions_delivered",
    "appts_offered",
    "appts_booked",
    "appts_attended",
    "appts_dna",
    "src_practice",
    "src_nhs111",
    "src_ed_streaming",
    "src_other",
    "onward_ed",
    "patients_turned_away",
)


def locality_day_totals(
    versions: Sequence[Mapping[str, Any]], register: RegisterView
) -> list[dict[str, Any]]:
    """Per locality and day: the sums over ``versions`` (``current_versions`` as of T) of the hubs active
    that day in ``register`` (as of the same T), CLOSED_PLANNED rows left out (spec §5), by day and
    locality; a locality-day with no counted row is absent."""
    totals: dict[tuple[date, str], dict[str, Any]] = {}
    for row in versions:
        if row["hub_status"] == "CLOSED_PLANNED" or not register.active_on(
            row["hub_code"], row["activity_date"]
        ):
            continue
        key = (row["activity_date"], row["sub_icb_code"])
        found = totals.get(key)
        if found is None:
            found = totals[key] = {"activity_date": key[0], "sub_icb_code": key[1], "hubs_counted": 0}
            found.update(dict.fromkeys(TOTALLED, 0))
        found["hubs_counted"] += 1
        for name in TOTALLED:
            found[name] += int(row[name] or 0)
    return [totals[key] for key in sorted(totals)]
