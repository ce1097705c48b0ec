"""Delivery against the commissioned plan: per locality and for GM, for a digest's period and the season
to date, and a projection to the season's end at the recent rate (decision 0045).

The *commissioned* plan (``surgehub.register``) is what each hub was funded to offer per weekday; it is
never the ``sessions_planned`` a return reports for its own day. Figures are sums over hub-days:

- delivered: the current version's ``sessions_delivered`` and ``appts_offered`` as of the cut-off;
- commissioned: the plan that applied to that hub on that day, in the register as of the cut-off (a
  bank holiday takes the plan's bank-holiday entry, by default Sunday's; a hub not active that day is
  commissioned nothing).

Only hub-days with a return count on both sides, so a missing return never reads as a shortfall;
what was commissioned on hub-days with no return is given beside the ratio (``unreported_sessions``),
so nothing is hidden either. The projection: sessions delivered so far, plus the sessions still
commissioned to the season's end delivered at the rate of the last :data:`RECENT_DAYS` days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from surgehub.register import Offer

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from surgehub.register import RegisterView

#: Days whose rate the projection carries forward (ending with the last day judged).
RECENT_DAYS = 14


def _ratio(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


@dataclass(frozen=True)
class Delivery:
    """Delivered against commissioned over some hub-days (those with a return), and what was
    commissioned on the hub-days with no return."""

    delivered_sessions: int = 0
    commissioned_sessions: int = 0
    offered_appts: int = 0
    commissioned_appts: int = 0
    unreported_sessions: int = 0

    def __add__(self, other: Delivery) -> Delivery:
        return Delivery(
            self.delivered_sessions + other.delivered_sessions,
            self.commissioned_sessions + other.commissioned_sessions,
            self.offered_appts + other.offered_appts,
            self.commissioned_appts + other.commissioned_appts,
            self.unreported_sessions + other.unreported_sessions,
        )

    @property
    def sessions_ratio(self) -> Fraction | None:
        return _ratio(self.delivered_sessions, self.commissioned_sessions)

    @property
    def appts_ratio(self) -> Fraction | None:
        return _ratio(self.offered_appts, self.commissioned_appts)


@dataclass(frozen=True, kw_only=True)
class PlanLine:
    """A locality's (or GM's) delivery against plan: the period, the season to date, the recent days,
    and what is still commissioned from the day after the last judged day to the season's end."""

    period: Delivery
    season: Delivery
    recent: Delivery
    remaining: Offer

    @property
    def projected_sessions_ratio(self) -> Fraction | None:
        """Delivered so far plus the remaining commissioned sessions at the recent rate, over the whole."""
        rate = self.recent.sessions_ratio
        whole = self.season.commissioned_sessions + self.remaining.sessions
        if rate is None or not whole:
            return None
        return (self.season.delivered_sessions + rate * self.remaining.sessions) / whole

    @property
    def projected_appts_ratio(self) -> Fraction | None:
        rate = self.recent.appts_ratio
        whole = self.season.commissioned_appts + self.remaining.appointments
        if rate is None or not whole:
            return None
        return (self.season.offered_appts + rate * self.remaining.appointments) / whole

    def __add__(self, other: PlanLine) -> PlanLine:
        return PlanLine(
            period=self.period + other.period,
            season=self.season + other.season,
            recent=self.recent + other.recent,
            remaining=self.remaining + other.remaining,
        )


EMPTY = PlanLine(period=Delivery(), season=Delivery(), recent=Delivery(), remaining=Offer())


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)] if last >= first else []


def delivery(
    rows: Mapping[tuple[str, date], Mapping[str, Any]],
    view: RegisterView,
    hub_codes: Iterable[str],
    days: Iterable[date],
    is_bank_holiday: Callable[[date], bool],
) -> Delivery:
    """Delivery against plan over the hub-days of ``hub_codes`` × ``days`` (``rows``: current versions by
    (hub_code, day))."""
    total = Delivery()
    day_list = list(days)
    for code in hub_codes:
        for day in day_list:
            offer = view.commissioned(code, day, is_bank_holiday)
            row = rows.get((code, day))
            if row is None:
                total = total + Delivery(unreported_sessions=offer.sessions)
                continue
            total = total + Delivery(
                delivered_sessions=int(row["sessions_delivered"] or 0),
                commissioned_sessions=offer.sessions,
                offered_appts=int(row["appts_offered"] or 0),
                commissioned_appts=offer.appointments,
            )
    return total


def plan_lines(
    rows: Sequence[Mapping[str, Any]],
    view: RegisterView,
    *,
    period_days: Sequence[date],
    season_start: date,
    season_end: date,
    anchor: date,
    is_bank_holiday: Callable[[date], bool],
) -> dict[str, PlanLine]:
    """Each locality's PlanLine (register order), from the current versions ``rows`` of the season to
    ``anchor`` (the last day judged) and the register as of the cut-off."""
    by_key = {(r["hub_code"], r["activity_date"]): r for r in rows}
    season = _days(season_start, anchor)
    recent = [d for d in season if d > anchor - timedelta(days=RECENT_DAYS)]
    remaining = _days(anchor + timedelta(days=1), season_end)
    judged = [d for d in period_days if season_start <= d <= anchor]
    lines: dict[str, PlanLine] = {}
    for loc in view.localities:
        codes = [h.hub_code for h in view.hubs_of(loc.sub_icb_code)]
        lines[loc.sub_icb_code] = PlanLine(
            period=delivery(by_key, view, codes, judged, is_bank_holiday),
            season=delivery(by_key, view, codes, season, is_bank_holiday),
            recent=delivery(by_key, view, codes, recent, is_bank_holiday),
            remaining=view.commissioned_total(codes, remaining, is_bank_holiday),
        )
    return lines


def projection_statement(season_end: date) -> str:
    """How the projection is made, in one line (shown under the figures and in the CSV)."""
    return (
        f"Projection to {season_end:%d %b %Y}: what has been delivered so far, plus the sessions and "
        f"appointments still commissioned to then delivered at the rate of the last {RECENT_DAYS} days."
    )
