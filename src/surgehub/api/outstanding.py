"""A locality's own view: what it has sent and the hub-days it still owes (``GET /api/v1/returns``, the page)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from surgehub import clock, reference
from surgehub.api.records import iso
from surgehub.rag import compute_rag
from surgehub.timeliness import deadline_for

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from surgehub.api.states import Reader
    from surgehub.config import Settings


def overview(reader: Reader, locality: str, now: datetime, settings: Settings) -> dict[str, Any]:
    """The locality, its submissions (newest first) and the hub-days it still owes, as of ``now``."""
    found = reference.locality_by_code(locality)
    return {
        "locality": locality,
        "locality_name": found.name if found else locality,
        "as_of": iso(now),
        "submissions": reader.submissions_of(locality),
        "outstanding": outstanding_hub_days(reader.engine, locality, now, settings),
    }


def outstanding_hub_days(
    engine: Engine, locality: str, as_of: datetime, settings: Settings
) -> list[dict[str, Any]]:
    """Hub-days of the locality with no accepted version received by ``as_of`` that can still be sent.

    The days from ``revision_window_days`` before today (R07: the oldest day a return may cover) to
    yesterday, inside the season; each with its deadline and timeliness (PENDING or NO_RETURN), for
    the hubs active in the register as it stands at ``as_of`` (read afresh: a change shows at once).
    A backdated hub-day (decision 0044) can still be sent and is listed PENDING: never late.
    """
    from surgehub.warehouse.register import read_register

    today = clock.london_day(as_of)
    first = max(settings.season.start, today - timedelta(days=settings.timeliness.revision_window_days))
    last = min(settings.season.end, today - timedelta(days=1))
    register = read_register(engine)
    names = register.as_of(as_of).hub_names()
    owed: list[dict[str, Any]] = []
    day: date = first
    while day <= last:
        for hub_day in compute_rag(engine, day, as_of, settings, register=register).locality(locality).hubs:
            if hub_day.row is None:
                owed.append(
                    {
                        "activity_date": day.isoformat(),
                        "hub_code": hub_day.hub_code,
                        "hub_name": names.get(hub_day.hub_code, ""),
                        "deadline": iso(deadline_for(day, settings)),
                        "timeliness": str(hub_day.timeliness),
                    }
                )
        day += timedelta(days=1)
    return owed
