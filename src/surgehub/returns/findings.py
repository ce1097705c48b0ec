"""One finding of validation (a failed rule or a warning), and the wording helpers every check shares.

Nothing a finding says may repeat a patient identifier (spec 2026.2 §4, R16): every value quoted in a
message passes through `shown` (masked before it is shortened, so no part of a number survives), and
every finding leaves validation through `Finding.masked` (message, column, hub and date masked again,
whatever built them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from surgehub.identifiers import mask

if TYPE_CHECKING:
    from collections.abc import Mapping


def shown(value: object, limit: int = 40) -> str:
    """A cell value as it may appear in a message: quoted, any NHS number masked, then shortened."""
    text = mask(str(value))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f'"{text}"'


def number(value: float) -> str:
    """A typed number as the submitter would write it: 12 (not 12.0), 1234567 (not 1.23e+06), 7.25."""
    if value != value:
        return "?"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0")


def column_letter(index: int) -> str:
    """The spreadsheet letter of the 0-based column ``index`` (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _masked(text: str | None) -> str | None:
    return None if text is None else mask(text)


@dataclass(frozen=True, kw_only=True, slots=True)
class Finding:
    """A rule that failed (or a warning that fired), where, and what to do about it.

    ``row`` follows spec §3 (1 is the first row under the header; None for file rules and for a header
    cell); ``column`` is the column the spec names for the rule, or None. ``spreadsheet_row`` is the
    line (CSV) or sheet row (XLSX) a person sees; ``hub_code`` and ``activity_date`` are the row's
    cells as written (trimmed, None where blank); all three are None for file rules.
    """

    rule: str
    row: int | None
    column: str | None
    message: str
    spreadsheet_row: int | None = None
    hub_code: str | None = None
    activity_date: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of interfaces.md (also how a submission row stores it)."""
        return {
            "rule": self.rule,
            "row": self.row,
            "spreadsheet_row": self.spreadsheet_row,
            "hub_code": self.hub_code,
            "activity_date": self.activity_date,
            "column": self.column,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> Finding:
        """A finding as stored by :meth:`to_dict` (a submission row's errors and warnings; 2026.1 rows
        have no spreadsheet row, hub or date)."""
        return cls(
            rule=stored["rule"],
            row=stored.get("row"),
            column=stored.get("column"),
            message=stored["message"],
            spreadsheet_row=stored.get("spreadsheet_row"),
            hub_code=stored.get("hub_code"),
            activity_date=stored.get("activity_date"),
        )

    def masked(self) -> Finding:
        """This finding with every text it carries masked (R16: no number leaves validation)."""
        return replace(
            self,
            message=mask(self.message),
            column=_masked(self.column),
            hub_code=_masked(self.hub_code),
            activity_date=_masked(self.activity_date),
        )


def sort_key(finding: Finding) -> tuple[int, int, str, str]:
    """File rules first, then by row, then by rule ID: the order a submitter reads them in."""
    return (0 if finding.row is None else 1, finding.row or 0, finding.rule, finding.column or "")
