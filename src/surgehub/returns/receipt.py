"""Receipts to the submitting locality: subject, plain text and accessible HTML from one validation result.

A submitter must be able to fix a rejected return from the receipt alone, so every error is listed
with its rule, row (and the spreadsheet row, hub and date), column and fix, and every warning too:
at most 50 a rule, the rest counted ("and 70 more R09 like these"), as spec 2026.2 §3 says; the
rules not checked for want of a column are named. Receipts only ever show findings as validation
left them, masked: never an R16 number.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from surgehub import spec
from surgehub.clock import LONDON
from surgehub.returns.result import Outcome

if TYPE_CHECKING:
    from datetime import datetime

    import jinja2

    from surgehub.config import Settings
    from surgehub.returns.findings import Finding
    from surgehub.returns.result import ValidationResult


@dataclass(frozen=True, kw_only=True)
class _Line:
    rule: str
    rule_text: str
    row: str
    place: str  # "spreadsheet row 3; hub 14L-H2, 2026-11-24" (or "")
    column: str
    message: str
    more: int  # on the last listed finding of a capped rule: how many more are not listed


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("surgehub", "templates"),  # package data, read as the wheel ships it
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _place(f: Finding) -> str:
    parts = [] if f.spreadsheet_row is None else [f"spreadsheet row {f.spreadsheet_row}"]
    named = ", ".join(text for text in (f.hub_code, f.activity_date) if text)
    if named:
        parts.append(f"hub {named}" if f.hub_code else named)
    return "; ".join(parts)


def _lines(findings: list[Finding], totals: dict[str, int]) -> list[_Line]:
    last = {f.rule: i for i, f in enumerate(findings)}
    listed: dict[str, int] = {}
    for f in findings:
        listed[f.rule] = listed.get(f.rule, 0) + 1
    return [
        _Line(
            rule=f.rule,
            rule_text=spec.RULES.get(f.rule, ""),
            row="whole file" if f.row is None and f.spreadsheet_row is None else str(f.row or "header"),
            place=_place(f),
            column=f.column or "—",
            message=f.message,
            more=max(totals.get(f.rule, 0) - listed[f.rule], 0) if last[f.rule] == i else 0,
        )
        for i, f in enumerate(findings)
    ]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def render_receipt(
    result: ValidationResult,
    *,
    locality_code: str,
    locality_name: str,
    received_at: datetime,
    submission_id: int | None,
    settings: Settings,
    duplicate: bool = False,
) -> tuple[str, str, str]:
    """(subject, text, html) of the receipt for one return; deadlines are taken from ``settings``."""
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=LONDON)
    local = received_at.astimezone(LONDON)
    if duplicate:
        outcome = "duplicate"
        subject = f"Surge hub return already received: {locality_name} ({locality_code}), nothing changed"
    elif result.status == Outcome.REJECTED:
        outcome = "rejected"
        subject = (
            f"Surge hub return REJECTED: {locality_name} ({locality_code}), "
            f"{_plural(result.error_count, 'error')} to fix"
        )
    elif result.warnings:
        outcome = "accepted_with_warnings"
        subject = (
            f"Surge hub return accepted with {_plural(result.warning_count, 'warning')}: "
            f"{locality_name} ({locality_code})"
        )
    else:
        outcome = "accepted"
        subject = f"Surge hub return accepted: {locality_name} ({locality_code})"
    days: list[str] = []
    if result.frame is not None and len(result.frame):
        days = sorted({d.date().isoformat() for d in result.frame["activity_date"]})
    context = {
        "outcome": outcome,
        "locality_code": locality_code,
        "locality_name": locality_name,
        "received": local.strftime("%A %d %B %Y at %H:%M %Z"),
        "submission_id": submission_id,
        "rows": result.rows,
        "days": days,
        "errors": _lines(result.errors, result.totals),
        "warnings": _lines(result.warnings, result.totals),
        "error_count": result.error_count,
        "warning_count": result.warning_count,
        "not_checked": [item.message for item in result.not_checked],
        "spec_version": result.spec_version,
        "r16": result.r16_failed,
        "subject": subject,
        "deadline": settings.timeliness.deadline.strftime("%H:%M"),
        "close": settings.timeliness.close.strftime("%H:%M"),
        "window": settings.timeliness.revision_window_days,
    }
    env = _environment()
    text = env.get_template("receipt.txt.j2").render(**context)
    html = env.get_template("receipt.html.j2").render(**context)
    return subject, text, html
