from datetime import UTC, date, datetime, time

import pytest

from surgehub import clock


def test_now_follows_the_injected_clock(fixed_timeline: datetime) -> None:
    assert clock.now() == fixed_timeline.astimezone(UTC)


def test_time_without_offset_is_london_wall_clock() -> None:
    summer = clock.parse_instant("2027-03-29T11:00")  # BST (UTC+1) after the March change
    winter = clock.parse_instant("2027-03-26T11:00")  # GMT
    assert summer == datetime(2027, 3, 29, 10, 0, tzinfo=UTC)
    assert winter == datetime(2027, 3, 26, 11, 0, tzinfo=UTC)


def test_london_day_differs_from_utc_day_late_in_summer_evening() -> None:
    instant = datetime(2027, 3, 29, 23, 30, tzinfo=UTC)  # 00:30 BST on the 30th
    assert clock.london_day(instant) == date(2027, 3, 30)
    assert clock.london_instant(date(2027, 3, 30), time(0, 30)) == instant


def test_rejects_naive_times() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        clock.to_london(datetime(2026, 11, 25, 9, 0))
