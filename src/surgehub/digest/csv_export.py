"""The digest's figures as a CSV attachment that is safe to open in Excel.

One row per locality and judged day, then one Greater Manchester row per day: status, level, points,
escalation, assurance, the sums behind them, the ratios, the reasons and the hubs' comments. Text
cells that a spreadsheet would take for a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return, after any leading spaces) are neutralised with a leading apostrophe (OWASP's
advice for CSV injection); numbers are written as numbers. UTF-8 with a byte-order mark, so Excel
shows non-ASCII text correctly; CRLF line ends.
"""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from surgehub.digest.model import SUM_NAMES

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from surgehub.digest.model import Digest
    from surgehub.register import Offer

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

COLUMNS: tuple[str, ...] = (
    "period_key",
    "activity_date",
    "sub_icb_code",
    "locality_name",
    "status",
    "level",
    "points",
    "escalated",
    "assurance",
    "sessions_planned",
    "sessions_delivered",
    "capacity_delivered",
    "appts_offered",
    "appts_booked",
    "appts_attended",
    "appts_dna",
    "utilisation",
    "dna_rate",
    "src_practice",
    "src_nhs111",
    "src_ed_streaming",
    "src_other",
    "onward_ed",
    "onward_ed_rate",
    "patients_turned_away",
    "reasons",
    "comments",
    "row_type",
    "commissioned_sessions",
    "commissioned_appts_offered",
    "sessions_vs_commissioned",
    "appts_vs_commissioned",
)

#: Plan rows after the day rows, per locality and GM: (row_type, what the figures cover).
PLAN_ROWS: tuple[str, ...] = ("plan_period", "plan_season_to_date", "plan_projection")


def neutralise(value: object) -> object:
    """A text cell that could run as a formula gets a leading apostrophe; other values pass unchanged."""
    if not isinstance(value, str):
        return value
    if value.lstrip(" ").startswith(FORMULA_PREFIXES) or value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _ratio(value: Fraction | float | None) -> str:
    if value is None:
        return ""
    return f"{float(value):.4f}"


def _row(
    period_key: str, day: str, code: str, name: str, status: Mapping[str, object], figures: Mapping[str, Any]
) -> dict[str, object]:
    sums = figures.get("sums") or {}
    ratios = figures.get("ratios") or {}
    attended = int(sums.get("appts_attended") or 0)
    row: dict[str, object] = {
        "period_key": period_key,
        "activity_date": day,
        "sub_icb_code": code,
        "locality_name": name,
        **status,
        **{name_: int(sums.get(name_) or 0) for name_ in SUM_NAMES},
        "capacity_delivered": _ratio(ratios.get("capacity_delivered")),
        "utilisation": _ratio(ratios.get("utilisation")),
        "dna_rate": _ratio(ratios.get("dna_rate")),
        "onward_ed_rate": _ratio(Fraction(int(sums.get("onward_ed") or 0), attended) if attended else None),
    }
    return row


def _plan_rows(digest: Digest) -> list[dict[str, object]]:
    """Delivery against the commissioned plan, per locality then GM: the period, the season to date and
    the projection to the season's end (sessions_delivered and appts_offered hold what was delivered,
    or is projected to be; commissioned_* what was commissioned over the same hub-days)."""
    rows: list[dict[str, object]] = []
    last = digest.days[-1].isoformat() if digest.days else ""
    end = digest.season_end.isoformat() if digest.season_end else ""
    lines = [(loc.sub_icb_code, loc.name, loc.plan) for loc in digest.localities]
    lines.append(("GM", "Greater Manchester", digest.gm_plan))
    for code, name, plan in lines:
        for row_type, day, part in (
            ("plan_period", last, plan.period),
            ("plan_season_to_date", last, plan.season),
        ):
            rows.append(
                {
                    "period_key": digest.period_key,
                    "activity_date": day,
                    "sub_icb_code": code,
                    "locality_name": name,
                    "row_type": row_type,
                    "sessions_delivered": part.delivered_sessions,
                    "appts_offered": part.offered_appts,
                    "commissioned_sessions": part.commissioned_sessions,
                    "commissioned_appts_offered": part.commissioned_appts,
                    "sessions_vs_commissioned": _ratio(part.sessions_ratio),
                    "appts_vs_commissioned": _ratio(part.appts_ratio),
                    "reasons": (
                        f"{part.unreported_sessions} commissioned sessions on days with no return (not counted)"
                        if part.unreported_sessions
                        else ""
                    ),
                }
            )
        rows.append(
            {
                "period_key": digest.period_key,
                "activity_date": end,
                "sub_icb_code": code,
                "locality_name": name,
                "row_type": "plan_projection",
                "commissioned_sessions": plan.season.commissioned_sessions + plan.remaining.sessions,
                "commissioned_appts_offered": plan.season.commissioned_appts + plan.remaining.appointments,
                "sessions_vs_commissioned": _ratio(plan.projected_sessions_ratio),
                "appts_vs_commissioned": _ratio(plan.projected_appts_ratio),
                "reasons": digest.projection,
            }
        )
    return rows


def digest_rows(digest: Digest) -> list[dict[str, object]]:
    """The rows of the CSV (before neutralising): per judged day, localities in register order, then GM;
    then the plan rows (``row_type`` plan_*; day rows are ``day``)."""
    rows: list[dict[str, object]] = []
    for day_rag in digest.day_rags:
        day = day_rag.activity_date.isoformat()
        for loc in day_rag.localities:
            comments = " | ".join(
                f"{h.hub_code}: {' '.join(str(h.row['comments']).split())}"
                for h in loc.hubs
                if h.row is not None and h.row.get("comments") and str(h.row["comments"]).strip()
            )
            status = {
                "status": loc.status,
                "level": "" if loc.level is None else loc.level,
                "points": "" if loc.points is None else loc.points,
                "escalated": "yes" if loc.escalated else "no",
                "assurance": loc.assurance or "",
                "reasons": "; ".join(loc.reasons),
                "comments": comments,
            }
            rows.append(
                _row(digest.period_key, day, loc.sub_icb_code, loc.locality_name, status, loc.figures)
                | _commissioned(
                    digest.commissioned.get((loc.sub_icb_code, day_rag.activity_date)), loc.figures
                )
            )
        gm = day_rag.gm.figures
        counts = ", ".join(f"{k} {v}" for k, v in day_rag.gm.counts.items() if v)
        status = {
            "status": gm.get("status_of_sums", ""),
            "level": gm.get("level_of_sums", ""),
            "points": gm.get("points", ""),
            "escalated": "",
            "assurance": "",
            "reasons": "; ".join([f"localities: {counts}", *(gm.get("reasons") or [])]),
            "comments": "",
        }
        rows.append(
            _row(digest.period_key, day, "GM", "Greater Manchester", status, gm)
            | _commissioned(digest.commissioned.get(("GM", day_rag.activity_date)), gm)
        )
    return rows + _plan_rows(digest)


def _commissioned(offer: Offer | None, figures: Mapping[str, Any]) -> dict[str, object]:
    """A day row's commissioned figures: over the hub-days with a return, what was commissioned."""
    sums = figures.get("sums") or {}
    sessions = None if offer is None else offer.sessions
    appts = None if offer is None else offer.appointments
    return {
        "row_type": "day",
        "commissioned_sessions": "" if sessions is None else sessions,
        "commissioned_appts_offered": "" if appts is None else appts,
        "sessions_vs_commissioned": (
            _ratio(Fraction(int(sums.get("sessions_delivered") or 0), sessions)) if sessions else ""
        ),
        "appts_vs_commissioned": _ratio(Fraction(int(sums.get("appts_offered") or 0), appts))
        if appts
        else "",
    }


def to_csv(rows: Sequence[Mapping[str, object]]) -> bytes:
    """CSV bytes (UTF-8 with BOM, CRLF), every text cell neutralised."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: neutralise(value) for key, value in row.items()})
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def digest_csv(digest: Digest) -> bytes:
    """The CSV attachment of a digest."""
    return to_csv(digest_rows(digest))
