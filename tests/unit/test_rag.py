"""RAG rules of spec §5 on hand-computed figures: every threshold boundary, overrides and status order."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

import pytest

from surgehub import rag
from surgehub.config import RagRules, Settings, load_settings
from surgehub.rag import HubDay, judge_locality
from surgehub.timeliness import Timeliness
from tests.support.returns import rag_hub_day as hub
from tests.support.timeline import AFTER_CLOSE, BEFORE_CLOSE, DAY

if TYPE_CHECKING:
    from datetime import datetime


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="module")
def rules(settings: Settings) -> RagRules:
    return settings.rag


def missing(code: str, timeliness: Timeliness = Timeliness.NO_RETURN) -> HubDay:
    return HubDay(hub_code=code, sub_icb_code=code[:3], timeliness=timeliness, row=None)


def judge(settings: Settings, *hubs: HubDay, as_of: datetime = AFTER_CLOSE, escalated: bool = False):
    return judge_locality("14L", DAY, list(hubs), as_of, settings, escalated=escalated)


# -- one parameter at a time ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delivered", "planned", "rating"),
    [(19, 20, "GREEN"), (95, 100, "GREEN"), (94, 100, "AMBER"), (80, 100, "AMBER"), (79, 100, "RED")],
)
def test_capacity_delivered_boundaries(rules: RagRules, delivered: int, planned: int, rating: str) -> None:
    assert rag.score_capacity(delivered, planned, rules.capacity_delivered).rating == rating


@pytest.mark.parametrize(
    ("booked", "offered", "turned_away", "rating"),
    [
        (84, 100, 0, "GREEN"),
        (85, 100, 0, "AMBER"),
        (97, 100, 0, "AMBER"),
        (98, 100, 0, "RED"),
        (10, 100, 1, "RED"),
    ],
)
def test_utilisation_boundaries_and_turned_away(
    rules: RagRules, booked: int, offered: int, turned_away: int, rating: str
) -> None:
    assert rag.score_utilisation(booked, offered, turned_away, rules.utilisation).rating == rating


@pytest.mark.parametrize(
    ("num", "den", "rating"),
    [
        (4, 100, "GREEN"),
        (5, 100, "AMBER"),
        (10, 100, "AMBER"),
        (11, 100, "RED"),
        (1_000_001, 10_000_000, "RED"),
    ],
)
def test_onward_and_dna_boundaries(rules: RagRules, num: int, den: int, rating: str) -> None:
    # 0.10 exactly is Amber ("0.05 to 0.10"); 0.1000001 is already over it.
    assert rag.score_onward(num, den, rules.onward_ed).rating == rating
    assert rag.score_dna(num, den, rules.dna_rate).rating == rating


def test_thresholds_are_exact_decimals_not_binary_floats(rules: RagRules) -> None:
    # 0.1 as a float is 0.1000000000000000055…; 1/10 must still count as "not above 0.10".
    assert rag.exact(0.1) == Fraction(1, 10)
    just_above = Fraction(1, 10) + Fraction(1, 10**17)
    assert rag.score_onward(just_above.numerator, just_above.denominator, rules.onward_ed).rating == "RED"


def test_denominators_of_zero_are_not_scored(rules: RagRules) -> None:
    assert rag.score_capacity(0, 0, rules.capacity_delivered).rating is None
    assert rag.score_utilisation(0, 0, 0, rules.utilisation).rating is None
    assert rag.score_onward(0, 0, rules.onward_ed).rating is None
    dna = rag.score_dna(0, 0, rules.dna_rate)
    assert (dna.rating, dna.points, dna.ratio) == (None, 0, None)


def test_turned_away_makes_utilisation_red_even_with_nothing_offered(rules: RagRules) -> None:
    score = rag.score_utilisation(0, 0, 3, rules.utilisation)
    assert (score.rating, score.points, score.reason) == ("RED", 4, "3 patients turned away")


def test_reason_shows_enough_digits_not_to_look_equal_to_the_threshold(rules: RagRules) -> None:
    score = rag.score_capacity(9499, 10000, rules.capacity_delivered)
    assert score.reason == "capacity delivered 0.9499 < 0.95"
    assert rag.score_utilisation(99, 100, 0, rules.utilisation).reason == "utilisation 0.99 ≥ 0.98"


# -- locality status -----------------------------------------------------------------------------


def test_all_green_scores_zero_points(settings: Settings) -> None:
    result = judge(settings, hub("14L-H1"), hub("14L-H2"))
    assert (result.status, result.level, result.points, result.assurance) == ("GREEN", 1, 0, "ON_TIME")
    assert result.reasons == ["every scored parameter green"]


def test_sums_are_taken_across_hubs_before_the_ratio(settings: Settings) -> None:
    # 10/20 and 20/20 per hub; 30/40 = 0.75 overall: capacity Red (4 points) → Amber band, no override.
    result = judge(settings, hub("14L-H1", sessions_delivered=10), hub("14L-H2"))
    assert result.figures["ratios"]["capacity_delivered"] == 0.75
    assert (result.status, result.level, result.points) == ("AMBER", 2, 4)
    assert result.reasons == ["capacity delivered 0.75 < 0.80"]


@pytest.mark.parametrize(
    ("delivered", "rating", "status", "level", "points"),
    [
        (19, "GREEN", "GREEN", 1, 0),  # 0.95 exactly: Green
        (16, "AMBER", "GREEN", 1, 2),  # 0.80 exactly: Amber, 2 points is still the Green band
        (15, "RED", "AMBER", 2, 4),  # 0.75: Red, 4 points
        (14, "RED", "AMBER", 2, 4),  # 0.70 exactly: Red but not the override
        (13, "RED", "RED", 4, 4),  # 0.65: override, Red level 4
    ],
)
def test_capacity_at_095_080_070(
    settings: Settings, delivered: int, rating: str, status: str, level: int, points: int
) -> None:
    result = judge(settings, hub("14L-H1", sessions_planned=20, sessions_delivered=delivered))
    assert result.figures["parameters"]["capacity_delivered"]["rating"] == rating
    assert (result.status, result.level, result.points) == (status, level, points)


def test_points_bands_green_amber_red(settings: Settings) -> None:
    # capacity Amber (2) + utilisation Amber (2) = 4 → Amber; + onward Red (2) = 6 → Red level 3.
    amber = judge(settings, hub("14L-H1", sessions_delivered=18, appts_booked=90, appts_dna=2))
    assert (amber.status, amber.points) == ("AMBER", 4)
    assert amber.reasons == ["capacity delivered 0.90 < 0.95", "utilisation 0.90 ≥ 0.85"]
    red = judge(settings, hub("14L-H1", sessions_delivered=18, appts_booked=90, appts_dna=2, onward_ed=9))
    assert (red.status, red.level, red.points) == ("RED", 3, 6)
    two = judge(settings, hub("14L-H1", onward_ed=8))  # onward 8/78 > 0.10 → 2 points, still Green
    assert (two.status, two.points) == ("GREEN", 2)


def test_turned_away_forces_utilisation_red(settings: Settings) -> None:
    # Utilisation 0.80 alone would be Green; one patient turned away makes it Red: 2 × 2 = 4 points.
    result = judge(settings, hub("14L-H1", patients_turned_away=1))
    assert (result.status, result.level, result.points) == ("AMBER", 2, 4)
    assert result.figures["parameters"]["utilisation"]["rating"] == "RED"
    assert result.reasons == ["1 patient turned away"]


def test_utilisation_red_by_ratio_and_turned_away_gives_both_reasons(settings: Settings) -> None:
    result = judge(settings, hub("14L-H1", appts_booked=99, patients_turned_away=3))
    assert result.reasons == ["utilisation 0.99 ≥ 0.98", "3 patients turned away"]


def test_closed_unplanned_overrides_to_red_level_4_with_points(settings: Settings) -> None:
    nothing = dict.fromkeys(
        ("sessions_planned", "sessions_delivered", "appts_offered", "appts_booked", "appts_attended"), 0
    )
    closed = hub("14L-H2", hub_status="CLOSED_UNPLANNED", **nothing, appts_dna=0, onward_ed=0)
    result = judge(settings, hub("14L-H1"), closed)
    assert (result.status, result.level, result.points) == ("RED", 4, 0)
    assert result.reasons == ["hub 14L-H2 closed unplanned: Red level 4"]


def test_capacity_below_070_overrides_even_with_few_points(settings: Settings) -> None:
    result = judge(settings, hub("14L-H1", sessions_planned=20, sessions_delivered=13))
    assert (result.status, result.level, result.points) == ("RED", 4, 4)
    assert result.reasons == ["capacity delivered 0.65 < 0.70: Red level 4", "capacity delivered 0.65 < 0.80"]


def test_closed_planned_rows_are_left_out_of_sums_but_count_for_timeliness(settings: Settings) -> None:
    closed = hub(
        "14L-H2",
        Timeliness.LATE,
        hub_status="CLOSED_PLANNED",
        sessions_planned=0,
        sessions_delivered=0,
        appts_offered=0,
        appts_booked=0,
        appts_attended=0,
        appts_dna=0,
        onward_ed=0,
    )
    result = judge(settings, hub("14L-H1", sessions_delivered=19), closed)
    assert result.figures["sums"]["sessions_planned"] == 20
    assert (result.status, result.assurance) == ("GREEN", "LATE")
    assert "hub 14L-H2 return was late" in result.reasons


def test_every_hub_closed_planned_is_closed_without_points(settings: Settings) -> None:
    result = judge(settings, hub("14L-H1", hub_status="CLOSED_PLANNED", appts_offered=0))
    assert (result.status, result.level, result.points) == ("CLOSED", None, None)


def test_missing_hub_before_close_is_pending_and_after_is_no_return(settings: Settings) -> None:
    before = judge(settings, hub("14L-H1"), missing("14L-H2", Timeliness.PENDING), as_of=BEFORE_CLOSE)
    assert (before.status, before.level, before.points, before.assurance) == (
        "PENDING",
        None,
        None,
        "PENDING",
    )
    after = judge(settings, hub("14L-H1"), missing("14L-H2"))
    assert (after.status, after.points, after.assurance) == ("NO_RETURN", None, "NO_RETURN")
    assert after.reasons == ["hub 14L-H2 sent no return"]
    assert after.escalated is False


def test_escalated_only_when_no_return(settings: Settings) -> None:
    assert judge(settings, missing("14L-H1"), escalated=True).escalated is True
    assert judge(settings, hub("14L-H1"), escalated=True).escalated is False


def test_pending_comes_before_closed_unplanned(settings: Settings) -> None:
    result = judge(
        settings,
        hub("14L-H1", hub_status="CLOSED_UNPLANNED"),
        missing("14L-H2", Timeliness.PENDING),
        as_of=BEFORE_CLOSE,
    )
    assert result.status == "PENDING"


def test_a_locality_with_no_active_hub_is_closed(settings: Settings) -> None:
    result = judge(settings)
    assert (result.status, result.assurance, result.reasons) == (
        "CLOSED",
        None,
        ["no hub active on this day"],
    )


def test_nothing_to_score_is_green_with_a_reason(settings: Settings) -> None:
    zero = dict.fromkeys(("sessions_planned", "sessions_delivered", "appts_offered", "appts_booked"), 0)
    result = judge(settings, hub("14L-H1", **zero, appts_attended=0, appts_dna=0, onward_ed=0))
    assert (result.status, result.points) == ("GREEN", 0)
    assert "capacity delivered not scored: no sessions planned" in result.reasons


def test_thresholds_come_from_settings(settings: Settings) -> None:
    relaxed = settings.overridden({"rag": {"capacity_delivered": {"green_from": 0.90}}})
    result = judge_locality("14L", DAY, [hub("14L-H1", sessions_delivered=18)], AFTER_CLOSE, relaxed)
    assert (result.status, result.points) == ("GREEN", 0)


def test_gm_rollup_counts_statuses_and_scores_gm_wide_sums(settings: Settings) -> None:
    green = judge(settings, hub("14L-H1"))
    red = judge_locality("00T", DAY, [hub("00T-H1", sessions_delivered=10)], AFTER_CLOSE, settings)
    gm = rag.gm_rollup([green, red], settings)
    assert gm.counts["GREEN"] == 1
    assert gm.counts["RED"] == 1
    assert set(gm.counts) == set(rag.STATUSES)
    assert gm.figures["sums"]["sessions_planned"] == 40
    assert gm.figures["ratios"]["capacity_delivered"] == 0.75
