"""The warehouse as a return's receipt found it, for W05: each hub's recent OPEN days and their offers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from surgehub.reference import normalise_code
from surgehub.warehouse.queries import statement_in

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: (hub_codes, first_day, last_day) -> hub_code, activity_date, appts_offered of current OPEN rows.
HistoryLookup = Callable[[Sequence[str], date, date], dict[str, list[Any]]]


def current_open_rows(
    engine: Engine, hub_codes: Sequence[str], first_day: date, last_day: date, as_of: datetime
) -> dict[str, list[Any]]:
    """hub_code, activity_date, appts_offered (columns of plain values: a return's W05 reads a few dozen
    rows, for which a DataFrame would cost more than the check) of the hub-days whose newest version as
    of T is OPEN."""
    if not hub_codes:
        return {"hub_code": [], "activity_date": [], "appts_offered": []}
    query = statement_in("load/select_open_history.sql", ("hub_codes",), "activity_date")
    with engine.connect() as connection:
        result = connection.execute(
            query,
            {
                "hub_codes": [normalise_code(code) for code in hub_codes],
                "first_day": first_day,
                "last_day": last_day,
                "as_of": as_of,
            },
        )
        rows = [(r.hub_code, r.activity_date, int(r.appts_offered)) for r in result]
    return {
        "hub_code": [row[0] for row in rows],
        "activity_date": [row[1] for row in rows],
        "appts_offered": [row[2] for row in rows],
    }


def history_lookup(engine: Engine, as_of: datetime) -> HistoryLookup:
    """A validate_return ``history`` (W05) reading the warehouse as it stood at ``as_of``."""

    def lookup(hub_codes: Sequence[str], first_day: date, last_day: date) -> dict[str, list[Any]]:
        return current_open_rows(engine, hub_codes, first_day, last_day, as_of)

    return lookup
