"""Lineage: everything behind one locality-day's status as of a time, as one value (``surgehub explain``).

``explain(engine, settings, code, day, as_of)`` returns an :class:`Explanation`: the status and the
rule of spec §5 that decided it; each parameter's ratio, band, weight and points; and per hub the
register row and commissioned plan that applied then, its current version (submission, file name,
receipt time, SHA-256, archive path) and the earlier versions it displaced. ``to_json_dict``,
``to_text`` and ``to_html`` render it for the command line and scripts; the page ``/explain/{code}/{day}``
(``surgehub.api.routers.lineage``) renders the same value in words for the board and the data team.
The as-of time is an argument like any other: a past digest is explained as of its cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html import escape
from typing import TYPE_CHECKING, Any

from surgehub.clock import to_london
from surgehub.register import day_kind
from surgehub.timeliness import deadline_for, is_bank_holiday

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from surgehub.config import Settings
    from surgehub.rag import LocalityRag
    from surgehub.register import RegisterView


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _when(instant: datetime | None) -> str:
    return "-" if instant is None else to_london(instant).strftime("%a %d %b %Y %H:%M")


@dataclass(frozen=True, kw_only=True)
class HubLineage:
    """One hub active on the day: the register and plan rows that applied, and its versions."""

    hub_code: str
    register: dict[str, Any]
    owed: bool
    timeliness: str
    plan: dict[str, Any] | None
    current: dict[str, Any] | None
    displaced: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Explanation:
    sub_icb_code: str
    locality_name: str
    day: date
    as_of: datetime
    basis: str  # "as of …" or "digest board:…"
    status: str
    level: int | None
    points: int | None
    escalated: bool
    assurance: str | None
    reasons: list[str]
    rule: str
    parameters: list[dict[str, Any]]
    hubs: list[HubLineage]
    deadline: datetime

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "sub_icb_code": self.sub_icb_code,
            "locality_name": self.locality_name,
            "activity_date": self.day.isoformat(),
            "as_of": _iso(self.as_of),
            "basis": self.basis,
            "deadline": _iso(self.deadline),
            "status": self.status,
            "level": self.level,
            "points": self.points,
            "escalated": self.escalated,
            "assurance": self.assurance,
            "reasons": self.reasons,
            "decided_by": self.rule,
            "parameters": self.parameters,
            "hubs": [
                {
                    "hub_code": h.hub_code,
                    "owed": h.owed,
                    "timeliness": h.timeliness,
                    "register": h.register,
                    "commissioned_plan": h.plan,
                    "current_version": h.current,
                    "displaced_versions": h.displaced,
                }
                for h in self.hubs
            ],
        }

    def to_text(self) -> str:
        lines = [
            f"{self.locality_name} ({self.sub_icb_code}), {self.day:%a %d %b %Y}, {self.basis}",
            f"Status: {self.status}"
            + ("" if self.level is None else f" level {self.level}")
            + ("" if self.points is None else f", {self.points} points")
            + (", escalated" if self.escalated else ""),
            f"Decided by: {self.rule}",
            "Reasons: " + ("; ".join(self.reasons) or "-"),
            "Parameters (ratio, band, weight, points):",
        ]
        for p in self.parameters:
            ratio = "-" if p["ratio"] is None else f"{p['ratio']:.4f} ({p['numerator']}/{p['denominator']})"
            lines.append(
                f"  {p['name']:<20} {ratio:<24} {p['band'] or 'not scored':<8} w{p['weight']}  {p['points']}"
            )
        for h in self.hubs:
            reg = h.register
            lines.append(
                f"Hub {h.hub_code} ({reg['hub_name']}): {h.timeliness}{'' if h.owed else ', NOT OWED'}; register row "
                f"#{reg['fact_id']} ({reg['change']}, active {reg['active_from']} to {reg['active_to']}) recorded "
                f"{_when(_parse(reg['recorded_at']))} by {reg['recorded_by']}"
            )
            if not h.owed:
                lines.append(
                    f"  the register first showed it active on this day at {_when(_parse(reg['known_since']))}, "
                    f"after the deadline ({_when(self.deadline)}): no return owed (decision 0044)"
                )
            plan = h.plan
            lines.append(
                "  commissioned plan: none"
                if plan is None
                else f"  commissioned plan #{plan['plan_id']} ({plan['valid_from']} to {plan['valid_to']}, "
                f"{plan['day_kind']}): {plan['sessions']} sessions, {plan['appointments']} appointments"
            )
            for label, version in [("current", h.current), *(("displaced", v) for v in h.displaced)]:
                if version is None:
                    lines.append("  current: no return")
                    continue
                lines.append(
                    f"  {label} v{version['version']}: {version['hub_status']}, received "
                    f"{_when(_parse(version['received_at']))} by {version['channel']}, submission "
                    f"{version['submission_id']}, file {version['file_name']!r}, sha256 {version['sha256']}, "
                    f"archive {version['archive_path'] or '(quarantined: not archived)'}"
                )
        return "\n".join(lines)

    def to_html(self) -> str:
        """A self-contained HTML fragment (escaped) for the board and data-team page."""
        e = escape
        rows = "".join(
            f'<tr><th scope="row">{e(p["name"])}</th><td>{_percent(p["ratio"])}</td>'
            f"<td>{e(str(p['band'] or 'not scored'))}</td><td>{p['weight']}</td><td>{p['points']}</td></tr>"
            for p in self.parameters
        )
        hubs = "".join(f"<li><pre>{e(line)}</pre></li>" for line in self._hub_lines())
        return (
            f'<section class="explain"><h2>{e(self.locality_name)}, {self.day:%a %d %b %Y}</h2>'
            f"<p>{e(self.basis)}: <strong>{e(self.status)}"
            f"{'' if self.level is None else f' level {self.level}'}</strong></p>"
            f"<p>Decided by: {e(self.rule)}</p>"
            f"<ul>{''.join(f'<li>{e(r)}</li>' for r in self.reasons)}</ul>"
            '<table><caption>Parameters</caption><tr><th scope="col">Parameter</th><th scope="col">Ratio</th>'
            '<th scope="col">Band</th><th scope="col">Weight</th><th scope="col">Points</th></tr>'
            f"{rows}</table><h3>Hubs</h3><ul>{hubs}</ul></section>"
        )

    def _hub_lines(self) -> list[str]:
        text = self.to_text().splitlines()
        start = next((i for i, line in enumerate(text) if line.startswith("Hub ")), len(text))
        return text[start:]


def _percent(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.1%}"


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def deciding_rule(loc: LocalityRag, settings: Settings) -> str:
    """The step of spec §5 that decided the status, in words."""
    bands = settings.rag.bands
    reasons = loc.reasons
    if loc.status == "CLOSED":
        if any("closed as planned" in r for r in reasons):
            return "§5: every hub closed as planned, so the locality is Closed"
        return "§5: no hub owed a return on the day, so the locality is Closed"
    if loc.status == "PENDING":
        return "§5: a hub had not sent a return and the close had not passed: Pending"
    if loc.status == "NO_RETURN":
        escalation = "; no return the day before too: escalated" if loc.escalated else ""
        return f"§5: a hub sent no return by the close: No return{escalation}"
    if loc.level == 4:
        return f"§5 override: {reasons[0] if reasons else 'override'}"
    return (
        f"§5 bands: {loc.points} points (Green up to {bands.green_max}, Amber up to {bands.amber_max}, "
        f"Red above): {loc.status.title()} level {loc.level}"
    )


def _parameters(loc: LocalityRag, settings: Settings) -> list[dict[str, Any]]:
    weights = {
        "capacity_delivered": settings.rag.capacity_delivered.weight,
        "utilisation": settings.rag.utilisation.weight,
        "onward_ed": settings.rag.onward_ed.weight,
        "dna_rate": settings.rag.dna_rate.weight,
    }
    found = loc.figures.get("parameters") or {}
    return [
        {
            "name": name,
            "numerator": p.get("numerator"),
            "denominator": p.get("denominator"),
            "ratio": p.get("ratio"),
            "band": None if p.get("rating") is None else str(p["rating"]),
            "weight": weights.get(name),
            "points": p.get("points"),
        }
        for name, p in found.items()
    ]


def _version(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": row["version"],
        "hub_status": row["hub_status"],
        "received_at": _iso(row["received_at"]),
        "submission_id": row["submission_id"],
        "channel": row["channel"],
        "file_name": row["file_name"],
        "sha256": row["sha256"],
        "archive_path": row["archive_path"],
        "sessions_delivered": row["sessions_delivered"],
        "appts_offered": row["appts_offered"],
    }


def _register_row(view: RegisterView, hub_code: str, day: date) -> dict[str, Any]:
    fact = view.hub_fact(hub_code)
    if fact is None:  # pragma: no cover - every hub-day listed comes from this view
        return {"hub_name": hub_code, "fact_id": None}
    return {
        "fact_id": fact.fact_id,
        "hub_name": fact.hub.name,
        "active_from": fact.hub.active_from.isoformat(),
        "active_to": fact.hub.active_to.isoformat(),
        "change": str(fact.change),
        "recorded_at": _iso(fact.recorded_at),
        "recorded_by": fact.recorded_by,
        "note": fact.note,
        "known_since": _iso(view.known_since(hub_code, day)),
    }


def _plan_row(view: RegisterView, hub_code: str, day: date, settings: Settings) -> dict[str, Any] | None:
    plan = view.plan_for(hub_code, day)
    if plan is None:
        return None
    holidays = settings.timeliness.extra_holidays
    kind = day_kind(day, lambda d: is_bank_holiday(d) or d in holidays)
    offer = plan.offer(kind)
    return {
        "plan_id": plan.fact_id,
        "valid_from": plan.valid_from.isoformat(),
        "valid_to": plan.valid_to.isoformat(),
        "day_kind": str(kind),
        "sessions": offer.sessions,
        "appointments": offer.appointments,
        "recorded_at": _iso(plan.recorded_at),
        "recorded_by": plan.recorded_by,
    }


def explain(
    engine: Engine,
    settings: Settings,
    sub_icb_code: str,
    day: date,
    as_of: datetime,
    *,
    basis: str | None = None,
) -> Explanation:
    """Everything behind ``sub_icb_code``'s status on ``day`` as of ``as_of`` (aware)."""
    from surgehub.rag import compute_rag
    from surgehub.warehouse.lineage import versions_of_day
    from surgehub.warehouse.register import read_register

    as_of = as_of.astimezone(UTC)
    register = read_register(engine)
    view = register.as_of(as_of)
    loc = compute_rag(engine, day, as_of, settings, register=register).locality(sub_icb_code)
    versions: dict[str, list[dict[str, Any]]] = {}
    for row in versions_of_day(engine, sub_icb_code, day, as_of):
        versions.setdefault(row["hub_code"], []).append(row)
    hubs = [
        HubLineage(
            hub_code=h.hub_code,
            register=_register_row(view, h.hub_code, day),
            owed=h.owed,
            timeliness=str(h.timeliness),
            plan=_plan_row(view, h.hub_code, day, settings),
            current=_version(versions[h.hub_code][0]) if versions.get(h.hub_code) else None,
            displaced=[_version(v) for v in versions.get(h.hub_code, [])[1:]],
        )
        for h in loc.hubs
    ]
    return Explanation(
        sub_icb_code=loc.sub_icb_code,
        locality_name=loc.locality_name,
        day=day,
        as_of=as_of,
        basis=basis or f"as of {_when(as_of)}",
        status=str(loc.status),
        level=loc.level,
        points=loc.points,
        escalated=loc.escalated,
        assurance=loc.assurance,
        reasons=list(loc.reasons),
        rule=deciding_rule(loc, settings),
        parameters=_parameters(loc, settings),
        hubs=hubs,
        deadline=deadline_for(day, settings),
    )
