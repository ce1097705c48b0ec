"""One finding of validation (a failed rule or a warning), and the wording helpers every check shares."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

#: A run of exactly ten digits, possibly split by single spaces or dashes, with no digit touching it.
#: The lookahead makes overlapping candidates visible ("12345 67890 12345" has two).
NHS_NUMBER_CANDIDATE = re.compile(r"(?<![0-9])(?=([0-9](?:[ -]?[0-9]){9})(?![0-9]))")

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def is_nhs_number(digits: str) -> bool:
    """True when ten digits pass the NHS number modulus-11 check."""
    if len(digits) != 10 or not (digits.isascii() and digits.isdigit()):
        return False
    total = sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=False))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def contains_nhs_number(text: str) -> bool:
    """True when text holds a run that reads as a valid NHS number (spec R16)."""
    for match in NHS_NUMBER_CANDIDATE.finditer(text):
        digits = re.sub(r"[ -]", "", match.group(1))
        if is_nhs_number(digits):
            return True
    return False


def shown(value: object, limit: int = 40) -> str:
    """A cell value as it may appear in a message: shortened, and never an NHS number.

    R16 is about comments, but a patient's number typed into any other column must not be echoed
    back in a receipt either, so every quoted value passes through here.
    """
    text = str(value)
    if contains_nhs_number(text):
        return "(a value that looks like an NHS number, not repeated here)"
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


@dataclass(frozen=True, kw_only=True)
class Finding:
    """A rule that failed (or a warning that fired), where, and what to do about it.

    ``row`` follows spec §3 (1 is the first row under the header; None for file rules);
    ``column`` is the column the spec names for the rule, or None.
    """

    rule: str
    row: int | None
    column: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of interfaces.md (also how a submission row stores it)."""
        return {"rule": self.rule, "row": self.row, "column": self.column, "message": self.message}

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> Finding:
        """A finding as stored by :meth:`to_dict` (a submission row's errors and warnings)."""
        return cls(
            rule=stored["rule"], row=stored.get("row"), column=stored.get("column"), message=stored["message"]
        )


def sort_key(finding: Finding) -> tuple[int, int, str, str]:
    """File rules first, then by row, then by rule ID: the order a submitter reads them in."""
    return (0 if finding.row is None else 1, finding.row or 0, finding.rule, finding.column or "")
