"""The one clock: every "now" in surgehub comes from here, so demos and tests run on a fixed timeline."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

#: Environment variable that freezes the clock at an instant (ISO 8601; no offset = Europe/London).
CLOCK_ENV = "SURGEHUB_NOW"


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 time; a time without an offset is Europe/London. Returns an aware UTC time."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=LONDON)
    return value.astimezone(UTC)


def now() -> datetime:
    """The current instant in UTC: frozen by ``SURGEHUB_NOW`` when set, else the system clock."""
    frozen = os.environ.get(CLOCK_ENV)
    if frozen:
        return parse_instant(frozen)
    return datetime.now(UTC)


class Clock(Protocol):
    """Where "now" comes from; built once per entry point (`surgehub.resources`) and passed down."""

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...


class SystemClock:
    """The machine's clock, unless ``SURGEHUB_NOW`` freezes it (read on every call: the demo moves it)."""

    def now(self) -> datetime:
        return now()


@dataclass(frozen=True)
class FixedClock:
    """A clock stopped at one instant (tests, replays)."""

    instant: datetime

    def __post_init__(self) -> None:
        if self.instant.tzinfo is None:
            raise ValueError("naive datetime: surgehub only handles aware instants")

    def now(self) -> datetime:
        return self.instant.astimezone(UTC)


def to_london(instant: datetime) -> datetime:
    """An aware instant as Europe/London wall-clock time."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: surgehub only handles aware instants")
    return instant.astimezone(LONDON)


def london_day(instant: datetime) -> date:
    """The Europe/London calendar day that an instant falls on."""
    return to_london(instant).date()


def london_instant(day: date, at: time) -> datetime:
    """The UTC instant of a Europe/London wall-clock time on a day (handles BST/GMT)."""
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)
