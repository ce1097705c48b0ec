"""Builds the board digest and the daily operations summary (spec §6) from the warehouse, as of a cut-off.

``build_digest(engine, kind, as_of, settings)`` gathers the six sections for the period that
``surgehub.digest.periods`` gives, renders the HTML and plain-text bodies, the charts and the CSV,
and returns a :class:`Digest`; ``digest_mails(digest, settings)`` turns it into one
:class:`~surgehub.mail.compose.Mail` per recipient on the configured list.

Every figure is judged as of the digest's cut-off (only what had been received by then counts), so a
digest can be rebuilt for any past time and comes out the same. "Change since the previous digest"
compares each locality's latest judged day with the latest day of the previous digest as it was
judged at the previous cut-off; "revisions" are hub-days already covered by an earlier digest whose
current version changed after the previous cut-off (or that had sent no return then and have since).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import Engine

from surgehub import reference, spec
from surgehub.clock import to_london
from surgehub.config import ConfigError, Settings, load_settings
from surgehub.digest.periods import Period, period_for
from surgehub.mail.compose import Attachment, InlineImage, Mail
from surgehub.timeliness import close_for

#: Source-mix columns with the words the board uses, in display order.
SOURCES: tuple[tuple[str, str], ...] = (
    ("src_practice", "GP practice"),
    ("src_nhs111", "NHS 111"),
    ("src_ed_streaming", "ED/UTC streaming"),
    ("src_other", "Other"),
)

#: Figures compared when a hub-day is revised, with the words shown for a change.
REVISED_FIGURES: tuple[tuple[str, str], ...] = (
    ("hub_status", "status"),
    ("sessions_planned", "sessions planned"),
    ("sessions_delivered", "sessions delivered"),
    ("appts_offered", "offered"),
    ("appts_booked", "booked"),
    ("appts_attended", "attended"),
    ("appts_dna", "DNA"),
    ("src_practice", "from GP practice"),
    ("src_nhs111", "from NHS 111"),
    ("src_ed_streaming", "from ED/UTC"),
    ("src_other", "from other"),
    ("onward_ed", "onward to ED"),
    ("patients_turned_away", "turned away"),
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

TREND_DAYS = 14

#: The count columns the digest sums per locality-day (the attendance split is not reported).
SUM_NAMES: tuple[str, ...] = tuple(
    name for name in spec.INTEGER_COLUMNS if name not in ("attended_f2f", "attended_remote")
)


# -- figures ------------------------------------------------------------------------------------


def _ratio(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


@dataclass(frozen=True)
class Totals:
    """Summed figures (CLOSED_PLANNED rows left out) and the ratios the board reads."""

    sums: Mapping[str, int]

    @classmethod
    def of(cls, rows: Iterable[Mapping[str, Any]]) -> Totals:
        sums = dict.fromkeys(SUM_NAMES, 0)
        for row in rows:
            for name in SUM_NAMES:
                sums[name] += int(row.get(name) or 0)
        return cls(sums)

    def __getitem__(self, name: str) -> int:
        return int(self.sums[name])

    @property
    def has_activity(self) -> bool:
        return any(self.sums.values())

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


@dataclass(frozen=True)
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

    direction: str  # worse | better | same | changed | new
    previous: Cell | None

    @property
    def words(self) -> str:
        return {
            "worse": "Worse",
            "better": "Better",
            "same": "No change",
            "changed": "Changed",
            "new": "New",
        }[self.direction]

    @property
    def symbol(self) -> str:
        return {"worse": "▲", "better": "▼", "same": "=", "changed": "≠", "new": "•"}[self.direction]

    @property
    def was(self) -> str:
        if self.previous is None:
            return "not in the previous digest"
        return f"was {self.previous.short} on {self.previous.day:%a %d %b}"


def change_between(previous: Cell | None, latest: Cell | None) -> Change:
    """Worse / better / same by severity (Green 1 … Red 4, no return, escalated); Closed or Pending: changed."""
    if previous is None or latest is None:
        return Change("new", previous)
    if (previous.status, previous.level, previous.escalated) == (
        latest.status,
        latest.level,
        latest.escalated,
    ):
        return Change("same", previous)
    if previous.status == latest.status == "NO_RETURN":  # only the escalation changed
        return Change("worse" if latest.escalated else "better", previous)
    before, now = previous.rank, latest.rank
    if before is None or now is None:
        return Change("changed", previous)
    if now > before:
        return Change("worse", previous)
    if now < before:
        return Change("better", previous)
    return Change("changed", previous)


@dataclass(frozen=True)
class LocalityLine:
    """A locality's row in the grid, activity and flow tables."""

    sub_icb_code: str
    name: str
    cells: tuple[Cell, ...]
    change: Change
    period: Totals
    season: Totals
    trend: tuple[tuple[date, Fraction | None], ...]

    @property
    def latest(self) -> Cell | None:
        return self.cells[-1] if self.cells else None


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class ExceptionItem:
    """Section 5: a Red or no-return locality-day with its reasons and its hubs' own comments."""

    sub_icb_code: str
    name: str
    cell: Cell
    comments: tuple[HubComment, ...]


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Revision:
    """Section 5: a hub-day already reported whose current version changed since the previous cut-off."""

    day: date
    sub_icb_code: str
    name: str
    hub_code: str
    old_version: int | None  # None: it was a no return then
    new_version: int
    received_at: datetime
    changes: tuple[str, ...]
    was: Cell | None
    now: Cell | None
    comment: str | None

    @property
    def filled(self) -> bool:
        return self.old_version is None


@dataclass
class Digest:
    """A built digest: its period, sections, rendered bodies, charts and CSV."""

    kind: str
    period: Period
    previous: Period
    localities: list[LocalityLine]
    returns: list[DayReturns]
    gm_period: Totals
    gm_season: Totals
    gm_days: list[tuple[date, Totals]]
    exceptions: list[ExceptionItem]
    warnings: list[WarningItem]
    revisions: list[Revision]
    settings: Settings = field(repr=False)
    subject: str = ""
    html: str = ""
    text: str = ""
    images: tuple[InlineImage, ...] = ()
    csv: bytes = b""

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
        return "Board digest" if self.kind == "board" else "Daily operations summary"

    @property
    def csv_filename(self) -> str:
        stamp = to_london(self.cutoff).strftime("%Y-%m-%d-%H%M")
        return f"surgehub-{self.kind}-{stamp}.csv"

    def close_of(self, day: date) -> datetime:
        return close_for(day, self.settings)

    @property
    def red(self) -> list[LocalityLine]:
        return [loc for loc in self.localities if loc.latest is not None and loc.latest.status == "RED"]

    @property
    def no_return(self) -> list[LocalityLine]:
        return [loc for loc in self.localities if loc.latest is not None and loc.latest.status == "NO_RETURN"]

    @property
    def worse(self) -> list[LocalityLine]:
        return [loc for loc in self.localities if loc.change.direction == "worse"]


# -- building -----------------------------------------------------------------------------------------


def _cell(loc: Any, day: date) -> Cell:
    return Cell(
        day, loc.status, loc.level, bool(loc.escalated), loc.assurance, loc.points, tuple(loc.reasons)
    )


def _day_returns(day: date, day_rag: Any) -> DayReturns:
    counts = {"ON_TIME": 0, "LATE": 0, "NO_RETURN": 0, "PENDING": 0, None: 0}
    for loc in day_rag.localities:
        counts[loc.assurance if loc.assurance in counts else None] += 1
    return DayReturns(
        day, counts["ON_TIME"], counts["LATE"], counts["NO_RETURN"], counts["PENDING"], counts[None]
    )


def _hub_names() -> dict[str, str]:
    return {h.hub_code: h.name for h in reference.hubs()}


def _exceptions(rags: Sequence[Any]) -> list[ExceptionItem]:
    names = _hub_names()
    items: list[ExceptionItem] = []
    for loc in reference.localities():
        for day_rag in rags:
            found = day_rag.locality(loc.sub_icb_code)
            if found.status not in {"RED", "NO_RETURN"}:
                continue
            comments = tuple(
                HubComment(h.hub_code, names.get(h.hub_code, h.hub_code), str(h.row["comments"]).strip())
                for h in found.hubs
                if h.row is not None and h.row.get("comments") and str(h.row["comments"]).strip()
            )
            items.append(
                ExceptionItem(loc.sub_icb_code, loc.name, _cell(found, day_rag.activity_date), comments)
            )
    return items


def _current_versions(engine: Engine, first: date, last: date, as_of: datetime) -> list[dict[str, Any]]:
    from surgehub.warehouse.queries import statement

    if last < first:
        return []
    query = statement("digest/select_current_versions.sql", "activity_date", "received_at", "warnings")
    with engine.connect() as connection:
        rows = connection.execute(query, {"first_day": first, "last_day": last, "as_of": as_of}).mappings()
        return [dict(r) for r in rows]


def _locality_day_totals(engine: Engine, first: date, last: date, as_of: datetime) -> list[dict[str, Any]]:
    from surgehub.warehouse.queries import statement

    if last < first:
        return []
    query = statement("digest/select_locality_day_totals.sql", "activity_date")
    with engine.connect() as connection:
        rows = connection.execute(query, {"first_day": first, "last_day": last, "as_of": as_of}).mappings()
        return [dict(r) for r in rows]


def _warnings(engine: Engine, period: Period) -> list[WarningItem]:
    if not period.days:
        return []
    judged = set(period.days)
    names = {loc.sub_icb_code: loc.name for loc in reference.localities()}
    order = {loc.sub_icb_code: i for i, loc in enumerate(reference.localities())}
    groups: dict[tuple[str, tuple[str, ...], str | None], list[tuple[str, date]]] = {}
    for row in _current_versions(engine, period.days[0], period.days[-1], period.cutoff):
        if not row["warnings"] or row["activity_date"] not in judged:
            continue
        comment = " ".join((row["comments"] or "").split()) or None
        key = (row["sub_icb_code"], tuple(str(r) for r in row["warnings"]), comment)
        groups.setdefault(key, []).append((row["hub_code"], row["activity_date"]))
    items = [
        WarningItem(code, names.get(code, code), rules, comment, tuple(hub_days))
        for (code, rules, comment), hub_days in groups.items()
    ]
    return sorted(items, key=lambda w: (order.get(w.sub_icb_code, 99), w.days[0], w.hubs[0]))


def _changed_figures(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    changes = []
    for column, words in REVISED_FIGURES:
        if old.get(column) != new.get(column):
            changes.append(f"{words} {old.get(column)} → {new.get(column)}")
    if (old.get("comments") or "").strip() != (new.get("comments") or "").strip():
        changes.append("comments changed")
    return tuple(changes)


def _revisions(engine: Engine, period: Period, settings: Settings) -> list[Revision]:
    """Hub-days covered by earlier digests whose current version changed after the previous cut-off."""
    from surgehub.rag import compute_rag

    previous_day = to_london(period.previous_cutoff).date()
    # A version received after the previous cut-off is at most revision_window_days after its day (R07).
    first = max(
        settings.season.start, previous_day - timedelta(days=settings.timeliness.revision_window_days + 1)
    )
    last = previous_day
    while last >= first and close_for(last, settings) > period.previous_cutoff:
        last -= timedelta(days=1)
    if last < first:
        return []
    now = {
        (r["hub_code"], r["activity_date"]): r for r in _current_versions(engine, first, last, period.cutoff)
    }
    then = {
        (r["hub_code"], r["activity_date"]): r
        for r in _current_versions(engine, first, last, period.previous_cutoff)
    }
    active = {h.hub_code: h for h in reference.hubs()}
    names = {loc.sub_icb_code: loc.name for loc in reference.localities()}
    order = {loc.sub_icb_code: i for i, loc in enumerate(reference.localities())}
    changed = []
    for key, row in now.items():
        old = then.get(key)
        hub = active.get(key[0])
        if hub is None or not hub.active_on(key[1]):
            continue
        if old is not None and (old["version"], old["received_at"]) == (row["version"], row["received_at"]):
            continue
        changed.append((key, old, row))
    rag_cache: dict[tuple[date, datetime], Any] = {}

    def rag(day: date, as_of: datetime) -> Any:
        if (day, as_of) not in rag_cache:
            rag_cache[(day, as_of)] = compute_rag(engine, day, as_of, settings)
        return rag_cache[(day, as_of)]

    revisions = []
    for (hub_code, day), old, row in changed:
        code = row["sub_icb_code"]
        was = _cell(rag(day, period.previous_cutoff).locality(code), day)
        now_cell = _cell(rag(day, period.cutoff).locality(code), day)
        revisions.append(
            Revision(
                day,
                code,
                names.get(code, code),
                hub_code,
                None if old is None else int(old["version"]),
                int(row["version"]),
                row["received_at"],
                ("return received after the previous digest",) if old is None else _changed_figures(old, row),
                was,
                now_cell,
                (row["comments"] or "").strip() or None,
            )
        )
    return sorted(revisions, key=lambda r: (order.get(r.sub_icb_code, 99), r.day, r.hub_code))


def _previous_cells(engine: Engine, previous: Period, settings: Settings) -> dict[str, Cell]:
    """What the previous digest showed for each locality on its latest judged day."""
    from surgehub.rag import compute_rag

    if not previous.days:
        return {}
    day = previous.days[-1]
    day_rag = compute_rag(engine, day, previous.cutoff, settings)
    return {loc.sub_icb_code: _cell(loc, day) for loc in day_rag.localities}


def build_digest(engine: Engine, kind: str, as_of: datetime, settings: Settings | None = None) -> Digest:
    """Gather, judge and render the ``board`` or ``daily`` digest that goes out at ``as_of``."""
    from surgehub.digest import charts, csv_export, render
    from surgehub.rag import compute_rag

    settings = settings if settings is not None else load_settings()
    period = period_for(kind, as_of, settings)
    previous = period_for(kind, period.previous_cutoff, settings)
    rags = [compute_rag(engine, day, period.cutoff, settings) for day in period.days]
    previous_cells = _previous_cells(engine, previous, settings)

    anchor = period.days[-1] if period.days else to_london(period.cutoff).date() - timedelta(days=1)
    anchor = min(anchor, settings.season.end)
    season_rows = _locality_day_totals(engine, settings.season.start, anchor, period.cutoff)
    judged = set(period.days)
    trend_days = [anchor - timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]
    trend_days = [d for d in trend_days if d >= settings.season.start]
    by_key = {(r["sub_icb_code"], r["activity_date"]): r for r in season_rows}

    lines: list[LocalityLine] = []
    for loc in reference.localities():
        cells = tuple(_cell(day_rag.locality(loc.sub_icb_code), day_rag.activity_date) for day_rag in rags)
        own = [r for r in season_rows if r["sub_icb_code"] == loc.sub_icb_code]
        trend = []
        for day in trend_days:
            row = by_key.get((loc.sub_icb_code, day))
            trend.append((day, None if row is None else Totals.of([row]).utilisation))
        lines.append(
            LocalityLine(
                loc.sub_icb_code,
                loc.name,
                cells,
                change_between(previous_cells.get(loc.sub_icb_code), cells[-1] if cells else None),
                Totals.of(r for r in own if r["activity_date"] in judged),
                Totals.of(own),
                tuple(trend),
            )
        )
    gm_days = [(day, Totals.of(r for r in season_rows if r["activity_date"] == day)) for day in period.days]
    digest = Digest(
        kind=kind,
        period=period,
        previous=previous,
        localities=lines,
        returns=[_day_returns(d.activity_date, d) for d in rags],
        gm_period=Totals.of(r for r in season_rows if r["activity_date"] in judged),
        gm_season=Totals.of(season_rows),
        gm_days=gm_days,
        exceptions=_exceptions(rags),
        warnings=_warnings(engine, period),
        revisions=_revisions(engine, period, settings),
        settings=settings,
    )
    digest.subject = subject_for(kind, period, settings)
    digest.images = charts.digest_charts(digest)
    digest.csv = csv_export.digest_csv(digest, rags)
    digest.html = render.render_html(digest)
    digest.text = render.render_text(digest)
    return digest


def subject_for(kind: str, period: Period, settings: Settings) -> str:
    """The subject from ``email.subjects.<kind>`` with ``{period}`` filled in (a default when not set)."""
    default = (
        "GM surge hubs: board digest {period}" if kind == "board" else "GM surge hubs: daily summary {period}"
    )
    template = settings.email.subjects.get(kind) or default
    try:
        return template.format(period=period.label)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"email.subjects.{kind} must use only {{period}}: {exc}") from exc


def recipients_for(kind: str, settings: Settings) -> list[str]:
    """``email.board`` for the board digest, ``email.operations`` for the daily summary."""
    return list(settings.email.board if kind == "board" else settings.email.operations)


def digest_mails(digest: Digest, settings: Settings | None = None) -> list[Mail]:
    """One message per recipient of the digest's list; identical bodies, a Message-ID each."""
    settings = settings if settings is not None else digest.settings
    attachment = Attachment(digest.csv_filename, digest.csv, "text", "csv")
    subject = subject_for(digest.kind, digest.period, settings)
    return [
        Mail(
            kind=digest.kind,
            period_key=digest.period_key,
            recipient=recipient,
            sender=settings.email.sender,
            subject=subject,
            text=digest.text,
            html=digest.html,
            images=digest.images,
            attachments=(attachment,),
        )
        for recipient in recipients_for(digest.kind, settings)
    ]
