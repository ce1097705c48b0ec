"""Digest periods: which activity days a board digest or daily summary covers, and its cut-off.

Readings taken (also in docs/digest.md):

- A digest belongs to a scheduled slot. The board digest built "as of T" is the one for the latest
  scheduled slot (``schedule.board_digest_days`` at ``schedule.board_digest_time``, Europe/London) at
  or before T; its cut-off is that slot. The daily summary built as of T is the one for the latest
  close (13:30 on a working day) whose ``close + daily_summary_after_close_minutes`` is at or before
  T; its cut-off is that instant. So a digest is reproducible for any past T, a run a few minutes
  late is the same digest (same period key, never sent twice), and the previous cut-off comes from
  the schedule, never from the email log.
- Judged days: activity days whose close fell after the previous cut-off and at or before this
  cut-off. Pending days: later days up to the day before the cut-off's London date, whose close has
  not yet passed; they are listed, not judged. Days outside the configured season are left out.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from surgehub.clock import london_instant, to_london
from surgehub.config import ConfigError, Settings
from surgehub.digest.model import DigestKind, Period
from surgehub.timeliness import close_for, is_working_day

_WEEKDAYS = {"MON": 0, "TUE": 1, "WED": 2, "THU": 3, "FRI": 4, "SAT": 5, "SUN": 6}

#: How far back to look for a previous slot or close (covers Christmas and long gaps in a schedule).
_LOOKBACK_DAYS = 40


def board_slot_days(settings: Settings) -> set[int]:
    """Weekday numbers (Mon = 0) of the board digest, from ``schedule.board_digest_days``."""
    return {_WEEKDAYS[n] for n in settings.schedule.board_digest_days}


def board_slots_before(instant: datetime, settings: Settings, *, inclusive: bool) -> list[datetime]:
    """Scheduled board-digest instants (UTC) at or before (``inclusive``) or before ``instant``, newest first."""
    weekdays = board_slot_days(settings)
    at = settings.schedule.board_digest_time
    instant = instant.astimezone(UTC)
    start = to_london(instant).date()
    slots: list[datetime] = []
    for back in range(_LOOKBACK_DAYS):
        day = start - timedelta(days=back)
        if day.weekday() not in weekdays:
            continue
        slot = london_instant(day, at)
        if slot < instant or (inclusive and slot == instant):
            slots.append(slot)
    return slots


def _summary_delay(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.schedule.daily_summary_after_close_minutes)


def closes_before(instant: datetime, settings: Settings, *, inclusive: bool) -> list[datetime]:
    """Close instants (UTC, 13:30 on working days) at or before / before ``instant``, newest first."""
    instant = instant.astimezone(UTC)
    start = to_london(instant).date()
    closes: list[datetime] = []
    for back in range(_LOOKBACK_DAYS):
        day = start - timedelta(days=back)
        if not is_working_day(day, settings):
            continue
        close = london_instant(day, settings.timeliness.close)
        if close < instant or (inclusive and close == instant):
            closes.append(close)
    return closes


def days_closing_between(after: datetime, until: datetime, settings: Settings) -> list[date]:
    """Activity days whose close is in (after, until], in the season, oldest first."""
    first = max(to_london(after).date() - timedelta(days=_LOOKBACK_DAYS), settings.season.start)
    last = min(to_london(until).date(), settings.season.end)
    days: list[date] = []
    day = first
    while day <= last:
        if after < close_for(day, settings) <= until:
            days.append(day)
        day += timedelta(days=1)
    return days


def pending_days(after_day: date | None, cutoff: datetime, settings: Settings) -> list[date]:
    """Days after ``after_day`` up to the day before the cut-off's London date whose close has not passed."""
    yesterday = min(to_london(cutoff).date() - timedelta(days=1), settings.season.end)
    day = max(settings.season.start, yesterday - timedelta(days=_LOOKBACK_DAYS))
    found: list[date] = []
    while day <= yesterday:
        if (after_day is None or day > after_day) and close_for(day, settings) > cutoff:
            found.append(day)
        day += timedelta(days=1)
    return found


def board_period(as_of: datetime, settings: Settings) -> Period:
    """The board digest that went (or goes) out at the latest scheduled slot at or before ``as_of``."""
    slots = board_slots_before(as_of, settings, inclusive=True)
    if len(slots) < 2:
        raise ConfigError("schedule.board_digest_days gives no two slots within 40 days")
    cutoff, previous = slots[0], slots[1]
    return _period(DigestKind.BOARD, cutoff, previous, settings)


def daily_period(as_of: datetime, settings: Settings) -> Period:
    """The daily summary for the latest close whose summary time (close + delay) is at or before ``as_of``."""
    delay = _summary_delay(settings)
    closes = closes_before(as_of.astimezone(UTC) - delay, settings, inclusive=True)
    if len(closes) < 2:
        raise ConfigError("no two working days within 40 days: check timeliness.extra_holidays")
    cutoff, previous = closes[0] + delay, closes[1] + delay
    return _period(DigestKind.DAILY, cutoff, previous, settings)


def _period(kind: DigestKind, cutoff: datetime, previous: datetime, settings: Settings) -> Period:
    judged = days_closing_between(previous, cutoff, settings)
    last = judged[-1] if judged else None
    return Period(
        kind=kind,
        cutoff=cutoff,
        previous_cutoff=previous,
        days=tuple(judged),
        pending_days=tuple(pending_days(last, cutoff, settings)),
    )


def period_for(kind: DigestKind, as_of: datetime, settings: Settings) -> Period:
    """The period of a ``board`` or ``daily`` digest as of an instant."""
    if as_of.tzinfo is None:
        raise ValueError("naive as_of: surgehub only handles aware instants")
    if kind == DigestKind.BOARD:
        return board_period(as_of, settings)
    if kind == DigestKind.DAILY:
        return daily_period(as_of, settings)
    raise ValueError(f"unknown digest kind {kind!r}: expected one of {', '.join(DigestKind)}")


def previous_period(period: Period, settings: Settings) -> Period:
    """The digest of the same kind before this one (its cut-off is this one's previous cut-off)."""
    return period_for(period.kind, period.previous_cutoff, settings)
