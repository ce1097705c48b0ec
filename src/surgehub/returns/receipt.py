"""Receipts to the submitting locality: subject, plain text and accessible HTML from one validation result.

A submitter must be able to fix a rejected return from the receipt alone, so every error is listed
with its rule, row, column and fix, and every warning too. Receipts only ever show finding messages,
which never hold an R16 number (findings.shown masks any value that looks like one).
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
    column: str
    message: str


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


def _lines(findings: list[Finding]) -> list[_Line]:
    return [
        _Line(
            rule=f.rule,
            rule_text=spec.RULES.get(f.rule, ""),
            row="whole file" if f.row is None else str(f.row),
            column=f.column or "—",
            message=f.message,
        )
        for f in findings
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
            f"{_plural(len(result.errors), 'error')} to fix"
        )
    elif result.warnings:
        outcome = "accepted_with_warnings"
        subject = (
            f"Surge hub return accepted with {_plural(len(result.warnings), 'warning')}: "
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
        "errors": _lines(result.errors),
        "warnings": _lines(result.warnings),
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
