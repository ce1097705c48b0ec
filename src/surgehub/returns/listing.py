"""What an answer lists (spec 2026.2 §3): at most 50 findings a rule with each rule's total, and the rules
not checked because a column they need is missing.

Light (no pandas): a result rebuilt from a stored submission (receipts, the API) uses it too. The
readings taken here are docs/decisions/0051 (which rules need which columns, and how "not checked"
is worded) and 0053 (the cap and its note).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from surgehub import spec

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping

    from surgehub.returns.findings import Finding

#: For each rule ID, the first this many findings in row order are listed (spec 2026.2 §3).
FINDINGS_PER_RULE = 50

_WARNING_INPUTS = (
    "sessions_planned",
    "sessions_delivered",
    "appts_booked",
    "appts_attended",
    "appts_dna",
    "onward_ed",
    "patients_turned_away",
)

#: The columns each row rule and warning reads: it is evaluated only when all of them are present.
#: R01, R02, R03 and R16 are judged cell by cell on whatever columns are present (a missing column is
#: F02 itself), so they are never "not checked".
NEEDS: dict[str, tuple[str, ...]] = {
    "R04": ("hub_status",),
    "R05": ("sub_icb_code",),
    "R06": ("activity_date", "sub_icb_code", "hub_code"),
    "R07": ("activity_date",),
    "R08": ("activity_date", "hub_code"),
    "R09": ("appts_offered", "appts_booked"),
    "R10": ("appts_booked", "appts_attended"),
    "R11": ("appts_booked", "appts_attended", "appts_dna"),
    "R12": ("appts_attended", "attended_f2f", "attended_remote"),
    "R13": ("appts_booked", "src_practice", "src_nhs111", "src_ed_streaming", "src_other"),
    "R14": ("appts_attended", "onward_ed"),
    "R15": ("hub_status", *_WARNING_INPUTS, "comments"),
    "R17": ("hub_status", "appts_offered"),
    "W01": ("sessions_planned", "sessions_delivered"),
    "W02": ("appts_booked", "appts_dna"),
    "W03": ("appts_attended", "onward_ed"),
    "W04": ("patients_turned_away",),
    "W05": ("activity_date", "hub_code", "hub_status", "appts_offered"),
}

#: Rules judged cell by cell: never "not checked", but nothing is said about a missing column's cells.
PER_CELL = ("R01", "R02", "R03", "R16")


@dataclass(frozen=True, kw_only=True)
class NotChecked:
    """A rule that was not evaluated, and the missing columns it needs (in spec column order)."""

    rule: str
    needs: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "needs": list(self.needs)}

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> NotChecked:
        return cls(rule=str(stored["rule"]), needs=tuple(str(c) for c in stored.get("needs") or ()))

    @property
    def message(self) -> str:
        """In words, for receipts and pages."""
        columns = ", ".join(self.needs)
        return f"{self.rule} ({spec.RULES.get(self.rule, '')}) was not checked: it needs {columns}"


def not_checked(missing: Collection[str], *, w05: bool = False) -> list[NotChecked]:
    """The rules not evaluated for want of the ``missing`` columns (W05 only when it would be judged)."""
    if not missing:
        return []
    out: list[NotChecked] = []
    for rule, needs in NEEDS.items():
        if rule == "W05" and not w05:
            continue
        lacking = tuple(name for name in spec.COLUMN_NAMES if name in needs and name in missing)
        if lacking:
            out.append(NotChecked(rule=rule, needs=lacking))
    return out


def evaluated(findings: list[Finding], missing: Collection[str]) -> list[Finding]:
    """``findings`` without those of rules not checked, nor any about a missing column's (blank) cells."""
    if not missing:
        return findings
    skipped = {item.rule for item in not_checked(missing, w05=True)}
    return [
        f
        for f in findings
        if f.rule not in skipped and not (f.rule in PER_CELL and f.row is not None and f.column in missing)
    ]


def totals_of(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings each rule has, by rule ID."""
    return dict(sorted(Counter(f.rule for f in findings).items()))


def first_of_each_rule(findings: list[Finding], totals: dict[str, int] | None = None) -> list[Finding]:
    """The first FINDINGS_PER_RULE findings of each rule, in the order given (row order).

    ``totals``, when given, is added each rule's count. A file may have a million findings: they are
    counted in C, and the listing stops once every rule has its 50.
    """
    counts = Counter(f.rule for f in findings)
    if totals is not None:
        for rule, n in counts.items():
            totals[rule] = totals.get(rule, 0) + n
    wanted = {rule: min(n, FINDINGS_PER_RULE) for rule, n in counts.items()}
    remaining = sum(wanted.values())
    out: list[Finding] = []
    for f in findings:
        if not remaining:
            break
        if wanted[f.rule]:
            wanted[f.rule] -= 1
            remaining -= 1
            out.append(f)
    return out


@dataclass(frozen=True, kw_only=True)
class Capped:
    """A rule with more findings than are listed: how many are listed, how many there are, in words."""

    rule: str
    listed: int
    total: int

    @property
    def message(self) -> str:
        rest = self.total - self.listed
        return (
            f"{self.rule}: {self.total:,} found; the first {self.listed} are listed, and the other {rest:,} "
            "follow the same pattern: fix them the same way"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "listed": self.listed, "total": self.total, "message": self.message}


def capped(listed: Iterable[Finding], totals: Mapping[str, int]) -> list[Capped]:
    """The rules whose total is more than the findings listed, in rule order."""
    shown = totals_of(listed)
    return [
        Capped(rule=rule, listed=shown.get(rule, 0), total=total)
        for rule, total in sorted(totals.items())
        if total > shown.get(rule, 0)
    ]
