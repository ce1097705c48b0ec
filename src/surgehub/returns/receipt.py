"""Receipts to the submitting locality: subject, plain text and accessible HTML from one validation result.

A submitter must be able to tell receipts apart and fix a rejected return from the receipt alone:
the subject and the top name the file, its activity dates and hubs, the locality and the minute it
was received; the reference is the one the submitter was given (``api-…`` for an upload). Errors
(and warnings) are grouped by rule, then by hub and day, with the spreadsheet rows listed compactly
and each message said once, so every error can be fixed in one pass; each rule ID links to its entry
in the submitter guide (``email.public_base_url`` + ``/guide#rule-R09``). At most 50 findings a rule
are listed, the rest counted ("and 70 more R09 like these"), as spec 2026.2 §3 says; the rules not
checked for want of a column are named. Receipts only ever show findings as validation
left them, masked: never an R16 number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

from surgehub import spec
from surgehub.clock import LONDON
from surgehub.returns.result import Outcome

if TYPE_CHECKING:
    from datetime import datetime

    import jinja2

    from surgehub.config import Settings
    from surgehub.register import RegisterView
    from surgehub.returns.findings import Finding
    from surgehub.returns.result import Coverage, ValidationResult


#: Where a rule's entry is in the submitter guide page (``/guide``), under any base address.
GUIDE_PATH = "/guide"


def guide_link(base: str, rule: str | None = None) -> str:
    """The submitter guide at ``base`` (a public base URL, or a page's mount prefix), at ``rule``'s entry."""
    return f"{base.rstrip('/')}{GUIDE_PATH}" + (f"#rule-{rule}" if rule else "")


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One thing to fix: where (rows, column) and what; ``where`` is empty when it is the place's own."""

    where: str
    message: str


@dataclass(frozen=True, kw_only=True)
class Place:
    """A rule's findings on one hub and day (or the whole file, or the header): fixed together."""

    label: str  # "Hub 14L-H2, 2026-11-24", "Whole file", "Header row"
    rows: str  # "spreadsheet rows 3, 5–7" (or "")
    columns: str  # "appts_booked" or "appts_booked, appts_dna" (or "")
    entries: list[Entry]


@dataclass(frozen=True, kw_only=True)
class Group:
    """Every listed finding of one rule, by hub and day, so a person fixes them in one pass."""

    rule: str
    rule_text: str
    link: str
    total: int  # every finding of the rule, those past the cap included
    places: list[Place]
    more: int  # how many are not listed (past the cap)


def _ranges(numbers: list[int]) -> str:
    """``[3, 4, 5, 8]`` as "3–5, 8"."""
    out: list[str] = []
    ordered = sorted(set(numbers))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        out.append(str(ordered[i]) if i == j else f"{ordered[i]}–{ordered[j]}")
        i = j + 1
    return ", ".join(out)


def _rows_of(findings: list[Finding]) -> str:
    sheet = [f.spreadsheet_row for f in findings if f.spreadsheet_row is not None]
    if sheet:
        return f"spreadsheet row{'s' if len(set(sheet)) > 1 else ''} {_ranges(sheet)}"
    rows = [f.row for f in findings if f.row is not None]
    return f"row{'s' if len(set(rows)) > 1 else ''} {_ranges(rows)}" if rows else ""


def _place_label(f: Finding) -> str:
    if f.row is None:
        return "Header row" if f.rule in ("F02", "F03") else "Whole file"
    hub = f"hub {f.hub_code}" if f.hub_code else "no hub code"
    return f"{hub[:1].upper()}{hub[1:]}, {f.activity_date or 'no activity date'}"


def _one_row(f: Finding) -> str:
    where = (
        f"spreadsheet row {f.spreadsheet_row}"
        if f.spreadsheet_row is not None
        else (f"row {f.row}" if f.row is not None else "")
    )
    return ", ".join(part for part in (where, f.column or "") if part)


def group_findings(findings: list[Finding], totals: dict[str, int], *, base: str) -> list[Group]:
    """``findings`` (one answer's errors, or its warnings) by rule in the specification's order, then by
    hub and day in row order; a message said alike on several rows is said once, with its rows.
    Rule IDs link to their entry in the submitter guide under ``base``."""
    order = {rule: i for i, rule in enumerate(spec.RULES)}
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, []).append(f)
    groups: list[Group] = []
    for rule in sorted(by_rule, key=lambda r: (order.get(r, len(order)), r)):
        listed = by_rule[rule]
        by_place: dict[str, list[Finding]] = {}
        for f in listed:
            by_place.setdefault(_place_label(f), []).append(f)
        places: list[Place] = []
        for label, items in by_place.items():
            messages = {f.message for f in items}
            columns = list(dict.fromkeys(f.column for f in items if f.column))
            if len(messages) == 1:
                entries = [Entry(where="", message=items[0].message)]
            else:
                entries = [Entry(where=_one_row(f), message=f.message) for f in items]
            places.append(
                Place(label=label, rows=_rows_of(items), columns=", ".join(columns), entries=entries)
            )
        total = max(totals.get(rule, 0), len(listed))
        groups.append(
            Group(
                rule=rule,
                rule_text=spec.RULES.get(rule, ""),
                link=guide_link(base, rule),
                total=total,
                places=places,
                more=total - len(listed),
            )
        )
    return groups


@dataclass(frozen=True, kw_only=True)
class Misplaced:
    """A return that looks like another locality's: most of the hub codes it names are that locality's."""

    code: str
    name: str
    hubs: tuple[str, ...]  # the hub codes in the file registered to ``code``
    named: int  # how many hub codes the file names in all


def misplaced_as(coverage: Coverage, sender: str, view: RegisterView) -> Misplaced | None:
    """The locality a return from ``sender`` looks like it belongs to, or None: the one whose register
    holds more than half the hub codes the file names, when that is not the sender (a Manchester file
    dropped in Bolton's folder)."""
    owners: dict[str, list[str]] = {}
    for code in coverage.hubs:
        hub = view.hub(code.strip().upper())
        if hub is not None:
            owners.setdefault(hub.sub_icb_code, []).append(hub.hub_code)
    if not owners:
        return None
    best, hubs = max(owners.items(), key=lambda item: (len(item[1]), item[0]))
    named = len(coverage.hubs) + coverage.more_hubs
    if best == sender or len(hubs) * 2 <= named:
        return None
    found = view.locality_by_code(best)
    return Misplaced(code=best, name=found.name if found else best, hubs=tuple(sorted(hubs)), named=named)


def misplaced_advice(misplaced: Misplaced, *, sender: str, sender_name: str, channel: str | None) -> str:
    """Where a misplaced return should go instead, for the channel it came by."""
    if channel == "folder":
        return (
            f"If it is {misplaced.name}'s, put it in {misplaced.name}'s folder, landing/{misplaced.code}/: "
            f"this folder, landing/{sender}/, takes only {sender_name}'s returns (the file has been "
            f"moved to landing/{sender}/rejected/)."
        )
    if channel == "api":
        return (
            f"If it is {misplaced.name}'s, send it with {misplaced.name}'s own submission token: a token "
            f"sends returns for its own locality only."
        )
    return f"If it is {misplaced.name}'s, send it as {misplaced.name}'s return, not {sender_name}'s."


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def days_phrase(coverage: Coverage) -> str:
    """The activity dates, short: "Tue 24 Nov 2026", "Sat 21 Nov – Mon 23 Nov 2026", "03 Nov – 24 Nov 2026, 9 days"."""
    days = [date.fromisoformat(d) for d in coverage.activity_dates]
    if not days:
        return "no activity date"
    count = len(days) + coverage.more_dates
    first, last = days[0], days[-1]
    if count == 1:
        return first.strftime("%a %d %b %Y")
    contiguous = coverage.more_dates == 0 and (last - first).days == count - 1
    if contiguous and count <= 3:
        left = first.strftime("%a %d %b" if first.year == last.year else "%a %d %b %Y")
        return f"{left} – {last.strftime('%a %d %b %Y')}"
    left = first.strftime("%d %b" if first.year == last.year else "%d %b %Y")
    return f"{left} – {last.strftime('%d %b %Y')}, {count} days"


def hubs_phrase(coverage: Coverage, limit: int = 3) -> str:
    """The hub codes, short: "14L-H1, 14L-H2" or "5 hubs"."""
    count = len(coverage.hubs) + coverage.more_hubs
    if count == 0:
        return "no hub code"
    if count <= limit:
        return ", ".join(coverage.hubs)
    return f"{count} hubs"


def receipt_subject(
    outcome: str,
    *,
    file_name: str,
    coverage: Coverage,
    locality_code: str,
    locality_name: str,
    received: datetime,
    errors: int = 0,
    warnings: int = 0,
    misplaced: Misplaced | None = None,
) -> str:
    """The subject: outcome, then the file, its days and hubs, the locality and the minute it was received,
    so two receipts can be told apart from their subjects alone."""
    rejected = f"REJECTED, {_plural(errors, 'error')} to fix"
    if misplaced is not None:
        rejected = f"REJECTED, looks like {misplaced.name} ({misplaced.code})'s return"
    verdict = {
        "duplicate": "already received, nothing changed",
        "rejected": rejected,
        "accepted_with_warnings": f"accepted with {_plural(warnings, 'warning')}",
    }.get(outcome, "accepted")
    about = f"{days_phrase(coverage)}; {hubs_phrase(coverage)}"
    return (
        f"Surge hub return {verdict}: {_short(file_name)} ({about}), "
        f"{locality_name} ({locality_code}), received {received.strftime('%a %d %b %H:%M')}"
    )


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


def render_receipt(
    result: ValidationResult,
    *,
    locality_code: str,
    locality_name: str,
    received_at: datetime,
    submission_id: int | str | None,
    settings: Settings,
    file_name: str = "return",
    duplicate: bool = False,
    channel: str | None = None,
    misplaced: Misplaced | None = None,
) -> tuple[str, str, str]:
    """(subject, text, html) of the receipt for one return, sent once it has been recorded (and, when
    accepted, loaded); deadlines are taken from ``settings``, links from ``settings.email.public_base_url``.

    ``submission_id`` is the reference the submitter was given: an upload's ``api-…`` id, or the
    warehouse's number for a file from a landing folder. ``file_name`` is the name as stored (masked).
    ``misplaced`` (``misplaced_as``) says the file looks like another locality's: the receipt says so
    at the top, and where to send it (by ``channel``), instead of listing R05 on every row.
    """
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=LONDON)
    local = received_at.astimezone(LONDON)
    if duplicate:
        outcome = "duplicate"
    elif result.status == Outcome.REJECTED:
        outcome = "rejected"
    elif result.warnings:
        outcome = "accepted_with_warnings"
    else:
        outcome = "accepted"
    coverage = result.coverage
    subject = receipt_subject(
        outcome,
        file_name=file_name,
        coverage=coverage,
        locality_code=locality_code,
        locality_name=locality_name,
        received=local,
        errors=result.error_count,
        warnings=result.warning_count,
        misplaced=misplaced if outcome == "rejected" else None,
    )
    base = settings.email.public_base_url
    errors = group_findings(result.errors, result.totals, base=base)
    folded = None
    if misplaced is not None and outcome == "rejected":
        folded = next((g for g in errors if g.rule == "R05"), None)
        errors = [g for g in errors if g.rule != "R05"]
    context = {
        "outcome": outcome,
        "locality_code": locality_code,
        "locality_name": locality_name,
        "file_name": file_name,
        "received": local.strftime("%A %d %B %Y at %H:%M %Z"),
        "submission_id": submission_id,
        "rows": result.rows,
        "days": list(coverage.activity_dates),
        "more_days": coverage.more_dates,
        "days_phrase": days_phrase(coverage),
        "hubs": list(coverage.hubs),
        "more_hubs": coverage.more_hubs,
        "errors": errors,
        "misplaced": misplaced if outcome == "rejected" else None,
        "misplaced_advice": ""
        if misplaced is None
        else misplaced_advice(misplaced, sender=locality_code, sender_name=locality_name, channel=channel),
        "folded_r05": 0 if folded is None else folded.total,
        "warnings": group_findings(result.warnings, result.totals, base=base),
        "error_count": result.error_count,
        "warning_count": result.warning_count,
        "not_checked": [item.message for item in result.not_checked],
        "spec_version": result.spec_version,
        "r16": result.r16_failed,
        "subject": subject,
        "deadline": settings.timeliness.deadline.strftime("%H:%M"),
        "close": settings.timeliness.close.strftime("%H:%M"),
        "window": settings.timeliness.revision_window_days,
        "guide": guide_link(base),
        "register": f"{base}/register/{locality_code}",
    }
    env = _environment()
    text = env.get_template("receipt.txt.j2").render(**context)
    html = env.get_template("receipt.html.j2").render(**context)
    return subject, text, html
