"""The digest's values: its kind and period, the sections it holds, and the message rendered from it.

Building (``build.py``) gathers ONE :class:`Digest` from the warehouse and the RAG, all at once;
rendering (``render.py`` with ``charts.py`` and ``csv_export.py``) reads it and gives a
:class:`RenderedDigest`; ``mails.py`` turns that into one mail per recipient. Every value here is
frozen: nothing is filled in later, and every module reads this one rather than ``build``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from surgehub import spec
from surgehub.clock import to_london
from surgehub.digest.plan import EMPTY, PlanLine

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import date, datetime

    from surgehub.config import UtilisationRule
    from surgehub.mail.compose import InlineImage
    from surgehub.rag import DayRag
    from surgehub.register import Offer


class DigestKind(StrEnum):
    """The board digest (to ``email.board``) or the daily operations summary (to ``email.operations``)."""

    BOARD = "board"
    DAILY = "daily"


class Direction(StrEnum):
    """A locality's latest status against the one the previous digest showed."""

    WORSE = "worse"
    BETTER = "better"
    SAME = "same"
    CHANGED = "changed"  # to or from Closed or Pending, which are not ranked
    NEW = "new"  # not in the previous digest (or nothing judged now)


#: Source-mix columns with the words the board uses, in display order.
SOURCES: tuple[tuple[str, str], ...] = (
    ("src_practice", "GP practice"),
    ("src_nhs111", "NHS 111"),
    ("src_ed_streaming", "ED/UTC streaming"),
    ("src_other", "Other"),
)

#: Plain words for the soft rules (spec §3 warnings).
WARNING_WORDS: dict[str, str] = {
    "W01": "fewer sessions delivered than planned",
    "W02": "DNA rate above 10%",
    "W03": "onward to ED above 10%",
    "W04": "patients turned away",
    "W05": "offered far above the hub's recent median",
}

STATUS_LABELS: dict[str, str] = {
    "GREEN": "Green",
    "AMBER": "Amber",
    "RED": "Red",
    "NO_RETURN": "No return",
    "CLOSED": "Closed",
    "PENDING": "Pending",
}

#: Severity used for "change since the previous digest": higher is worse; CLOSED/PENDING not ranked.
_RANK: dict[tuple[str, int | None], int] = {
    ("GREEN", 1): 1,
    ("AMBER", 2): 2,
    ("RED", 3): 3,
    ("RED", 4): 4,
    ("NO_RETURN", None): 5,
}

_DIRECTION_WORDS: dict[Direction, str] = {
    Direction.WORSE: "Worse",
    Direction.BETTER: "Better",
    Direction.SAME: "No change",
    Direction.CHANGED: "Changed",
    Direction.NEW: "New",
}
_DIRECTION_SYMBOLS: dict[Direction, str] = {
    Direction.WORSE: "▲",
    Direction.BETTER: "▼",
    Direction.SAME: "=",
    Direction.CHANGED: "≠",
    Direction.NEW: "•",
}

#: The count columns the digest sums per locality-day (the attendance split is not reported).
SUM_NAMES: tuple[str, ...] = tuple(
    name for name in spec.INTEGER_COLUMNS if name not in ("attended_f2f", "attended_remote")
)


# -- the period -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Period:
    """What one digest covers: its cut-off, the previous digest's cut-off, judged and pending days."""

    kind: DigestKind
    cutoff: datetime  # aware UTC
    previous_cutoff: datetime  # aware UTC
    days: tuple[date, ...]  # judged: close in (previous_cutoff, cutoff]
    pending_days: tuple[date, ...]  # close after cutoff, up to the day before the cut-off's date

    @property
    def period_key(self) -> str:
        """``board:2026-11-26T07:30`` or ``daily:2026-11-25T13:45`` (cut-off, Europe/London wall time)."""
        return f"{self.kind}:{to_london(self.cutoff):%Y-%m-%dT%H:%M}"

    @property
    def label(self) -> str:
        """Human label used in subjects: ``Thu 26 Nov 2026 07:30``."""
        return to_london(self.cutoff).strftime("%a %d %b %Y %H:%M")


# -- figures ------------------------------------------------------------------------------------


def _ratio(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


@dataclass(frozen=True)
class Totals:
    """Summed figures (CLOSED_PLANNED rows left out) and the ratios the board reads."""

    sums: Mapping[str, int]

    @classmethod
    def of(cls, rows: Iterable[Mapping[str, Any]]) -> Totals:
        """The sums of :data:`SUM_NAMES` over warehouse rows (a missing or null figure counts 0)."""
        sums = dict.fromkeys(SUM_NAMES, 0)
        for row in rows:
            for name in SUM_NAMES:
                sums[name] += int(row.get(name) or 0)
        return cls(sums)

    def __getitem__(self, name: str) -> int:
        return int(self.sums[name])

    @property
    def utilisation(self) -> Fraction | None:
        return _ratio(self["appts_booked"], self["appts_offered"])

    @property
    def capacity(self) -> Fraction | None:
        return _ratio(self["sessions_delivered"], self["sessions_planned"])

    @property
    def dna_rate(self) -> Fraction | None:
        return _ratio(self["appts_dna"], self["appts_booked"])

    @property
    def onward_rate(self) -> Fraction | None:
        return _ratio(self["onward_ed"], self["appts_attended"])

    def source_share(self, name: str) -> Fraction | None:
        return _ratio(self[name], self["appts_booked"])


# -- the sections -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Cell:
    """One locality-day of the RAG grid."""

    day: date
    status: str
    level: int | None
    escalated: bool
    assurance: str | None
    points: int | None
    reasons: tuple[str, ...]

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status.title())

    @property
    def style_key(self) -> str:
        """GREEN, AMBER, RED, RED4, NO_RETURN, CLOSED or PENDING (Red level 4 has its own shade)."""
        return "RED4" if self.status == "RED" and self.level == 4 else self.status

    @property
    def short(self) -> str:
        """``Red 4``, ``Green 1``, ``No return`` (``escalated`` added), ``Closed``."""
        text = self.label if self.level is None else f"{self.label} {self.level}"
        return f"{text}, escalated" if self.escalated else text

    @property
    def rank(self) -> int | None:
        return _RANK.get((self.status, self.level if self.status != "NO_RETURN" else None))


@dataclass(frozen=True)
class Change:
    """A locality's latest status against the one the previous digest showed."""

    direction: Direction
    previous: Cell | None

    @property
    def words(self) -> str:
        return _DIRECTION_WORDS[self.direction]

    @property
    def symbol(self) -> str:
        return _DIRECTION_SYMBOLS[self.direction]

    @property
    def was(self) -> str:
        if self.previous is None:
            return "not in the previous digest"
        return f"was {self.previous.short} on {self.previous.day:%a %d %b}"


def change_between(previous: Cell | None, latest: Cell | None) -> Change:
    """Worse / better / same by severity (Green 1 … Red 4, no return, escalated); Closed or Pending: changed."""
    if previous is None or latest is None:
        return Change(Direction.NEW, previous)
    if (previous.status, previous.level, previous.escalated) == (
        latest.status,
        latest.level,
        latest.escalated,
    ):
        return Change(Direction.SAME, previous)
    if previous.status == latest.status == "NO_RETURN":  # only the escalation changed
        return Change(Direction.WORSE if latest.escalated else Direction.BETTER, previous)
    before, now = previous.rank, latest.rank
    if before is None or now is None or now == before:
        return Change(Direction.CHANGED, previous)
    return Change(Direction.WORSE if now > before else Direction.BETTER, previous)


@dataclass(frozen=True, kw_only=True)
class LocalityLine:
    """A locality's row in the grid, activity and flow tables."""

    sub_icb_code: str
    name: str
    cells: tuple[Cell, ...]
    change: Change
    period: Totals
    season: Totals
    trend: tuple[tuple[date, Fraction | None], ...]  # daily utilisation, oldest first
    plan: PlanLine = EMPTY  # delivery against the commissioned plan
    explain_url: str | None = None  # the lineage page of the locality's latest judged day

    @property
    def latest(self) -> Cell | None:
        return self.cells[-1] if self.cells else None


@dataclass(frozen=True, kw_only=True)
class DayReturns:
    """Section 1: how many of the ten localities returned on time, late, or not, for one day."""

    day: date
    on_time: int
    late: int
    no_return: int
    pending: int
    not_due: int  # localities with no hub active that day


@dataclass(frozen=True)
class HubComment:
    hub_code: str
    hub_name: str
    text: str


@dataclass(frozen=True, kw_only=True)
class ExceptionItem:
    """Section 5: a Red or no-return locality-day with its reasons and its hubs' own comments."""

    sub_icb_code: str
    name: str
    cell: Cell
    comments: tuple[HubComment, ...]


@dataclass(frozen=True, kw_only=True)
class WarningItem:
    """Section 5: warnings (spec §3, W01–W05) on current rows, grouped by locality, rules and comment."""

    sub_icb_code: str
    name: str
    rules: tuple[str, ...]
    comment: str | None
    hub_days: tuple[tuple[str, date], ...]

    @property
    def hubs(self) -> list[str]:
        return sorted({hub for hub, _ in self.hub_days})

    @property
    def days(self) -> list[date]:
        return sorted({day for _, day in self.hub_days})

    @property
    def words(self) -> str:
        return "; ".join(f"{WARNING_WORDS.get(r, r)} ({r})" for r in self.rules)

    @property
    def where(self) -> str:
        """``14L-H1, 14L-H2 on Fri 20, Sat 21 Nov (4 hub-days)``."""
        days = self.days
        day_text = ", ".join(d.strftime("%a %d") for d in days) + days[-1].strftime(" %b")
        count = len(self.hub_days)
        return f"{', '.join(self.hubs)} on {day_text}" + (f" ({count} hub-days)" if count > 1 else "")


class RevisionCause(StrEnum):
    """Why a hub-day already reported changed: a new version of its return, or a register change."""

    RETURN = "return"
    REGISTER = "register"


@dataclass(frozen=True, kw_only=True)
class Revision:
    """Section 5: a hub-day already reported whose current version changed since the previous cut-off,
    or whose hub the register now says was (or was not) active that day (a register change)."""

    day: date
    sub_icb_code: str
    name: str
    hub_code: str
    old_version: int | None  # None: it was a no return then (or not in the register)
    new_version: int | None  # None: a register change with no return for the day
    received_at: datetime  # of the new version; for a register change, when the change was recorded
    changes: tuple[str, ...]
    was: Cell | None
    now: Cell | None
    comment: str | None
    cause: RevisionCause = RevisionCause.RETURN

    @property
    def filled(self) -> bool:
        return self.old_version is None and self.cause is RevisionCause.RETURN

    @property
    def register_change(self) -> bool:
        return self.cause is RevisionCause.REGISTER


# -- the digest -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Digest:
    """A built digest: its period and the six sections of spec §6, judged as of its cut-off.

    ``day_rags`` is the RAG of each judged day as ``surgehub.rag.compute_rag`` gave it (the CSV
    lists it in full); the other sections are read from it and from the warehouse.
    """

    kind: DigestKind
    period: Period
    previous: Period
    subject: str
    season_start: date
    utilisation_rule: UtilisationRule  # the Amber and Red lines on the trend chart
    pending_closes: tuple[tuple[date, datetime], ...]  # each pending day with its close
    localities: tuple[LocalityLine, ...]
    returns: tuple[DayReturns, ...]
    gm_period: Totals
    gm_season: Totals
    gm_days: tuple[tuple[date, Totals], ...]
    day_rags: tuple[DayRag, ...]
    exceptions: tuple[ExceptionItem, ...]
    warnings: tuple[WarningItem, ...]
    revisions: tuple[Revision, ...]
    gm_plan: PlanLine = EMPTY  # GM's delivery against the commissioned plan
    #: What was commissioned on each judged (locality or "GM", day), over the hub-days with a return.
    commissioned: Mapping[tuple[str, date], Offer] = field(default_factory=dict)
    season_end: date | None = None
    projection: str = ""  # how the projection is made, in one line

    @property
    def period_key(self) -> str:
        return self.period.period_key

    @property
    def cutoff(self) -> datetime:
        return self.period.cutoff

    @property
    def days(self) -> tuple[date, ...]:
        return self.period.days

    @property
    def title(self) -> str:
        return "Board digest" if self.kind == DigestKind.BOARD else "Daily operations summary"

    @property
    def csv_filename(self) -> str:
        stamp = to_london(self.cutoff).strftime("%Y-%m-%d-%H%M")
        return f"surgehub-{self.kind}-{stamp}.csv"

    @property
    def red(self) -> list[LocalityLine]:
        return [loc for loc in self.localities if loc.latest is not None and loc.latest.status == "RED"]

    @property
    def no_return(self) -> list[LocalityLine]:
        return [loc for loc in self.localities if loc.latest is not None and loc.latest.status == "NO_RETURN"]

    @property
    def worse(self) -> list[LocalityLine]:
        return [loc for loc in self.localities if loc.change.direction == Direction.WORSE]


@dataclass(frozen=True, kw_only=True)
class RenderedDigest:
    """A digest as its email carries it: the charts, the HTML and text bodies, and the CSV attachment."""

    digest: Digest
    images: tuple[InlineImage, ...]
    html: str
    text: str
    csv: bytes
