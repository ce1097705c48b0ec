"""Builds a digest (spec §6) from the warehouse and the RAG as of its cut-off, as one immutable value.

``build_digest(engine, kind, as_of, settings)`` finds the period (``periods``), judges each of its
days with ``surgehub.rag.compute_rag``, reads the figures through ``surgehub.warehouse.reporting``,
and returns a :class:`~surgehub.digest.model.Digest` built in one go. Rendering it is
``surgehub.digest.render.render_digest``; mailing it, ``surgehub.digest.mails.digest_mails``.

Every figure is judged as of the digest's cut-off (only what had been received by then counts), so a
digest can be rebuilt for any past time and comes out the same. "Change since the previous digest"
compares each locality's latest judged day with the latest day of the previous digest as it was
judged at the previous cut-off; "revisions" are hub-days already covered by an earlier digest whose
current version changed after the previous cut-off (or that had sent no return then and have since).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from surgehub import reference
from surgehub.clock import to_london
from surgehub.digest.mails import subject_for
from surgehub.digest.model import (
    Cell,
    DayReturns,
    Digest,
    DigestKind,
    ExceptionItem,
    HubComment,
    LocalityLine,
    Period,
    Revision,
    RevisionCause,
    Totals,
    WarningItem,
    change_between,
)
from surgehub.digest.periods import period_for, previous_period
from surgehub.digest.plan import EMPTY, plan_lines, projection_statement
from surgehub.rag import compute_rag
from surgehub.register import Offer
from surgehub.timeliness import close_for, is_bank_holiday
from surgehub.warehouse import reporting
from surgehub.warehouse.register import read_register

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from surgehub.config import Settings
    from surgehub.digest.plan import PlanLine
    from surgehub.rag import DayRag, LocalityRag
    from surgehub.register import HubFact, Register, RegisterView

#: Days in each locality's utilisation trend chart, ending with the last day judged.
TREND_DAYS = 14

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

Row = Mapping[str, Any]  # a warehouse row by column name


class _Judge:
    """The RAG of a day as of a time, each (day, time) computed once for the whole build."""

    def __init__(self, engine: Engine, settings: Settings, register: Register) -> None:
        self._engine = engine
        self._settings = settings
        self._register = register
        self._found: dict[tuple[date, datetime], DayRag] = {}

    def __call__(self, day: date, as_of: datetime) -> DayRag:
        if (day, as_of) not in self._found:
            self._found[(day, as_of)] = compute_rag(
                self._engine, day, as_of, self._settings, register=self._register
            )
        return self._found[(day, as_of)]


def _cell(loc: LocalityRag, day: date) -> Cell:
    return Cell(
        day=day,
        status=loc.status,
        level=loc.level,
        escalated=bool(loc.escalated),
        assurance=loc.assurance,
        points=loc.points,
        reasons=tuple(loc.reasons),
    )


def _names() -> dict[str, str]:
    return {loc.sub_icb_code: loc.name for loc in reference.localities()}


def _order() -> dict[str, int]:
    return {loc.sub_icb_code: i for i, loc in enumerate(reference.localities())}


# -- sections 1, 2 and 5: the RAG of the judged days ---------------------------------------------------


def _day_returns(day_rag: DayRag) -> DayReturns:
    counts: dict[str | None, int] = {"ON_TIME": 0, "LATE": 0, "NO_RETURN": 0, "PENDING": 0, None: 0}
    for loc in day_rag.localities:
        counts[loc.assurance if loc.assurance in counts else None] += 1
    return DayReturns(
        day=day_rag.activity_date,
        on_time=counts["ON_TIME"],
        late=counts["LATE"],
        no_return=counts["NO_RETURN"],
        pending=counts["PENDING"],
        not_due=counts[None],
    )


def _hub_comments(loc: LocalityRag, hub_names: Mapping[str, str]) -> tuple[HubComment, ...]:
    return tuple(
        HubComment(h.hub_code, hub_names.get(h.hub_code, h.hub_code), str(h.row["comments"]).strip())
        for h in loc.hubs
        if h.row is not None and h.row.get("comments") and str(h.row["comments"]).strip()
    )


def _exceptions(rags: Sequence[DayRag], hub_names: Mapping[str, str]) -> tuple[ExceptionItem, ...]:
    items: list[ExceptionItem] = []
    for loc in reference.localities():
        for day_rag in rags:
            found = day_rag.locality(loc.sub_icb_code)
            if found.status not in {"RED", "NO_RETURN"}:
                continue
            items.append(
                ExceptionItem(
                    sub_icb_code=loc.sub_icb_code,
                    name=loc.name,
                    cell=_cell(found, day_rag.activity_date),
                    comments=_hub_comments(found, hub_names),
                )
            )
    return tuple(items)


def _previous_cells(judge: _Judge, previous: Period) -> dict[str, Cell]:
    """What the previous digest showed for each locality on its latest judged day."""
    if not previous.days:
        return {}
    day = previous.days[-1]
    return {loc.sub_icb_code: _cell(loc, day) for loc in judge(day, previous.cutoff).localities}


# -- sections 2 to 4: each locality's line, from the RAG and the season's sums -------------------------


def _trend_days(anchor: date, settings: Settings) -> list[date]:
    days = [anchor - timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]
    return [d for d in days if d >= settings.season.start]


def _locality_lines(
    rags: Sequence[DayRag],
    previous_cells: Mapping[str, Cell],
    season_rows: Sequence[Row],
    judged: set[date],
    trend_days: Sequence[date],
    plans: Mapping[str, PlanLine],
    settings: Settings,
) -> tuple[LocalityLine, ...]:
    by_key = {(r["sub_icb_code"], r["activity_date"]): r for r in season_rows}
    lines: list[LocalityLine] = []
    for loc in reference.localities():
        code = loc.sub_icb_code
        cells = tuple(_cell(day_rag.locality(code), day_rag.activity_date) for day_rag in rags)
        own = [r for r in season_rows if r["sub_icb_code"] == code]
        trend = tuple(
            (day, None if (row := by_key.get((code, day))) is None else Totals.of([row]).utilisation)
            for day in trend_days
        )
        lines.append(
            LocalityLine(
                sub_icb_code=code,
                name=loc.name,
                cells=cells,
                change=change_between(previous_cells.get(code), cells[-1] if cells else None),
                period=Totals.of(r for r in own if r["activity_date"] in judged),
                season=Totals.of(own),
                trend=trend,
                plan=plans.get(code, EMPTY),
                explain_url=settings.email.explain_url(code, cells[-1].day) if cells else None,
            )
        )
    return tuple(lines)


# -- section 5: warnings and revisions -----------------------------------------------------------------


def _warnings(engine: Engine, period: Period) -> tuple[WarningItem, ...]:
    if not period.days:
        return ()
    judged = set(period.days)
    names, order = _names(), _order()
    groups: dict[tuple[str, tuple[str, ...], str | None], list[tuple[str, date]]] = {}
    for row in reporting.current_versions(engine, period.days[0], period.days[-1], period.cutoff):
        if not row["warnings"] or row["activity_date"] not in judged:
            continue
        comment = " ".join((row["comments"] or "").split()) or None
        key = (row["sub_icb_code"], tuple(str(r) for r in row["warnings"]), comment)
        groups.setdefault(key, []).append((row["hub_code"], row["activity_date"]))
    items = [
        WarningItem(
            sub_icb_code=code,
            name=names.get(code, code),
            rules=rules,
            comment=comment,
            hub_days=tuple(hub_days),
        )
        for (code, rules, comment), hub_days in groups.items()
    ]
    return tuple(sorted(items, key=lambda w: (order.get(w.sub_icb_code, 99), w.days[0], w.hubs[0])))


def _changed_figures(old: Row, new: Row) -> tuple[str, ...]:
    changes = [
        f"{words} {old.get(column)} → {new.get(column)}"
        for column, words in REVISED_FIGURES
        if old.get(column) != new.get(column)
    ]
    if (old.get("comments") or "").strip() != (new.get("comments") or "").strip():
        changes.append("comments changed")
    return tuple(changes)


def _revision_days(period: Period, settings: Settings) -> tuple[date, date] | None:
    """The first and last day a revision can be on: closed by the previous cut-off, within the window."""
    previous_day = to_london(period.previous_cutoff).date()
    # A version received after the previous cut-off is at most revision_window_days after its day (R07).
    first = max(
        settings.season.start, previous_day - timedelta(days=settings.timeliness.revision_window_days + 1)
    )
    last = previous_day
    while last >= first and close_for(last, settings) > period.previous_cutoff:
        last -= timedelta(days=1)
    return None if last < first else (first, last)


def _changed_hub_days(
    engine: Engine, period: Period, first: date, last: date, view: RegisterView
) -> list[tuple[Row | None, Row]]:
    """(then, now) of each active hub-day whose current version changed after the previous cut-off."""

    def by_hub_day(rows: Iterable[Row]) -> dict[tuple[str, date], Row]:
        return {(r["hub_code"], r["activity_date"]): r for r in rows}

    now = by_hub_day(reporting.current_versions(engine, first, last, period.cutoff))
    then = by_hub_day(reporting.current_versions(engine, first, last, period.previous_cutoff))
    changed: list[tuple[Row | None, Row]] = []
    for (hub_code, day), row in now.items():
        old = then.get((hub_code, day))
        if not view.active_on(hub_code, day):
            continue
        if old is not None and (old["version"], old["received_at"]) == (row["version"], row["received_at"]):
            continue
        changed.append((old, row))
    return changed


def _revisions(
    engine: Engine, judge: _Judge, period: Period, settings: Settings, register: Register
) -> tuple[Revision, ...]:
    """Hub-days covered by earlier digests whose current version changed after the previous cut-off, and
    those a register change recorded since then made (or unmade) a hub's active day."""
    days = _revision_days(period, settings)
    if days is None:
        return ()
    names, order = _names(), _order()
    revisions: list[Revision] = _register_revisions(judge, period, register, days, names)
    for old, row in _changed_hub_days(engine, period, *days, register.as_of(period.cutoff)):
        code: str = row["sub_icb_code"]
        day: date = row["activity_date"]
        revisions.append(
            Revision(
                day=day,
                sub_icb_code=code,
                name=names.get(code, code),
                hub_code=row["hub_code"],
                old_version=None if old is None else int(old["version"]),
                new_version=int(row["version"]),
                received_at=row["received_at"],
                changes=(
                    ("return received after the previous digest",)
                    if old is None
                    else _changed_figures(old, row)
                ),
                was=_cell(judge(day, period.previous_cutoff).locality(code), day),
                now=_cell(judge(day, period.cutoff).locality(code), day),
                comment=(row["comments"] or "").strip() or None,
            )
        )
    return tuple(
        sorted(
            revisions, key=lambda r: (order.get(r.sub_icb_code, 99), r.day, r.hub_code, r.cause != "register")
        )
    )


def _register_revisions(
    judge: _Judge, period: Period, register: Register, days: tuple[date, date], names: Mapping[str, str]
) -> list[Revision]:
    """A revision per hub-day already reported that a register change recorded after the previous
    cut-off added to, or took out of, its hub's active days; named as a register change."""
    changes = register.changes_between(period.previous_cutoff, period.cutoff)
    if not changes:
        return []
    then, now = register.as_of(period.previous_cutoff), register.as_of(period.cutoff)
    revisions: list[Revision] = []
    for hub_code in dict.fromkeys(f.hub.hub_code for f in changes):
        latest = [f for f in changes if f.hub.hub_code == hub_code][-1]
        day = days[0]
        while day <= days[1]:
            before, after = then.active_on(hub_code, day), now.active_on(hub_code, day)
            if before != after:
                code = latest.hub.sub_icb_code
                revisions.append(
                    Revision(
                        day=day,
                        sub_icb_code=code,
                        name=names.get(code, code),
                        hub_code=hub_code,
                        old_version=None,
                        new_version=None,
                        received_at=latest.recorded_at,
                        changes=(_register_words(latest, added=after),),
                        was=_cell(judge(day, period.previous_cutoff).locality(code), day),
                        now=_cell(judge(day, period.cutoff).locality(code), day),
                        comment=latest.note,
                        cause=RevisionCause.REGISTER,
                    )
                )
            day += timedelta(days=1)
    return revisions


def _register_words(fact: HubFact, *, added: bool) -> str:
    hub = fact.hub
    when = to_london(fact.recorded_at).strftime("%a %d %b %H:%M")
    span = f"active {hub.active_from:%d %b %Y} to {hub.active_to:%d %b %Y}"
    verb = "added to" if added else "taken out of"
    return (
        f"register change: {hub.name} ({hub.hub_code}) {verb} this day by a change recorded {when} "
        f"({fact.change}, {span})"
    )


def _commissioned_days(
    versions: Sequence[Row], view: RegisterView, judged: set[date], is_holiday: Callable[[date], bool]
) -> dict[tuple[str, date], Offer]:
    """Per judged locality-day (and GM-day): what was commissioned on the hub-days with a return."""
    found: dict[tuple[str, date], Offer] = {}
    for row in versions:
        day = row["activity_date"]
        if day not in judged:
            continue
        offer = view.commissioned(row["hub_code"], day, is_holiday)
        for key in ((row["sub_icb_code"], day), ("GM", day)):
            found[key] = found.get(key, Offer()) + offer
    return found


# -- the digest ---------------------------------------------------------------------------------------


def build_digest(engine: Engine, kind: DigestKind, as_of: datetime, settings: Settings) -> Digest:
    """Gather and judge the ``board`` or ``daily`` digest that goes out at ``as_of``, in one go."""
    period = period_for(kind, as_of, settings)
    previous = previous_period(period, settings)
    register = read_register(engine)  # the whole history; each figure takes it as of its own time
    view = register.as_of(period.cutoff)
    judge = _Judge(engine, settings, register)
    rags = tuple(judge(day, period.cutoff) for day in period.days)

    # Trend and season to date end with the last day judged (before any is: the day before the cut-off).
    anchor = period.days[-1] if period.days else to_london(period.cutoff).date() - timedelta(days=1)
    anchor = min(anchor, settings.season.end)
    versions = reporting.current_versions(engine, settings.season.start, anchor, period.cutoff)
    season_rows = reporting.locality_day_totals(versions, view)
    judged = set(period.days)
    holidays = settings.timeliness.extra_holidays

    def is_holiday(day: date) -> bool:
        return is_bank_holiday(day) or day in holidays

    plans = plan_lines(
        versions,
        view,
        period_days=period.days,
        season_start=settings.season.start,
        season_end=settings.season.end,
        anchor=anchor,
        is_bank_holiday=is_holiday,
    )
    return Digest(
        kind=period.kind,
        period=period,
        previous=previous,
        subject=subject_for(period.kind, period, settings),
        season_start=settings.season.start,
        utilisation_rule=settings.rag.utilisation,
        pending_closes=tuple((day, close_for(day, settings)) for day in period.pending_days),
        localities=_locality_lines(
            rags,
            _previous_cells(judge, previous),
            season_rows,
            judged,
            _trend_days(anchor, settings),
            plans,
            settings,
        ),
        returns=tuple(_day_returns(day_rag) for day_rag in rags),
        gm_period=Totals.of(r for r in season_rows if r["activity_date"] in judged),
        gm_season=Totals.of(season_rows),
        gm_days=tuple(
            (day, Totals.of(r for r in season_rows if r["activity_date"] == day)) for day in period.days
        ),
        day_rags=rags,
        exceptions=_exceptions(rags, view.hub_names()),
        warnings=_warnings(engine, period),
        revisions=_revisions(engine, judge, period, settings, register),
        gm_plan=sum(plans.values(), EMPTY),
        commissioned=_commissioned_days(versions, view, judged, is_holiday),
        season_end=settings.season.end,
        projection=projection_statement(settings.season.end),
    )
