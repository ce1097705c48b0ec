"""Timeliness (spec §4): working days, each activity day's deadline and close, and hub-day status as of T.

Working days are Monday to Friday except England's bank holidays (the ``holidays`` package,
subdivision ENG, substitute days included), minus ``timeliness.extra_holidays`` and plus
``timeliness.working_days_added`` from the configuration. Deadline and close are Europe/London
wall-clock times on the first working day after the activity date, returned as aware UTC instants.

Readings taken: a return received exactly at the deadline is on time; the close "has passed" from
the close instant itself (at 13:30:00 a hub-day with no return is NO_RETURN, a second before it is
PENDING).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING

import holidays

from surgehub.clock import london_instant

if TYPE_CHECKING:
    from surgehub.config import Settings


class Timeliness(StrEnum):
    ON_TIME = "ON_TIME"
    LATE = "LATE"
    PENDING = "PENDING"
    NO_RETURN = "NO_RETURN"


#: Worst first: the assurance of a locality-day is the worst of its hubs' timeliness.
SEVERITY: dict[Timeliness, int] = {
    Timeliness.NO_RETURN: 3,
    Timeliness.PENDING: 2,
    Timeliness.LATE: 1,
    Timeliness.ON_TIME: 0,
}


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_bank_holiday(day: date) -> bool:
    """An England bank holiday (substitute days included), from the maintained calendar."""
    return day in _bank_holidays(day.year)


def is_working_day(day: date, settings: Settings) -> bool:
    """Monday to Friday except England's bank holidays, with the configuration's overrides."""
    s = settings.timeliness
    if day in s.working_days_added:
        return True
    if day in s.extra_holidays:
        return False
    return day.weekday() < 5 and not is_bank_holiday(day)


def next_working_day(day: date, settings: Settings) -> date:
    """The first working day strictly after ``day``."""
    candidate = day + timedelta(days=1)
    while not is_working_day(candidate, settings):
        candidate += timedelta(days=1)
    return candidate


def deadline_for(activity_date: date, settings: Settings) -> datetime:
    """The deadline (default 11:00 Europe/London, first working day after) as an aware UTC instant."""
    s = settings.timeliness
    return london_instant(next_working_day(activity_date, settings), s.deadline)


def close_for(activity_date: date, settings: Settings) -> datetime:
    """The close (default 13:30 Europe/London, the deadline's day) as an aware UTC instant."""
    s = settings.timeliness
    return london_instant(next_working_day(activity_date, settings), s.close)


def close_passed(activity_date: date, as_of: datetime, settings: Settings) -> bool:
    """True from the close instant onwards."""
    return _utc(as_of) >= close_for(activity_date, settings)


def hub_day_status(
    activity_date: date,
    first_accepted_at: datetime | None,
    as_of: datetime,
    settings: Settings,
) -> Timeliness:
    """Timeliness of one hub-day as of ``as_of``, judged on its first accepted version.

    ``first_accepted_at`` is the receipt time of the first accepted version; a version received after
    ``as_of`` is not known then and counts as no version.
    """
    as_of = _utc(as_of)
    if first_accepted_at is not None and _utc(first_accepted_at) <= as_of:
        on_time = _utc(first_accepted_at) <= deadline_for(activity_date, settings)
        return Timeliness.ON_TIME if on_time else Timeliness.LATE
    return Timeliness.NO_RETURN if as_of >= close_for(activity_date, settings) else Timeliness.PENDING


def worst(statuses: list[Timeliness] | tuple[Timeliness, ...]) -> Timeliness | None:
    """The worst status in the order no return, pending, late, on time (None for no statuses)."""
    return max(statuses, key=SEVERITY.__getitem__) if statuses else None


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: surgehub only handles aware instants")
    return instant.astimezone(UTC)


def next_return_days(as_of: datetime, settings: Settings) -> tuple[date, ...]:
    """The activity days of the next return due, as of ``as_of``: those whose close has not passed and
    whose deadline is the soonest. On a Monday morning that is Friday, Saturday and Sunday; from
    Monday's close (13:30), Monday (due Tuesday). The close, not the deadline, is the cut-off: until
    then a late return still counts for its day, so a lead who is late is offered the day still owed.
    """
    from surgehub.clock import london_day

    today = london_day(_utc(as_of))
    day = today - timedelta(days=1)
    if close_passed(day, as_of, settings):  # yesterday's return has closed: the next one is today's
        day = today
    due = next_working_day(day, settings)
    days = [day]
    earlier = day - timedelta(days=1)
    while next_working_day(earlier, settings) == due:
        days.insert(0, earlier)
        earlier -= timedelta(days=1)
    later = day + timedelta(days=1)
    while later < due and next_working_day(later, settings) == due and later <= today:
        days.append(later)
        later += timedelta(days=1)
    return tuple(days)
