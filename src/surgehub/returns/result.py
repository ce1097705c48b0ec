"""What validating one return answers (outcome, findings, accepted rows), and how its sender and receipt
time enter validation. Light to import: no pandas until a return is validated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from surgehub.clock import LONDON, london_day

if TYPE_CHECKING:
    from datetime import date, datetime

    import pandas as pd

    from surgehub.register import RegisterView
    from surgehub.returns.findings import Finding


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


@dataclass(frozen=True, kw_only=True)
class ValidationResult:
    """The outcome of validating one return (spec §3).

    ``frame`` holds the accepted rows, typed for loading (None when rejected, or when the result was
    rebuilt from a stored submission); ``r16_failed`` says the file must be quarantined.
    """

    status: Outcome
    spec_version: str
    rows: int
    errors: list[Finding]
    warnings: list[Finding]
    frame: pd.DataFrame | None = field(default=None, repr=False)
    r16_failed: bool = False

    @property
    def accepted(self) -> bool:
        return self.status == Outcome.ACCEPTED

    def to_json_dict(self) -> dict[str, Any]:
        """The `surgehub validate --json` shape of interfaces.md."""
        return {
            "status": str(self.status),
            "spec_version": self.spec_version,
            "rows": self.rows,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
        }
