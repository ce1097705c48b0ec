"""The four parameters of spec §5 (capacity delivered, utilisation, onward to ED, DNA rate): each one's
exact ratio on summed figures, its rating against the configured thresholds, its points and the reason
in words; the band of total points; the capacity override.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from surgehub.config import Bands, CapacityRule, RagRules, RateRule, UtilisationRule


class Status(StrEnum):
    """A locality-day's status (spec §5), in the order interfaces.md lists the GM counts."""

    GREEN = "GREEN"
    AMBER = "AMBER"
    RED = "RED"
    CLOSED = "CLOSED"
    NO_RETURN = "NO_RETURN"
    PENDING = "PENDING"


class Rating(StrEnum):
    """One parameter's rating; each scores its points times the parameter's weight."""

    GREEN = "GREEN"
    AMBER = "AMBER"
    RED = "RED"


STATUSES: tuple[Status, ...] = tuple(Status)
RATINGS_POINTS: dict[Rating, int] = {Rating.GREEN: 0, Rating.AMBER: 1, Rating.RED: 2}


@dataclass(frozen=True, kw_only=True)
class ParameterScore:
    """One RAG parameter: its exact ratio (None when the denominator is 0), rating and points."""

    name: str
    label: str
    numerator: int
    denominator: int
    ratio: Fraction | None
    rating: Rating | None  # None: not scored
    points: int
    reason: str | None

    @property
    def reason_lines(self) -> list[str]:
        """The reason as separate lines (utilisation can have two: its ratio and turned-away patients)."""
        return self.reason.split("; ") if self.reason else []

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "numerator": self.numerator,
            "denominator": self.denominator,
            "ratio": None if self.ratio is None else float(self.ratio),
            "rating": self.rating,
            "points": self.points,
        }


def exact(value: Any) -> Fraction:
    """A threshold from configuration as the exact decimal it was written as."""
    return Fraction(str(value))


def _threshold_text(value: Any) -> str:
    text = str(value)
    if "." in text and len(text.split(".")[1]) < 2:
        return f"{float(value):.2f}"
    return text


def show_ratio(ratio: Fraction, thresholds: Iterable[Any]) -> str:
    """The ratio with two decimals, or more when two would make it look equal to a threshold it is not."""
    limits = [exact(t) for t in thresholds]
    for places in (2, 3, 4, 6, 9):
        shown = f"{float(ratio):.{places}f}"
        if all(Fraction(shown) != limit or ratio == limit for limit in limits):
            return shown
    return str(ratio)


def _score(
    name: str, label: str, num: int, den: int, rating: Rating | None, weight: int, reason: str | None
) -> ParameterScore:
    return ParameterScore(
        name=name,
        label=label,
        numerator=num,
        denominator=den,
        ratio=Fraction(num, den) if den else None,
        rating=rating,
        points=RATINGS_POINTS[rating] * weight if rating else 0,
        reason=reason,
    )


def score_capacity(delivered: int, planned: int, rules: CapacityRule) -> ParameterScore:
    """Capacity delivered: Σ delivered / Σ planned; Red < red_below, Green ≥ green_from."""
    label = "capacity delivered"
    if planned == 0:
        return _score(
            "capacity_delivered",
            label,
            delivered,
            planned,
            None,
            0,
            f"{label} not scored: no sessions planned",
        )
    ratio = Fraction(delivered, planned)
    red, green = rules.red_below, rules.green_from
    shown = show_ratio(ratio, (red, green, rules.override_red_below))
    if ratio < exact(red):
        rating, reason = Rating.RED, f"{label} {shown} < {_threshold_text(red)}"
    elif ratio < exact(green):
        rating, reason = Rating.AMBER, f"{label} {shown} < {_threshold_text(green)}"
    else:
        rating, reason = Rating.GREEN, None
    return _score("capacity_delivered", label, delivered, planned, rating, rules.weight, reason)


def score_utilisation(booked: int, offered: int, turned_away: int, rules: UtilisationRule) -> ParameterScore:
    """Utilisation: Σ booked / Σ offered; Red ≥ red_from or anyone turned away, Amber ≥ amber_from."""
    label = "utilisation"
    weight = rules.weight
    red, amber = rules.red_from, rules.amber_from
    ratio = Fraction(booked, offered) if offered else None
    reasons: list[str] = []
    if turned_away > 0:
        reasons.append(f"{turned_away} patient{'s' if turned_away != 1 else ''} turned away")
    if ratio is None:
        if turned_away > 0:
            return _score("utilisation", label, booked, offered, Rating.RED, weight, reasons[0])
        return _score(
            "utilisation", label, booked, offered, None, 0, f"{label} not scored: no appointments offered"
        )
    shown = show_ratio(ratio, (red, amber))
    if ratio >= exact(red):
        reasons.insert(0, f"{label} {shown} ≥ {_threshold_text(red)}")
        rating = Rating.RED
    elif turned_away > 0:
        rating = Rating.RED
    elif ratio >= exact(amber):
        rating = Rating.AMBER
        reasons.append(f"{label} {shown} ≥ {_threshold_text(amber)}")
    else:
        rating = Rating.GREEN
    return _score("utilisation", label, booked, offered, rating, weight, "; ".join(reasons) or None)


def _score_rate(name: str, label: str, num: int, den: int, rules: RateRule, none_text: str) -> ParameterScore:
    if den == 0:
        return _score(name, label, num, den, None, 0, f"{label} not scored: {none_text}")
    ratio = Fraction(num, den)
    red, amber = rules.red_above, rules.amber_from
    shown = show_ratio(ratio, (red, amber))
    if ratio > exact(red):
        rating, reason = Rating.RED, f"{label} {shown} > {_threshold_text(red)}"
    elif ratio >= exact(amber):
        rating, reason = Rating.AMBER, f"{label} {shown} ≥ {_threshold_text(amber)}"
    else:
        rating, reason = Rating.GREEN, None
    return _score(name, label, num, den, rating, rules.weight, reason)


def score_onward(onward: int, attended: int, rules: RateRule) -> ParameterScore:
    """Onward to ED: Σ onward_ed / Σ attended; Red > red_above, Amber ≥ amber_from."""
    return _score_rate("onward_ed", "onward to ED", onward, attended, rules, "no appointments attended")


def score_dna(dna: int, booked: int, rules: RateRule) -> ParameterScore:
    """DNA rate: Σ appts_dna / Σ booked; Red > red_above, Amber ≥ amber_from."""
    return _score_rate("dna_rate", "DNA rate", dna, booked, rules, "no appointments booked")


def score_parameters(sums: Mapping[str, int], rules: RagRules) -> list[ParameterScore]:
    """The four parameters of spec §5 on one set of sums."""
    return [
        score_capacity(sums["sessions_delivered"], sums["sessions_planned"], rules.capacity_delivered),
        score_utilisation(
            sums["appts_booked"], sums["appts_offered"], sums["patients_turned_away"], rules.utilisation
        ),
        score_onward(sums["onward_ed"], sums["appts_attended"], rules.onward_ed),
        score_dna(sums["appts_dna"], sums["appts_booked"], rules.dna_rate),
    ]


def band(points: int, bands: Bands) -> tuple[Status, int]:
    """Status and level from total points: 0–green_max GREEN 1, to amber_max AMBER 2, else RED 3."""
    if points <= bands.green_max:
        return Status.GREEN, 1
    if points <= bands.amber_max:
        return Status.AMBER, 2
    return Status.RED, 3


def capacity_override(capacity: ParameterScore, rules: CapacityRule) -> str | None:
    """The reason for the capacity override (Red level 4), or None."""
    limit = rules.override_red_below
    if capacity.ratio is None or capacity.ratio >= exact(limit):
        return None
    shown = show_ratio(capacity.ratio, (limit,))
    return f"{capacity.label} {shown} < {_threshold_text(limit)}: Red level 4"
