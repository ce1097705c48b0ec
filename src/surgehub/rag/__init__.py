"""RAG status (spec §5) for every locality and Greater Manchester on one activity date, as of a time T.

Only versions received by T count, and the current version of a hub-day is the newest as of T, so
every status is reproducible. Ratios are exact fractions of integer sums, compared with the
thresholds of ``settings.rag`` read as exact decimals (0.10 is 1/10, never a binary float).

Readings taken where the spec leaves room (also in docs/warehouse.md):

- "The day before" for escalation is the previous calendar day (hubs report every day, weekends
  included), judged as of the same T. A locality with no active hub on that day cannot have "no
  return" there, so it is not escalated.
- A locality with no hub active on the day is CLOSED (nothing to report) with that reason.
- Which hubs are active is the register's word as of the same T (``surgehub.register``). A hub-day
  whose hub the register first showed active on that day only after the day's deadline (a backdated
  hub) is not owed: no return is not "no return", never late, never escalated; a return sent for it
  counts, on time (decision 0044).
- Points are null for PENDING, NO_RETURN and CLOSED, even when some hubs have sent rows.
- The GM roll-up counts localities per status; its figures are the same parameters on GM-wide sums
  (CLOSED_PLANNED rows left out), with points and a band (GREEN/AMBER/RED, capacity override) of
  those sums, which are not a locality status and not counted anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from surgehub import reference, spec
from surgehub.clock import to_london
from surgehub.rag.parameters import (
    RATINGS_POINTS,
    STATUSES,
    ParameterScore,
    Rating,
    Status,
    band,
    capacity_override,
    exact,
    score_capacity,
    score_dna,
    score_onward,
    score_parameters,
    score_utilisation,
    show_ratio,
)
from surgehub.timeliness import Timeliness, close_for, close_passed, deadline_for, hub_day_status, worst

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from sqlalchemy import Engine

    from surgehub.config import Settings
    from surgehub.register import Register, RegisterView

__all__ = [
    "RATINGS_POINTS",
    "STATUSES",
    "DayRag",
    "GmRag",
    "HubDay",
    "LocalityRag",
    "ParameterScore",
    "Rating",
    "Status",
    "band",
    "capacity_override",
    "compute_rag",
    "exact",
    "gm_rollup",
    "judge_locality",
    "score_capacity",
    "score_dna",
    "score_onward",
    "score_parameters",
    "score_utilisation",
    "show_ratio",
    "sums_of",
]


#: Integer columns summed for a locality (CLOSED_PLANNED rows left out).
SUM_COLUMNS: tuple[str, ...] = spec.INTEGER_COLUMNS  # every count column of the return
HOURS_COLUMNS: tuple[str, ...] = ("gp_hours", "other_clinician_hours")


# -- hub-days and locality-days ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class HubDay:
    """One active hub on the day: its current row as of T (None: no return yet) and its timeliness."""

    hub_code: str
    sub_icb_code: str
    timeliness: Timeliness
    row: Mapping[str, Any] | None
    owed: bool = True  # False: the register showed the hub active that day only after its deadline
    registered_at: datetime | None = None  # then: when it did

    @property
    def hub_status(self) -> str | None:
        return None if self.row is None else self.row["hub_status"]


def sums_of(hub_days: Iterable[HubDay]) -> dict[str, Any]:
    """Sums over the current rows that count (CLOSED_PLANNED rows and missing rows left out)."""
    totals: dict[str, Any] = {name: 0 for name in SUM_COLUMNS}
    hours = {name: Decimal(0) for name in HOURS_COLUMNS}
    for hub_day in hub_days:
        if hub_day.row is None or hub_day.hub_status == "CLOSED_PLANNED":
            continue
        for name in SUM_COLUMNS:
            totals[name] += int(hub_day.row[name])
        for name in HOURS_COLUMNS:
            hours[name] += Decimal(str(hub_day.row[name]))
    totals.update({name: float(value) for name, value in hours.items()})
    return totals


@dataclass(frozen=True, kw_only=True)
class LocalityRag:
    """One locality-day as of T: status, level (1–4), points, escalation, assurance, reasons, figures."""

    sub_icb_code: str
    locality_name: str
    status: Status
    level: int | None
    points: int | None
    escalated: bool
    assurance: str | None
    reasons: list[str]
    figures: dict[str, Any]
    hubs: tuple[HubDay, ...] = field(repr=False, default=())

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "sub_icb_code": self.sub_icb_code,
            "locality_name": self.locality_name,
            "status": self.status,
            "level": self.level,
            "points": self.points,
            "escalated": self.escalated,
            "assurance": self.assurance,
            "reasons": list(self.reasons),
            "figures": self.figures,
        }


@dataclass(frozen=True, kw_only=True)
class GmRag:
    """Greater Manchester: localities counted per status, and the parameters on GM-wide sums."""

    counts: dict[Status, int]
    figures: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class DayRag:
    """Every locality (localities.csv order) and GM for one activity date, as of a time."""

    activity_date: date
    as_of: datetime
    ruleset_version: str
    localities: list[LocalityRag]
    gm: GmRag

    def locality(self, sub_icb_code: str) -> LocalityRag:
        code = reference.normalise_code(sub_icb_code)
        return next(loc for loc in self.localities if loc.sub_icb_code == code)

    def result_rows(self, computed_at: datetime) -> list[dict[str, Any]]:
        """The rows of ``rag_result`` for this day as of its T: one per locality, and GM's."""
        common: dict[str, Any] = {
            "activity_date": self.activity_date,
            "as_of": self.as_of,
            "ruleset_version": self.ruleset_version,
            "computed_at": computed_at,
        }
        rows = [
            {
                **common,
                "scope": "LOCALITY",
                "sub_icb_code": loc.sub_icb_code,
                "status": loc.status.value,
                "level": loc.level,
                "points": loc.points,
                "escalated": loc.escalated,
                "assurance": loc.assurance,
                "reasons": loc.reasons,
                "figures": loc.figures,
            }
            for loc in self.localities
        ]
        gm = self.gm.figures
        rows.append(
            {
                **common,
                "scope": "GM",
                "sub_icb_code": "GM",
                "status": str(gm["status_of_sums"]),
                "level": gm["level_of_sums"],
                "points": gm["points"],
                "escalated": False,
                "assurance": None,
                "reasons": gm["reasons"],
                "figures": gm,
            }
        )
        return rows

    def to_json_dict(self) -> dict[str, Any]:
        """The ``surgehub rag --json`` shape of interfaces.md (plus as_of, figures and gm_figures)."""
        return {
            "date": self.activity_date.isoformat(),
            "as_of": self.as_of.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "ruleset_version": self.ruleset_version,
            "localities": [loc.to_json_dict() for loc in self.localities],
            "gm": dict(self.gm.counts),
            "gm_figures": self.gm.figures,
        }


def _figures(sums: Mapping[str, Any], scores: Sequence[ParameterScore], points: int | None) -> dict[str, Any]:
    return {
        "sums": dict(sums),
        "ratios": {s.name: None if s.ratio is None else float(s.ratio) for s in scores},
        "parameters": {s.name: s.to_json_dict() for s in scores},
        "points": points,
    }


def _hub_detail(hub_day: HubDay) -> dict[str, Any]:
    row = hub_day.row or {}
    detail: dict[str, Any] = {
        "hub_code": hub_day.hub_code,
        "timeliness": hub_day.timeliness.value,
        "hub_status": hub_day.hub_status,
        "version": row.get("version"),
        "versions_known": row.get("versions_known"),
        "comments": row.get("comments"),
    }
    if not hub_day.owed:
        detail["owed"] = False
        detail["registered_at"] = None if hub_day.registered_at is None else _iso(hub_day.registered_at)
    return detail


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _not_owed_reason(hub_day: HubDay) -> str:
    when = "" if hub_day.registered_at is None else to_london(hub_day.registered_at).strftime(" on %a %d %b")
    return (
        f"hub {hub_day.hub_code} was added to the register{when}, after this day's deadline: "
        "no return owed for this day"
    )


def judge_locality(
    sub_icb_code: str,
    activity_date: date,
    hub_days: Sequence[HubDay],
    as_of: datetime,
    settings: Settings,
    *,
    escalated: bool = False,
) -> LocalityRag:
    """The status of one locality-day from its active hubs' current rows as of T (spec §5 order)."""
    rules = settings.rag
    found = reference.locality_by_code(sub_icb_code)
    name = found.name if found else sub_icb_code
    all_hub_days = tuple(hub_days)
    not_owed = [_not_owed_reason(h) for h in all_hub_days if not h.owed and h.row is None]
    hub_days = [h for h in all_hub_days if h.owed or h.row is not None]
    sums = sums_of(hub_days)
    scores = score_parameters(sums, rules)
    assurance = worst([h.timeliness for h in hub_days])
    late = [f"hub {h.hub_code} return was late" for h in hub_days if h.timeliness is Timeliness.LATE]
    missing = [h for h in hub_days if h.row is None]

    def result(status: Status, level: int | None, points: int | None, reasons: list[str]) -> LocalityRag:
        figures = _figures(sums, scores, points)
        figures["hubs"] = [_hub_detail(h) for h in all_hub_days]
        return LocalityRag(
            sub_icb_code=sub_icb_code,
            locality_name=name,
            status=status,
            level=level,
            points=points,
            escalated=escalated and status is Status.NO_RETURN,
            assurance=None if assurance is None else assurance.value,
            reasons=[*reasons, *not_owed],
            figures=figures,
            hubs=all_hub_days,
        )

    if not hub_days:
        return result(Status.CLOSED, None, None, [] if not_owed else ["no hub active on this day"])
    if missing and not close_passed(activity_date, as_of, settings):
        close = to_london(close_for(activity_date, settings)).strftime("%H:%M on %a %d %b")
        return result(
            Status.PENDING,
            None,
            None,
            [f"hub {h.hub_code} has not sent a return yet (close {close})" for h in missing],
        )
    if missing:
        reasons = [f"hub {h.hub_code} sent no return" for h in missing]
        if escalated:
            reasons.append("no return on this day and the day before: escalated")
        return result(Status.NO_RETURN, None, None, reasons)
    if all(h.hub_status == "CLOSED_PLANNED" for h in hub_days):
        return result(Status.CLOSED, None, None, ["every hub closed as planned", *late])

    points = sum(s.points for s in scores)
    parameter_reasons = [
        line for s in scores if s.rating in {Rating.AMBER, Rating.RED} for line in s.reason_lines
    ]
    unscored = [line for s in scores if s.rating is None for line in s.reason_lines]
    overrides = [
        f"hub {h.hub_code} closed unplanned: Red level 4"
        for h in hub_days
        if h.hub_status == "CLOSED_UNPLANNED"
    ]
    capacity = capacity_override(scores[0], rules.capacity_delivered)
    if capacity:
        overrides.append(capacity)
    if overrides:
        return result(Status.RED, 4, points, [*overrides, *parameter_reasons, *unscored, *late])
    status, level = band(points, rules.bands)
    if not parameter_reasons:
        parameter_reasons = ["every scored parameter green"]
    return result(status, level, points, [*parameter_reasons, *unscored, *late])


def gm_rollup(localities: Sequence[LocalityRag], settings: Settings) -> GmRag:
    """Counts of localities per status, and the parameters on GM-wide sums."""
    counts = {status: 0 for status in STATUSES}
    for loc in localities:
        counts[loc.status] += 1
    hub_days = [h for loc in localities for h in loc.hubs]
    sums = sums_of(hub_days)
    scores = score_parameters(sums, settings.rag)
    points = sum(s.points for s in scores)
    status, level = band(points, settings.rag.bands)
    override = capacity_override(scores[0], settings.rag.capacity_delivered)
    if override:
        status, level = Status.RED, 4
    figures = _figures(sums, scores, points)
    figures.update(
        status_of_sums=status,
        level_of_sums=level,
        reasons=[r for r in [override, *(line for s in scores for line in s.reason_lines)] if r],
        counts=dict(counts),
    )
    return GmRag(counts=counts, figures=figures)


# -- from the warehouse --------------------------------------------------------------------------


def hub_days(
    engine: Engine, day: date, as_of: datetime, settings: Settings, register: RegisterView
) -> dict[str, list[HubDay]]:
    """The hubs active on ``day`` in the register as of T, grouped by locality (register order), each
    with its current row and timeliness as of T, and whether it was owed (decision 0044)."""
    from surgehub.warehouse.rag_results import hub_day_rows

    rows = {row["hub_code"]: row for row in hub_day_rows(engine, day, as_of)}
    deadline = deadline_for(day, settings)
    grouped: dict[str, list[HubDay]] = {loc.sub_icb_code: [] for loc in register.localities}
    for hub in sorted(register.hubs, key=lambda h: (h.sub_icb_code, h.hub_code)):
        if not hub.active_on(day):
            continue
        row = rows.get(hub.hub_code)
        known = register.known_since(hub.hub_code, day)
        owed = known is None or known <= deadline
        timeliness = hub_day_status(day, None if row is None else row["first_received_at"], as_of, settings)
        if not owed:  # never late, never "no return": a return sent counts on time; none is still open
            timeliness = Timeliness.ON_TIME if row is not None else Timeliness.PENDING
        grouped.setdefault(hub.sub_icb_code, []).append(
            HubDay(
                hub_code=hub.hub_code,
                sub_icb_code=hub.sub_icb_code,
                timeliness=timeliness,
                row=None if row is None else dict(row),
                owed=owed,
                registered_at=None if owed else known,
            )
        )
    return grouped


def _no_return(hub_list: Sequence[HubDay], day: date, as_of: datetime, settings: Settings) -> bool:
    owed_missing = any(h.row is None and h.owed for h in hub_list)
    return owed_missing and close_passed(day, as_of, settings)


def compute_rag(
    engine: Engine, day: date, as_of: datetime, settings: Settings, *, register: Register | None = None
) -> DayRag:
    """RAG of every locality (localities.csv order) and GM for one activity date, as of ``as_of``, with
    the register as it stood then (``register``: the register's history, read from the warehouse if not
    given)."""
    if as_of.tzinfo is None:
        raise ValueError("naive as_of: surgehub only handles aware instants")
    as_of = as_of.astimezone(UTC)
    if register is None:
        from surgehub.warehouse.register import read_register

        register = read_register(engine)
    view = register.as_of(as_of)
    today = hub_days(engine, day, as_of, settings, view)
    before = hub_days(engine, day - timedelta(days=1), as_of, settings, view)
    localities: list[LocalityRag] = []
    for loc in reference.localities():
        escalated = _no_return(before.get(loc.sub_icb_code, []), day - timedelta(days=1), as_of, settings)
        localities.append(
            judge_locality(
                loc.sub_icb_code, day, today.get(loc.sub_icb_code, []), as_of, settings, escalated=escalated
            )
        )
    return DayRag(
        activity_date=day,
        as_of=as_of,
        ruleset_version=settings.rag.ruleset_version,
        localities=localities,
        gm=gm_rollup(localities, settings),
    )
