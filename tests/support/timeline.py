"""The fixed test timeline: the activity day, the frozen clock and the receipt times, named once.

Tuesday 24 November 2026 is the activity day. Its deadline is Wednesday 25th 11:00 and its close
13:30 (London, which is GMT in November). The clock stands at Wednesday 09:00.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from surgehub.clock import LONDON


def london(*args: int) -> datetime:
    """A wall-clock time in London: ``london(2026, 11, 25, 9, 0)``."""
    return datetime(*args, tzinfo=LONDON)


#: The activity day of the test returns: a Tuesday.
DAY = date(2026, 11, 24)

#: The fixed "now" of every test (SURGEHUB_NOW): inside the configured season, never today's date.
TIMELINE_NOW = london(2026, 11, 25, 9, 0)

#: When a test return is received: the clock's now, on time for DAY (before the 11:00 deadline).
RECEIVED_AT = TIMELINE_NOW

#: An hour before the clock: the first of a run of receipts (see ``later``).
EARLY = london(2026, 11, 25, 8, 0)

#: Times around DAY's close (13:30): a judgement before it still waits, after it a missing hub counts.
BEFORE_CLOSE = london(2026, 11, 25, 12, 0)
AFTER_CLOSE = london(2026, 11, 25, 14, 0)

#: The daily summary that follows DAY's close, and the board digests either side of it.
DAILY_AT = london(2026, 11, 25, 13, 45)
BOARD_AT = london(2026, 11, 26, 7, 30)
PREVIOUS_BOARD_AT = london(2026, 11, 23, 7, 30)


def later(minutes: int) -> datetime:
    """``minutes`` after EARLY: receipts in order of arrival, all on time for DAY."""
    return EARLY + timedelta(minutes=minutes)
