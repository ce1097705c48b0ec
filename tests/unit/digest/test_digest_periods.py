"""Digest periods: judged and pending days, cut-offs from the schedule, period keys (no warehouse needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from surgehub.config import ConfigError, load_settings
from surgehub.digest.periods import period_for, previous_period
from tests.support.digest_timeline import with_raw
from tests.support.timeline import london


def days(*numbers: int, month: int = 11, year: int = 2026) -> tuple[date, ...]:
    return tuple(date(year, month, n) for n in numbers)


@pytest.fixture
def settings():
    return load_settings({})


def test_thursday_board_digest_judges_friday_to_tuesday_and_lists_wednesday_as_pending(settings) -> None:
    period = period_for("board", london(2026, 11, 26, 7, 30), settings)
    assert period.period_key == "board:2026-11-26T07:30"
    assert period.cutoff == london(2026, 11, 26, 7, 30)
    assert period.previous_cutoff == london(2026, 11, 23, 7, 30)
    assert period.days == days(20, 21, 22, 23, 24)
    assert period.pending_days == days(25)


def test_monday_board_digest_judges_wednesday_and_thursday_and_holds_the_weekend_pending(settings) -> None:
    period = period_for("board", london(2026, 11, 30, 7, 30), settings)
    assert period.previous_cutoff == london(2026, 11, 26, 7, 30)
    assert period.days == days(25, 26)
    assert period.pending_days == days(27, 28, 29)


def test_a_late_or_repeated_run_is_the_same_digest_as_its_scheduled_slot(settings) -> None:
    on_time = period_for("board", london(2026, 11, 26, 7, 30), settings)
    late = period_for("board", london(2026, 11, 26, 12, 0), settings)
    assert late == on_time
    just_before = period_for("board", london(2026, 11, 26, 7, 29), settings)
    assert just_before.period_key == "board:2026-11-23T07:30"


def test_previous_period_ends_where_this_one_starts(settings) -> None:
    period = period_for("board", london(2026, 11, 26, 7, 30), settings)
    previous = previous_period(period, settings)
    assert previous.cutoff == period.previous_cutoff
    assert previous.days == days(18, 19)
    assert previous.pending_days == days(20, 21, 22)


def test_board_days_come_from_configuration(settings) -> None:
    tuesdays = with_raw(settings, schedule={"board_digest_days": ["TUE"], "board_digest_time": "08:00"})
    period = period_for("board", london(2026, 11, 26, 7, 30), tuesdays)
    assert period.period_key == "board:2026-11-24T08:00"
    assert period.previous_cutoff == london(2026, 11, 17, 8, 0)
    assert period.days == days(16, 17, 18, 19, 20, 21, 22)
    assert period.pending_days == days(23)


def test_unknown_board_day_is_a_configuration_error(settings) -> None:
    # Refused when the configuration is read, before any period is computed from it.
    with pytest.raises(ConfigError, match="board_digest_days"):
        with_raw(settings, schedule={"board_digest_days": ["THURSDAYISH", "XYZ"]})


def test_daily_summary_covers_the_days_whose_close_just_passed(settings) -> None:
    period = period_for("daily", london(2026, 11, 25, 13, 45), settings)
    assert period.period_key == "daily:2026-11-25T13:45"
    assert period.days == days(24)
    assert period.pending_days == ()
    monday = period_for("daily", london(2026, 11, 23, 13, 45), settings)
    assert monday.days == days(20, 21, 22)
    assert monday.previous_cutoff == london(2026, 11, 20, 13, 45)


def test_daily_summary_before_close_plus_delay_is_still_the_previous_one(settings) -> None:
    period = period_for("daily", london(2026, 11, 25, 13, 44), settings)
    assert period.period_key == "daily:2026-11-24T13:45"
    assert period.days == days(23)
    assert period.pending_days == ()  # Tue 24 is the cut-off's own day: not yet due


def test_christmas_bank_holidays_roll_five_days_into_one_daily_summary(settings) -> None:
    # 25 Dec (Fri) and 28 Dec (Mon, Boxing Day substitute) are bank holidays: the next close is Tue 29.
    period = period_for("daily", london(2026, 12, 29, 13, 45), settings)
    assert period.days == days(24, 25, 26, 27, 28, month=12)
    assert period.previous_cutoff == london(2026, 12, 24, 13, 45)


def test_board_cut_off_follows_london_time_across_the_march_clock_change_and_easter(settings) -> None:
    period = period_for("board", datetime(2027, 3, 29, 6, 30, tzinfo=UTC), settings)  # 07:30 BST
    assert period.period_key == "board:2027-03-29T07:30"
    assert period.previous_cutoff == datetime(2027, 3, 25, 7, 30, tzinfo=UTC)  # 07:30 GMT
    # Good Friday (26 Mar) and Easter Monday (29 Mar): Thursday 25 closes on Tuesday 30.
    assert period.days == days(24, month=3, year=2027)
    assert period.pending_days == days(25, 26, 27, 28, month=3, year=2027)


def test_no_day_before_the_season_is_judged(settings) -> None:
    period = period_for("board", london(2026, 11, 2, 7, 30), settings)
    assert period.days == ()
    assert period.pending_days == days(1)


def test_unknown_kind_and_naive_times_are_refused(settings) -> None:
    with pytest.raises(ValueError, match="unknown digest kind"):
        period_for("weekly", london(2026, 11, 26, 7, 30), settings)
    with pytest.raises(ValueError, match="naive"):
        period_for("board", datetime(2026, 11, 26, 7, 30), settings)
