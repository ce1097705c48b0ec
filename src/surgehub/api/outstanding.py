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
    """The locality, its submissions (newest first) and the hub-days it still owes, as of ``now``.

    A hub-day an accepted upload still waiting in landing covers (``state`` queued) is not owed: it
    was just sent, and is being loaded. ``outstanding_by_day`` is the same hub-days by day, for people.
    """
    found = reference.locality_by_code(locality)
    sent = reader.submissions_of(locality)
    loading = being_loaded(sent)
    owed = [
        item
        for item in outstanding_hub_days(reader.engine, locality, now, settings)
        if (item["hub_code"], item["activity_date"]) not in loading
    ]
    return {
        "locality": locality,
        "locality_name": found.name if found else locality,
        "as_of": iso(now),
        "submissions": sent,
        "outstanding": owed,
        "outstanding_by_day": by_day(owed),
    }


def being_loaded(submissions: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """The (hub code, ISO day) pairs that accepted uploads still queued for loading cover."""
    return {
        (str(hub).upper(), str(day))
        for s in submissions
        if s.get("state") == "queued" and s.get("status") == "accepted"
        for hub, day in (s.get("coverage") or {}).get("hub_days") or []
    }


def by_day(owed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The owed hub-days summarised a day each, oldest first: how many hubs, which, by when, and whether
    the day is overdue (its close has passed with no return) or still due."""
    days: dict[str, dict[str, Any]] = {}
    for item in owed:
        day = days.setdefault(
            item["activity_date"],
            {
                "activity_date": item["activity_date"],
                "deadline": item["deadline"],
                "overdue": False,
                "hubs": [],
            },
        )
        day["hubs"].append({"hub_code": item["hub_code"], "hub_name": item["hub_name"]})
        day["overdue"] = day["overdue"] or item["timeliness"] == "NO_RETURN"
    return [{**d, "count": len(d["hubs"])} for _k, d in sorted(days.items())]


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
