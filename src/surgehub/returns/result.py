"""What validating one return answers (outcome, findings, accepted rows), and how its sender and receipt
time enter validation. Light to import: no pandas until a return is validated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from surgehub.clock import LONDON, london_day
from surgehub.returns.findings import Finding
from surgehub.returns.listing import Capped, NotChecked, capped, totals_of

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import date, datetime

    import pandas as pd

    from surgehub.register import RegisterView


class Outcome(StrEnum):
    """A validated return is accepted (no errors; warnings allowed) or rejected (spec §3)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


class UnknownLocality(ValueError):
    """The submitter's locality (from the channel) is not in localities.csv: a configuration error."""


def sender_code(locality: str, register: RegisterView) -> str:
    """The submitting locality's code, normalised where it enters validation; UnknownLocality if unknown."""
    found = register.locality_by_code(locality)
    if found is None:
        known = ", ".join(loc.sub_icb_code for loc in register.localities)
        raise UnknownLocality(f"unknown locality {locality!r}; known codes: {known}")
    return found.sub_icb_code


def receipt_day(received_at: datetime) -> date:
    """The Europe/London day a return was received on (a time without a zone is London time)."""
    return london_day(received_at if received_at.tzinfo is not None else received_at.replace(tzinfo=LONDON))


#: At most this many activity dates and hubs are named in a return's coverage; the rest are counted.
COVERAGE_LISTED = 31
#: At most this many hub-days are kept (a return has at most 500 data rows by default).
HUB_DAYS_LISTED = 500

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", flags=re.ASCII)


@dataclass(frozen=True, kw_only=True)
class Coverage:
    """What a return is about, as its rows name it: the activity dates and hub codes it covers.

    Taken from the cells as written (trimmed), whether or not the return was accepted, so a receipt
    says which file and which days it is about even when every row is wrong. Only dates written as
    ``YYYY-MM-DD`` and hub codes of a plausible shape (at most 16 printable characters) are named,
    masked; at most ``COVERAGE_LISTED`` of each, in order, the rest counted.
    """

    activity_dates: tuple[str, ...] = ()
    hubs: tuple[str, ...] = ()
    more_dates: int = 0
    more_hubs: int = 0
    #: Each (hub code, ISO date) a row names with a readable date, at most ``HUB_DAYS_LISTED``: what a
    #: queued return will load, so the page never lists as owed what was just sent.
    hub_days: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of_cells(cls, dates: Sequence[object] | pd.Series, hubs: Sequence[object] | pd.Series) -> Coverage:
        """The coverage of a return's ``activity_date`` and ``hub_code`` cells (text as read).

        Each distinct cell text is judged once (a million-row return names a few hundred dates and a
        few thousand hubs); the hub-days are then found as integer keys, without a Python object a row.
        """
        import numpy as np
        import pandas as pd

        n = min(len(dates), len(hubs))  # pairs only where both cells exist
        date_cells = dates if isinstance(dates, pd.Series) else pd.Series(list(dates), dtype=object)
        hub_cells = hubs if isinstance(hubs, pd.Series) else pd.Series(list(hubs), dtype=object)
        date_codes, date_texts = pd.factorize(date_cells)
        hub_codes, hub_texts = pd.factorize(hub_cells)
        days = [_day_of(value) for value in date_texts]
        read_hubs = [_hub_of(value) for value in hub_texts]
        listed_dates = sorted({d for d in days if d is not None})
        listed_hubs = sorted({h for h in read_hubs if h is not None})
        # Hub-days, sorted by (upper-case hub, date): each distinct text's rank, -1 when unreadable (the
        # trailing -1 is what a missing cell's code, -1, picks).
        pair_hubs = sorted({h.upper() for h in listed_hubs})
        hub_rank = {h: i for i, h in enumerate(pair_hubs)}
        day_rank = {d: i for i, d in enumerate(listed_dates)}
        hub_ranks = np.array([*(hub_rank[h.upper()] if h else -1 for h in read_hubs), -1], dtype=np.int64)
        day_ranks = np.array([*(day_rank[d] if d else -1 for d in days), -1], dtype=np.int64)
        row_hubs = hub_ranks[np.asarray(hub_codes[:n])]
        row_days = day_ranks[np.asarray(date_codes[:n])]
        both = (row_hubs >= 0) & (row_days >= 0)
        width = max(len(listed_dates), 1)
        keys = row_hubs[both] * width + row_days[both]
        if len(pair_hubs) * width <= 4 * len(keys) + 1024:  # a presence table is cheaper than sorting
            seen = np.zeros(len(pair_hubs) * width, dtype=bool)
            seen[keys] = True
            keys = np.flatnonzero(seen)[:HUB_DAYS_LISTED]
        else:
            keys = np.unique(keys)[:HUB_DAYS_LISTED]
        pairs = [(pair_hubs[k // width], listed_dates[k % width]) for k in keys.tolist()]
        return cls(
            activity_dates=tuple(listed_dates[:COVERAGE_LISTED]),
            hubs=tuple(listed_hubs[:COVERAGE_LISTED]),
            more_dates=max(len(listed_dates) - COVERAGE_LISTED, 0),
            more_hubs=max(len(listed_hubs) - COVERAGE_LISTED, 0),
            hub_days=tuple(pairs),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "activity_dates": list(self.activity_dates),
            "hubs": list(self.hubs),
            "more_dates": self.more_dates,
            "more_hubs": self.more_hubs,
            "hub_days": [list(pair) for pair in self.hub_days],
        }

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any] | None) -> Coverage:
        """A stored coverage (None, as before it was kept: nothing named)."""
        if not stored:
            return cls()
        return cls(
            activity_dates=tuple(str(d) for d in stored.get("activity_dates") or ()),
            hubs=tuple(str(h) for h in stored.get("hubs") or ()),
            more_dates=int(stored.get("more_dates") or 0),
            more_hubs=int(stored.get("more_hubs") or 0),
            hub_days=tuple((str(h), str(d)) for h, d in stored.get("hub_days") or ()),
        )


def _day_of(value: object) -> str | None:
    """A cell's activity date as ISO text, when written as a real ``YYYY-MM-DD`` date (trimmed)."""
    from datetime import date as _date

    text = str(value).strip() if value is not None else ""
    if not _ISO_DAY.fullmatch(text):
        return None
    try:
        return _date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def _hub_of(value: object) -> str | None:
    """A cell's hub code, masked, when of a plausible shape (at most 16 printable characters, trimmed)."""
    from surgehub.identifiers import mask

    text = str(value).strip() if value is not None else ""
    return mask(text) if text and len(text) <= 16 and text.isprintable() else None


@dataclass(frozen=True, kw_only=True)
class ValidationResult:
    """The outcome of validating one return (spec §3, 2026.2).

    ``errors`` and ``warnings`` list at most 50 findings a rule, in row order; ``totals`` counts every
    finding of each rule (those past the cap too); ``not_checked`` names the rules not evaluated for
    want of a column. ``frame`` holds the accepted rows, typed for loading (None when rejected, or when
    the result was rebuilt from a stored submission); ``r16_failed`` says the file must be quarantined.
    """

    status: Outcome
    spec_version: str
    rows: int
    errors: list[Finding]
    warnings: list[Finding]
    frame: pd.DataFrame | None = field(default=None, repr=False)
    r16_failed: bool = False
    totals: dict[str, int] = field(default_factory=dict)
    not_checked: list[NotChecked] = field(default_factory=list)
    coverage: Coverage = field(default_factory=Coverage)

    @property
    def accepted(self) -> bool:
        return self.status == Outcome.ACCEPTED

    @property
    def capped(self) -> list[Capped]:
        """The rules with more findings than are listed (each says the rest follow the same pattern)."""
        return capped([*self.errors, *self.warnings], self.totals)

    @property
    def error_count(self) -> int:
        """Every error found, those past the cap included."""
        return self._count(self.errors)

    @property
    def warning_count(self) -> int:
        """Every warning found, those past the cap included."""
        return self._count(self.warnings)

    def _count(self, listed: list[Finding]) -> int:
        rules = {f.rule for f in listed}
        return sum(self.totals.get(rule, 0) for rule in rules) or len(listed)

    def to_json_dict(self) -> dict[str, Any]:
        """The `surgehub validate --json` shape of interfaces.md (spec 2026.2: totals, not_checked;
        ``capped`` says, for each rule listed only in part, that the rest follow the same pattern)."""
        return {
            "status": str(self.status),
            "spec_version": self.spec_version,
            "rows": self.rows,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "totals": dict(self.totals),
            "not_checked": [item.to_dict() for item in self.not_checked],
            "capped": [item.to_dict() for item in self.capped],
            "coverage": self.coverage.to_dict(),
        }

    @classmethod
    def from_stored(
        cls,
        *,
        outcome: str,
        spec_version: str,
        rows: int,
        errors: Sequence[Mapping[str, Any]] | None,
        warnings: Sequence[Mapping[str, Any]] | None,
        totals: Mapping[str, int] | None = None,
        not_checked: Sequence[Mapping[str, Any]] | None = None,
        quarantined: bool = False,
        coverage: Mapping[str, Any] | None = None,
    ) -> ValidationResult:
        """A result as a submission row stores it (findings as dicts). A row stored before 2026.2 has no
        totals: its lists were never capped, so their counts are the totals."""
        found_errors = [Finding.from_dict(f) for f in errors or []]
        found_warnings = [Finding.from_dict(f) for f in warnings or []]
        counted = dict(totals) if totals is not None else totals_of([*found_errors, *found_warnings])
        return cls(
            status=Outcome.ACCEPTED if outcome == Outcome.ACCEPTED else Outcome.REJECTED,
            spec_version=spec_version,
            rows=rows,
            errors=found_errors,
            warnings=found_warnings,
            r16_failed=quarantined or any(f.rule == "R16" for f in found_errors),
            totals=counted,
            not_checked=[NotChecked.from_dict(item) for item in not_checked or []],
            coverage=Coverage.from_dict(coverage),
        )
