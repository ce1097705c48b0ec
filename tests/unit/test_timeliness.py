"""Timeliness: working days, deadlines and closes as UTC instants, and hub-day status as of T."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pytest

from surgehub import timeliness
from surgehub.clock import LONDON
from surgehub.config import Settings, load_settings
from surgehub.timeliness import Timeliness, close_for, deadline_for, hub_day_status, next_working_day

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def settings() -> Settings:
    return load_settings()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_friday_saturday_and_sunday_are_all_due_monday_at_eleven(settings: Settings) -> None:
    monday_deadline = utc(2026, 11, 30, 11, 0)  # GMT: London 11:00 is 11:00 UTC
    for day in (date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 29)):
        assert deadline_for(day, settings) == monday_deadline
        assert close_for(day, settings) == utc(2026, 11, 30, 13, 30)


def test_weekday_return_is_due_next_morning(settings: Settings) -> None:
    assert deadline_for(date(2026, 11, 24), settings) == utc(2026, 11, 25, 11, 0)


def test_christmas_and_boxing_day_2026_push_the_deadline_to_tuesday_29th(settings: Settings) -> None:
    # 25 Dec (Fri) and the substitute Boxing Day 28 Dec (Mon) are bank holidays.
    for day in (date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 28)):
        assert next_working_day(day, settings) == date(2026, 12, 29)
        assert deadline_for(day, settings) == utc(2026, 12, 29, 11, 0)


def test_easter_2027_across_the_march_clock_change_is_due_tuesday_in_summer_time(settings: Settings) -> None:
    # Thu 25 Mar 2027 → Good Friday 26th, weekend (clocks go forward on the 28th), Easter Monday 29th.
    deadline = deadline_for(date(2027, 3, 25), settings)
    assert deadline == utc(2027, 3, 30, 10, 0)  # 11:00 BST
    assert deadline.astimezone(LONDON).hour == 11
    assert close_for(date(2027, 3, 25), settings) == utc(2027, 3, 30, 12, 30)


def test_deadline_just_before_the_clock_change_is_in_gmt(settings: Settings) -> None:
    assert deadline_for(date(2027, 3, 24), settings) == utc(2027, 3, 25, 11, 0)


def test_configuration_adds_holidays_and_working_days(tmp_path: Path) -> None:
    config = tmp_path / "surgehub.yaml"
    config.write_text(
        "timeliness:\n  extra_holidays: [2026-11-25]\n  working_days_added: [2026-12-28]\n",
        encoding="utf-8",
    )
    settings = load_settings({"SURGEHUB_CONFIG": str(config), "SURGEHUB_HOME": str(tmp_path)})
    assert not timeliness.is_working_day(date(2026, 11, 25), settings)
    assert deadline_for(date(2026, 11, 24), settings) == utc(2026, 11, 26, 11, 0)
    assert timeliness.is_working_day(date(2026, 12, 28), settings)
    assert deadline_for(date(2026, 12, 24), settings) == utc(2026, 12, 28, 11, 0)


@pytest.mark.parametrize(
    ("first_accepted", "as_of", "expected"),
    [
        (None, utc(2026, 11, 25, 10, 59), Timeliness.PENDING),
        (None, utc(2026, 11, 25, 13, 29, 59), Timeliness.PENDING),
        (None, utc(2026, 11, 25, 13, 30), Timeliness.NO_RETURN),
        (utc(2026, 11, 25, 11, 0), utc(2026, 11, 25, 12, 0), Timeliness.ON_TIME),  # at the deadline
        (utc(2026, 11, 25, 11, 0, 1), utc(2026, 11, 25, 12, 0), Timeliness.LATE),
        (utc(2026, 11, 25, 15, 0), utc(2026, 11, 26, 9, 0), Timeliness.LATE),  # after the close
        # Judged as of T: a version received after T is not known yet.
        (utc(2026, 11, 25, 15, 0), utc(2026, 11, 25, 14, 0), Timeliness.NO_RETURN),
        (utc(2026, 11, 25, 10, 0), utc(2026, 11, 25, 9, 0), Timeliness.PENDING),
    ],
)
def test_hub_day_status_as_of(
    settings: Settings, first_accepted: datetime | None, as_of: datetime, expected: Timeliness
) -> None:
    assert hub_day_status(date(2026, 11, 24), first_accepted, as_of, settings) is expected


def test_weekend_return_sent_monday_morning_is_on_time(settings: Settings) -> None:
    received = datetime(2026, 11, 30, 10, 45, tzinfo=LONDON)
    assert hub_day_status(date(2026, 11, 28), received, received, settings) is Timeliness.ON_TIME


def test_worst_orders_no_return_pending_late_on_time() -> None:
    assert timeliness.worst([Timeliness.ON_TIME, Timeliness.LATE]) is Timeliness.LATE
    assert timeliness.worst([Timeliness.LATE, Timeliness.PENDING]) is Timeliness.PENDING
    assert timeliness.worst([Timeliness.PENDING, Timeliness.NO_RETURN]) is Timeliness.NO_RETURN
    assert timeliness.worst([]) is None


def test_naive_times_are_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        hub_day_status(date(2026, 11, 24), None, datetime(2026, 11, 25, 9, 0), settings)
