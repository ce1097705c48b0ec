"""Patient identifiers (spec 2026.2, R16): finding NHS numbers in any text, and masking them everywhere.

A *run* (R16): after Unicode NFKC normalisation, digits form one run while consecutive digits are
separated by nothing or by a single separator: one space, tab or no-break space (or a run of them), or
one dash (hyphen-minus, hyphen, non-breaking hyphen, en or em dash, minus sign), dot or slash. A run of
exactly 10 digits that passes the NHS number modulus-11 check is a patient identifier; a longer or
shorter run is not (``943 476 5919 1`` is an 11-digit run).

Readings (docs/decisions): a "digit" is any Unicode decimal digit after NFKC (full-width ``９``,
Arabic-Indic ``٩``, circled ``⑨`` once NFKC has made it ``9``), so no script hides a number. The text
is normalised one character at a time so that a match maps back to the original characters it came
from, which is what `mask` replaces.

Nothing outside the quarantine may repeat such a number (spec §4): every text the system writes from
a submitter's file or file name passes through `mask` (findings, receipts, pages, logs, stored and
archive file names).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

#: What a masked number is replaced by, everywhere.
REMOVED = "[NHS number removed]"

#: The least number of digits a text must hold to possibly hold an identifier (a cheap pre-filter).
NHS_NUMBER_DIGITS = 10

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
_SPACES = frozenset(" \t")  # after NFKC a no-break space (U+00A0) is a space
#: One dash (after NFKC: U+2011 non-breaking hyphen becomes U+2010), one dot, one slash.
_SINGLES = frozenset("-\u2010\u2013\u2014\u2212./")


@dataclass(frozen=True)
class Run:
    """A run of digits: where it starts and ends in the original text, and its digits (ASCII)."""

    start: int
    end: int  # exclusive
    digits: str

    @property
    def is_nhs_number(self) -> bool:
        return len(self.digits) == NHS_NUMBER_DIGITS and is_nhs_number(self.digits)


def is_nhs_number(digits: str) -> bool:
    """True when ten ASCII digits pass the NHS number modulus-11 check."""
    if len(digits) != NHS_NUMBER_DIGITS or not (digits.isascii() and digits.isdigit()):
        return False
    check = 11 - sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=False)) % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


@lru_cache(maxsize=4096)
def _kind(char: str) -> tuple[str, str]:
    """("digit", "0".."9"), ("space", ""), ("single", ""), or ("other", "") for one original character."""
    normalised = unicodedata.normalize("NFKC", char)
    if len(normalised) == 1:
        value = unicodedata.decimal(normalised, None)
        if value is not None:
            return "digit", str(value)
        if normalised in _SPACES:
            return "space", ""
        if normalised in _SINGLES:
            return "single", ""
    return "other", ""


def runs(text: str) -> list[Run]:
    """Every run of digits in ``text`` (R16's definition), in order."""
    found: list[Run] = []
    start = end = -1
    digits: list[str] = []
    gap = ""  # "" (none since the last digit), "space" (a run of spaces), "single", or "closed"
    for position, char in enumerate(text):
        kind, value = _kind(char)
        if kind == "digit":
            if digits and gap in ("", "space", "single"):
                digits.append(value)
            else:
                if digits:
                    found.append(Run(start, end, "".join(digits)))
                start, digits = position, [value]
            end, gap = position + 1, ""
        elif not digits:
            continue
        elif kind == "space" and gap in ("", "space"):
            gap = "space"
        elif kind == "single" and gap == "":
            gap = "single"
        else:
            gap = "closed"  # two separators, a mixed pair, or any other character: the run ends
    if digits:
        found.append(Run(start, end, "".join(digits)))
    return found


def _might_hold_one(text: str) -> bool:
    return sum(ch.isdecimal() or not ch.isascii() for ch in text) >= NHS_NUMBER_DIGITS


def contains_nhs_number(text: str) -> bool:
    """True when ``text`` holds a run that is a valid NHS number (R16)."""
    if not _might_hold_one(text):
        return False
    return any(run.is_nhs_number for run in runs(text))


def mask(text: str) -> str:
    """``text`` with every NHS number's run replaced by ``[NHS number removed]``; anything else kept."""
    if not _might_hold_one(text):
        return text
    out: list[str] = []
    last = 0
    for run in runs(text):
        if run.is_nhs_number:
            out += [text[last : run.start], REMOVED]
            last = run.end
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)
