"""Delivery against the commissioned plan, checked against a hand-worked example (issue 19).

Bury's one hub, 00V-H1, is commissioned Mon–Fri 7 sessions / 130 appointments, Sat 5 / 90, Sun 4 / 70,
with no bank-holiday entry (so a bank holiday takes Sunday's). The week of Mon 21 – Sun 27 Dec 2026
holds a weekend and two bank holidays (Christmas Day, Fri 25; Boxing Day, Sat 26).

Commissioned, by hand:  Mon–Thu 4 × 7 = 28 | Fri 25 (BH → Sun) 4 | Sat 26 (BH → Sun) 4 | Sun 27 4  = 40
Returns (delivered / offered): Mon 7/130, Tue 6/120, Wed 7/130, Thu none, Fri 4/60, Sat 3/50, Sun 4/70
Counted (days with a return): commissioned 7+7+7+4+4+4 = 33 sessions, 3×130 + 3×70 = 600 appointments;
delivered 31 sessions, 560 appointments; Thu's 7 commissioned sessions are "unreported".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

from surgehub.digest.plan import RECENT_DAYS, delivery, plan_lines, projection_statement
from surgehub.register import (
    SEED_RECORDED_AT,
    Change,
    DayKind,
    Hub,
    HubFact,
    Locality,
    Offer,
    PlanFact,
    Register,
    day_kind,
)
from surgehub.timeliness import is_bank_holiday

BURY = Locality("00V", "Bury", "bury")
HUB = Hub("00V-H1", "00V", "Bury Surge Hub", date(2026, 11, 1), date(2027, 3, 31))
WEEK = [date(2026, 12, 21) + timedelta(days=n) for n in range(7)]
AT = datetime(2026, 12, 29, 8, 0, tzinfo=UTC)
RETURNS = {  # day -> (sessions_delivered, appts_offered); Thu 24 sent nothing
    date(2026, 12, 21): (7, 130),
    date(2026, 12, 22): (6, 120),
    date(2026, 12, 23): (7, 130),
    date(2026, 12, 25): (4, 60),
    date(2026, 12, 26): (3, 50),
    date(2026, 12, 27): (4, 70),
}
WEEKLY = {
    **{kind: Offer(7, 130) for kind in (DayKind.MON, DayKind.TUE, DayKind.WED, DayKind.THU, DayKind.FRI)},
    DayKind.SAT: Offer(5, 90),
    DayKind.SUN: Offer(4, 70),
}


def register(offers: dict[DayKind, Offer]) -> Register:
    plan = PlanFact(
        fact_id=1,
        hub_code="00V-H1",
        valid_from=date(2026, 11, 1),
        valid_to=date(2027, 3, 31),
        offers=offers,
        recorded_at=SEED_RECORDED_AT,
        recorded_by="seed",
    )
    hub = HubFact(fact_id=1, hub=HUB, change=Change.SEED, recorded_at=SEED_RECORDED_AT, recorded_by="seed")
    return Register((BURY,), (hub,), (plan,))


def rows(returns: dict[date, tuple[int, int]]) -> dict[tuple[str, date], dict[str, int]]:
    return {
        ("00V-H1", day): {
            "sessions_delivered": s,
            "appts_offered": a,
            "activity_date": day,
            "hub_code": "00V-H1",
        }
        for day, (s, a) in returns.items()
    }


def test_the_bank_holidays_of_the_week_are_the_ones_worked_by_hand() -> None:
    kinds = [day_kind(day, is_bank_holiday) for day in WEEK]
    assert kinds == [
        DayKind.MON,
        DayKind.TUE,
        DayKind.WED,
        DayKind.THU,
        DayKind.BANK_HOLIDAY,
        DayKind.BANK_HOLIDAY,
        DayKind.SUN,
    ]


def test_a_bank_holiday_takes_sundays_plan_by_default() -> None:
    view = register(WEEKLY).as_of(AT)
    commissioned = [view.commissioned("00V-H1", day, is_bank_holiday) for day in WEEK]
    assert [o.sessions for o in commissioned] == [7, 7, 7, 7, 4, 4, 4]
    assert sum(o.sessions for o in commissioned) == 40
    assert sum(o.appointments for o in commissioned) == 4 * 130 + 3 * 70


def test_delivery_against_plan_for_the_week_matches_the_hand_worked_figures() -> None:
    found = delivery(rows(RETURNS), register(WEEKLY).as_of(AT), ["00V-H1"], WEEK, is_bank_holiday)
    assert (found.delivered_sessions, found.commissioned_sessions) == (31, 33)
    assert (found.offered_appts, found.commissioned_appts) == (560, 600)
    assert found.unreported_sessions == 7  # Thursday: commissioned, no return, not counted
    assert found.sessions_ratio == Fraction(31, 33)
    assert found.appts_ratio == Fraction(14, 15)


def test_a_plan_set_for_bank_holidays_is_used_on_them() -> None:
    closed_on_holidays = {**WEEKLY, DayKind.BANK_HOLIDAY: Offer(0, 0)}
    found = delivery(rows(RETURNS), register(closed_on_holidays).as_of(AT), ["00V-H1"], WEEK, is_bank_holiday)
    assert found.commissioned_sessions == 7 + 7 + 7 + 0 + 0 + 4
    assert found.sessions_ratio == Fraction(31, 25)


def test_nothing_is_commissioned_on_a_day_the_hub_is_not_active() -> None:
    view = register(WEEKLY).as_of(AT)
    assert view.commissioned("00V-H1", date(2026, 10, 31), is_bank_holiday) == Offer()
    assert view.commissioned("00V-H9", date(2026, 12, 21), is_bank_holiday) == Offer()


def test_projection_carries_the_recent_rate_to_the_seasons_end() -> None:
    """Season from Mon 7 Dec: week 7–13 delivered exactly as commissioned (44 sessions), week 14–20 sent
    nothing (44 unreported), then the week above. Recent = the last 14 days (14–27 Dec): 31 of 33. Still
    to come, Mon 28 (bank holiday → Sunday's 4), Tue 29 and Wed 30 (7 each): 18 sessions.
    Projected = (75 + 31/33 × 18) / (77 + 18) = 3033/3135 = 1011/1045."""
    assert RECENT_DAYS == 14
    first_week = [date(2026, 12, 7) + timedelta(days=n) for n in range(7)]
    exact = {
        day: (7, 130) if day.weekday() < 5 else (5, 90) if day.weekday() == 5 else (4, 70)
        for day in first_week
    }
    versions = list(rows({**exact, **RETURNS}).values())
    lines = plan_lines(
        versions,
        register(WEEKLY).as_of(AT),
        period_days=WEEK[-3:],
        season_start=date(2026, 12, 7),
        season_end=date(2026, 12, 30),
        anchor=date(2026, 12, 27),
        is_bank_holiday=is_bank_holiday,
    )
    bury = lines["00V"]
    assert (bury.season.delivered_sessions, bury.season.commissioned_sessions) == (75, 77)
    assert bury.season.unreported_sessions == 44 + 7
    assert (bury.recent.delivered_sessions, bury.recent.commissioned_sessions) == (31, 33)
    assert bury.remaining == Offer(4 + 7 + 7, 70 + 130 + 130)
    assert bury.projected_sessions_ratio == Fraction(1011, 1045)
    assert (bury.period.delivered_sessions, bury.period.commissioned_sessions) == (11, 12)  # Fri–Sun
    assert "last 14 days" in projection_statement(date(2027, 3, 31))


def test_the_latest_recorded_plan_applies_and_the_register_as_of_an_earlier_time_does_not_see_it() -> None:
    base = register(WEEKLY)
    later = PlanFact(
        fact_id=2,
        hub_code="00V-H1",
        valid_from=date(2026, 12, 21),
        valid_to=date(2026, 12, 27),
        offers={kind: Offer(1, 10) for kind in DayKind if kind is not DayKind.BANK_HOLIDAY},
        recorded_at=datetime(2026, 12, 22, 12, 0, tzinfo=UTC),
        recorded_by="test",
    )
    both = Register(base.localities, base.hub_facts, (*base.plan_facts, later))
    monday = date(2026, 12, 21)
    assert both.as_of(datetime(2026, 12, 22, 11, 0, tzinfo=UTC)).commissioned(
        "00V-H1", monday, is_bank_holiday
    ) == Offer(7, 130)
    assert both.as_of(AT).commissioned("00V-H1", monday, is_bank_holiday) == Offer(1, 10)
    assert both.as_of(AT).commissioned("00V-H1", date(2026, 12, 28), is_bank_holiday) == Offer(4, 70)
