"""The hub register and the commissioned plan as values: bitemporal facts, and the register as of T.

The warehouse keeps every fact ever recorded about a hub (``hub_version``) and every commissioned plan
(``commissioned_plan``), each with the dates it is true for (valid time: a hub's active dates, a plan's
date range) and the instant it was recorded and, once replaced, superseded (transaction time).
``warehouse.register.read_register`` reads them into a :class:`Register`; ``Register.as_of(T)`` is
the register as it stood at T (a :class:`RegisterView`), which is what every reader judges with:
R06 at a return's receipt time, RAG and digests at their as-of time. Nothing here reads the
warehouse, the clock or a file: a test, the benchmark or a page can build a Register from plain rows.

The *commissioned* plan is what each hub was funded to provide per weekday (sessions and
appointments offered); it is never the ``sessions_planned`` a return reports for its own day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping


#: When the register as shipped (hubs.csv, commissioned_plan.csv) counts as recorded: before any return,
#: so a warehouse seeded today judges past receipts and rebuilds past digests with it.
SEED_RECORDED_AT = datetime(2000, 1, 1, tzinfo=UTC)


def normalise_code(code: str) -> str:
    """A locality or hub code as stored (spec §1: matched case-insensitively, kept in upper case).

    The one place a code from outside (a channel, a form, a command line, a file) is cleaned.
    """
    return code.strip().upper()


@dataclass(frozen=True)
class Locality:
    sub_icb_code: str
    name: str
    slug: str


@dataclass(frozen=True)
class Hub:
    """A hub as the register says at some time: its locality, name and active dates (valid time)."""

    hub_code: str
    sub_icb_code: str
    name: str
    active_from: date
    active_to: date

    def active_on(self, day: date) -> bool:
        return self.active_from <= day <= self.active_to


class Change(StrEnum):
    """Why a hub fact was recorded."""

    SEED = "seed"  # from the shipped hubs.csv, by `surgehub db upgrade`
    ADD = "add"
    RENAME = "rename"
    CLOSE = "close"  # active_to moved (or dates corrected)
    DATES = "dates"


@dataclass(frozen=True, kw_only=True)
class HubFact:
    """One recorded version of a hub: true for [active_from, active_to], known from recorded_at until
    superseded_at (None: still the register's word)."""

    fact_id: int
    hub: Hub
    change: Change
    recorded_at: datetime
    recorded_by: str
    superseded_at: datetime | None = None
    note: str | None = None

    def known_at(self, instant: datetime) -> bool:
        return self.recorded_at <= instant and (self.superseded_at is None or self.superseded_at > instant)


class DayKind(StrEnum):
    """The plan's day kinds: each weekday, and bank holidays (which default to Sunday's plan)."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"
    BANK_HOLIDAY = "bank_holiday"


WEEKDAYS: tuple[DayKind, ...] = tuple(DayKind)[:7]


@dataclass(frozen=True)
class Offer:
    """Sessions and appointments offered in a commissioned plan (one day, or summed)."""

    sessions: int = 0
    appointments: int = 0

    def __add__(self, other: Offer) -> Offer:
        return Offer(self.sessions + other.sessions, self.appointments + other.appointments)


@dataclass(frozen=True, kw_only=True)
class PlanFact:
    """One commissioned plan set for a hub over [valid_from, valid_to]: an Offer per day kind (a missing
    bank-holiday entry means Sunday's), recorded at recorded_at, superseded at superseded_at."""

    fact_id: int
    hub_code: str
    valid_from: date
    valid_to: date
    offers: Mapping[DayKind, Offer]
    recorded_at: datetime
    recorded_by: str
    superseded_at: datetime | None = None

    def known_at(self, instant: datetime) -> bool:
        return self.recorded_at <= instant and (self.superseded_at is None or self.superseded_at > instant)

    def covers(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_to

    def offer(self, kind: DayKind) -> Offer:
        if kind is DayKind.BANK_HOLIDAY and kind not in self.offers:
            kind = DayKind.SUN
        return self.offers.get(kind, Offer())


def day_kind(day: date, is_bank_holiday: Callable[[date], bool]) -> DayKind:
    return DayKind.BANK_HOLIDAY if is_bank_holiday(day) else WEEKDAYS[day.weekday()]


@dataclass(frozen=True)
class Register:
    """Every fact recorded about the localities, hubs and commissioned plans (the whole history)."""

    localities: tuple[Locality, ...]
    hub_facts: tuple[HubFact, ...] = ()
    plan_facts: tuple[PlanFact, ...] = ()

    def as_of(self, instant: datetime) -> RegisterView:
        """The register as it stood at ``instant`` (aware): the facts recorded by then and not yet
        superseded, with the facts known by then kept for "since when was this known"."""
        if instant.tzinfo is None:
            raise ValueError("naive instant: surgehub only handles aware instants")
        known = tuple(f for f in self.hub_facts if f.recorded_at <= instant)
        return RegisterView(
            as_of=instant,
            localities=self.localities,
            hub_facts=tuple(f for f in known if f.known_at(instant)),
            hubs_known=known,
            plans=tuple(p for p in self.plan_facts if p.known_at(instant)),
        )

    def latest(self) -> RegisterView:
        """The register as it stands now: every fact not superseded."""
        return RegisterView(
            as_of=None,
            localities=self.localities,
            hub_facts=tuple(f for f in self.hub_facts if f.superseded_at is None),
            hubs_known=self.hub_facts,
            plans=tuple(p for p in self.plan_facts if p.superseded_at is None),
        )

    def watermark(self) -> datetime | None:
        """The latest transaction time in the register (a change recorded, or a fact superseded)."""
        instants = [
            t
            for f in (*self.hub_facts, *self.plan_facts)
            for t in (f.recorded_at, f.superseded_at)
            if t is not None
        ]
        return max(instants, default=None)

    def changes_between(self, earlier: datetime, later: datetime) -> tuple[HubFact, ...]:
        """The hub facts recorded in (earlier, later], oldest first: what changed the register then."""
        return tuple(
            sorted(
                (f for f in self.hub_facts if earlier < f.recorded_at <= later),
                key=lambda f: (f.recorded_at, f.fact_id),
            )
        )


@dataclass(frozen=True, kw_only=True)
class RegisterView:
    """The register as it stood at one time (``as_of``; None: as it stands now)."""

    as_of: datetime | None
    localities: tuple[Locality, ...]
    hub_facts: tuple[HubFact, ...]
    hubs_known: tuple[HubFact, ...] = field(repr=False, default=())
    plans: tuple[PlanFact, ...] = field(repr=False, default=())

    @property
    def hubs(self) -> tuple[Hub, ...]:
        """Every hub in the register then (in the order of first recording), whatever its dates."""
        return tuple(f.hub for f in self.hub_facts)

    def locality_by_code(self, code: str) -> Locality | None:
        code = normalise_code(code)
        return next((loc for loc in self.localities if loc.sub_icb_code == code), None)

    def locality(self, code: str) -> Locality:
        """The locality of a code known to be valid; KeyError if not."""
        found = self.locality_by_code(code)
        if found is None:
            raise KeyError(f"unknown locality code {code!r}")
        return found

    def locality_names(self) -> dict[str, str]:
        return {loc.sub_icb_code: loc.name for loc in self.localities}

    @cached_property
    def _facts_by_code(self) -> dict[str, HubFact]:
        return {f.hub.hub_code: f for f in self.hub_facts}

    @cached_property
    def _plans_by_hub(self) -> dict[str, list[PlanFact]]:
        found: dict[str, list[PlanFact]] = {}
        for plan in self.plans:
            found.setdefault(plan.hub_code, []).append(plan)
        return found

    def hub(self, hub_code: str) -> Hub | None:
        fact = self.hub_fact(hub_code)
        return None if fact is None else fact.hub

    def hub_fact(self, hub_code: str) -> HubFact | None:
        found = self._facts_by_code.get(hub_code)
        return found if found is not None else self._facts_by_code.get(normalise_code(hub_code))

    def hub_names(self) -> dict[str, str]:
        """Every hub's name, the ones no longer in the register included (under their last name)."""
        names = {f.hub.hub_code: f.hub.name for f in self.hubs_known}
        names.update({f.hub.hub_code: f.hub.name for f in self.hub_facts})
        return names

    def hubs_of(self, sub_icb_code: str) -> tuple[Hub, ...]:
        code = normalise_code(sub_icb_code)
        return tuple(h for h in self.hubs if h.sub_icb_code == code)

    def active_hubs(self, sub_icb_code: str, day: date) -> tuple[Hub, ...]:
        """The hubs of a locality that are active on a day."""
        return tuple(h for h in self.hubs_of(sub_icb_code) if h.active_on(day))

    def active_on(self, hub_code: str, day: date) -> bool:
        hub = self.hub(hub_code)
        return hub is not None and hub.active_on(day)

    def known_since(self, hub_code: str, day: date) -> datetime | None:
        """Since when the register (as known at ``as_of``) has said the hub is active on ``day``: the
        earliest recording of a fact that put the day in its active dates (None: not active then)."""
        if not self.active_on(hub_code, day):
            return None
        return min(
            (f.recorded_at for f in self.hubs_known if f.hub.hub_code == hub_code and f.hub.active_on(day)),
            default=None,
        )

    def plan_for(self, hub_code: str, day: date) -> PlanFact | None:
        """The commissioned plan that applies to a hub on a day: the latest recorded set covering it."""
        found = [p for p in self._plans_by_hub.get(hub_code, ()) if p.covers(day)]
        return max(found, key=lambda p: (p.recorded_at, p.fact_id), default=None)

    def commissioned(self, hub_code: str, day: date, is_bank_holiday: Callable[[date], bool]) -> Offer:
        """What a hub was commissioned to offer on a day (nothing when it is not active then)."""
        if not self.active_on(hub_code, day):
            return Offer()
        plan = self.plan_for(hub_code, day)
        return Offer() if plan is None else plan.offer(day_kind(day, is_bank_holiday))

    def commissioned_total(
        self, hub_codes: Iterable[str], days: Iterable[date], is_bank_holiday: Callable[[date], bool]
    ) -> Offer:
        total = Offer()
        day_list = list(days)
        for code in hub_codes:
            for day in day_list:
                total = total + self.commissioned(code, day, is_bank_holiday)
        return total
