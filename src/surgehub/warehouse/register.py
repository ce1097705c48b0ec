"""The register and the commissioned plan in the warehouse: the one module that reads and changes them.

``read_register`` reads every fact into a :class:`surgehub.register.Register` (a few hundred rows for
GM; callers take ``.as_of(T)``). It is read afresh by each caller (a return's validation, a RAG run, a
digest, a page): nothing caches it across calls, so a change committed by ``surgehub hubs`` or
``surgehub plan`` is seen by the first return received after it, in every running process.

Changes (``add_hub``, ``rename_hub``, ``set_hub_dates``, ``set_plan``) each insert a new fact,
supersede the fact it replaces, and append an audit event, in one transaction. Nothing is ever
updated but a superseded_at, once, and nothing is deleted. ``seed_register`` (run by
``surgehub db upgrade``) fills an empty register from the shipped CSVs, recorded at
:data:`surgehub.register.SEED_RECORDED_AT`; once the register holds hubs (or plans) it never touches them.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, func, select

from surgehub.register import (
    Change,
    DayKind,
    Hub,
    HubFact,
    Locality,
    Offer,
    PlanFact,
    Register,
    normalise_code,
)
from surgehub.warehouse import audit, tables
from surgehub.warehouse.db import writer
from surgehub.warehouse.seed import PlanInput, insert_hub_fact, insert_plan, seed_register

__all__ = [
    "PlanInput",
    "RegisterError",
    "add_hub",
    "close_hub",
    "locality_codes",
    "read_register",
    "rename_hub",
    "seed_register",
    "set_hub_dates",
    "set_plan",
]

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import date, datetime

    from surgehub.config import Season


class RegisterError(ValueError):
    """A register or plan change that cannot be made; the message says why and what to do.

    ``field`` names the input at fault (``hub_code``, ``sub_icb_code``, ``name``, ``active_from``,
    ``active_to``) so that a page can point its error summary at it; None when no one input is.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# -- reading ---------------------------------------------------------------------------------------


def read_register(source: Engine | Connection) -> Register:
    """Every locality, hub fact and commissioned plan fact in the warehouse."""
    if isinstance(source, Engine):
        with source.connect() as connection:
            return read_register(connection)
    loc = tables.locality
    localities = tuple(
        Locality(row.sub_icb_code, row.locality_name, row.slug)
        for row in source.execute(select(loc).order_by(loc.c.sort_order, loc.c.sub_icb_code))
    )
    hv = tables.hub_version
    hub_facts = tuple(
        _hub_fact(dict(row._mapping)) for row in source.execute(select(hv).order_by(hv.c.hub_version_id))
    )
    cp = tables.commissioned_plan
    plan_facts = tuple(
        _plan_fact(dict(row._mapping)) for row in source.execute(select(cp).order_by(cp.c.plan_id))
    )
    return Register(localities, _first_recorded_order(hub_facts), plan_facts)


def locality_codes(engine: Engine) -> frozenset[str]:
    """The locality codes the warehouse's register holds: what the landing zone is made of
    (``surgehub.landing.landing_codes``). Empty when there is no warehouse yet (an SQLite file not yet
    made is not made here) or it cannot be read, so the landing zone falls back to the shipped ten."""
    from sqlalchemy.exc import SQLAlchemyError

    from surgehub.warehouse.db import sqlite_file

    database = sqlite_file(engine)
    if database is not None and not database.exists():
        return frozenset()
    try:
        with engine.connect() as connection:
            return frozenset(connection.execute(select(tables.locality.c.sub_icb_code)).scalars())
    except SQLAlchemyError:
        return frozenset()


def _first_recorded_order(facts: tuple[HubFact, ...]) -> tuple[HubFact, ...]:
    """Facts grouped by hub in the order each hub was first recorded (seeded hubs in file order)."""
    first: dict[str, int] = {}
    for position, fact in enumerate(facts):
        first.setdefault(fact.hub.hub_code, position)
    return tuple(sorted(facts, key=lambda f: (first[f.hub.hub_code], f.fact_id)))


def _hub_fact(row: Mapping[str, Any]) -> HubFact:
    return HubFact(
        fact_id=int(row["hub_version_id"]),
        hub=Hub(row["hub_code"], row["sub_icb_code"], row["hub_name"], row["active_from"], row["active_to"]),
        change=Change(row["change"]),
        recorded_at=row["recorded_at"],
        recorded_by=row["recorded_by"],
        superseded_at=row["superseded_at"],
        note=row["note"],
    )


def _plan_fact(row: Mapping[str, Any]) -> PlanFact:
    offers = {
        kind: Offer(int(row[f"sessions_{kind}"]), int(row[f"appts_{kind}"]))
        for kind in DayKind
        if row[f"sessions_{kind}"] is not None and row[f"appts_{kind}"] is not None
    }
    return PlanFact(
        fact_id=int(row["plan_id"]),
        hub_code=row["hub_code"],
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        offers=offers,
        recorded_at=row["recorded_at"],
        recorded_by=row["recorded_by"],
        superseded_at=row["superseded_at"],
    )


# -- changing the register ----------------------------------------------------------------------------


def _current_fact(connection: Connection, hub_code: str) -> HubFact | None:
    hv = tables.hub_version
    row = connection.execute(
        select(hv)
        .where(hv.c.hub_code == hub_code, hv.c.superseded_at.is_(None))
        .order_by(hv.c.hub_version_id.desc())
    ).first()
    return None if row is None else _hub_fact(dict(row._mapping))


def _check_dates(active_from: date, active_to: date, seasons: Sequence[Season] = ()) -> None:
    if active_to < active_from:
        raise RegisterError(
            f"the hub would close ({active_to.isoformat()}) before it opens ({active_from.isoformat()}): "
            "check the dates",
            field="active_to",
        )
    if seasons and not any(active_from in season and active_to in season for season in seasons):
        first = active_from if not any(active_from in season for season in seasons) else active_to
        spans = ", ".join(f"{season.start.isoformat()} to {season.end.isoformat()}" for season in seasons)
        raise RegisterError(
            f"{first.isoformat()} is outside the surge season ({spans}): a hub is active within one season",
            field="active_from" if first == active_from else "active_to",
        )


def _check_order(previous: datetime, at: datetime, what: str) -> None:
    if at < previous:
        raise RegisterError(
            f"{what} holds a change recorded at {previous.isoformat()}, after now ({at.isoformat()}): "
            "check the clock (SURGEHUB_NOW)"
        )


#: A hub code: its locality's code, a dash, then letters and digits (e.g. 01W-H2); at most 20 characters.
HUB_CODE = re.compile(r"[0-9A-Z]{3}-[0-9A-Z]{1,16}")


def add_hub(
    engine: Engine,
    hub: Hub,
    *,
    actor: str,
    at: datetime,
    note: str | None = None,
    seasons: Sequence[Season] = (),
) -> HubFact:
    """Record a new hub (its active dates may start in the past: a backdated hub). Given ``seasons``,
    the dates must lie within one of them (the command and the admin page pass the configured ones)."""
    hub = replace(hub, hub_code=normalise_code(hub.hub_code), sub_icb_code=normalise_code(hub.sub_icb_code))
    if not HUB_CODE.fullmatch(hub.hub_code) or not hub.hub_code.startswith(f"{hub.sub_icb_code}-"):
        raise RegisterError(
            f"hub code {hub.hub_code[:40]!r} is not of the form {hub.sub_icb_code}-H1: the locality's code, "
            "a dash, then up to 16 letters or digits",
            field="hub_code",
        )
    if len(hub.name) > 200:
        raise RegisterError("the hub's name is longer than 200 characters", field="name")
    if not hub.name.strip():
        raise RegisterError("the hub needs a name", field="name")
    _check_dates(hub.active_from, hub.active_to, seasons)
    with writer(engine).begin() as connection:
        known = connection.execute(select(tables.locality.c.sub_icb_code)).scalars().all()
        if hub.sub_icb_code not in known:
            raise RegisterError(
                f"unknown locality {hub.sub_icb_code}: use one of {', '.join(known)}", field="sub_icb_code"
            )
        exists = connection.execute(
            select(tables.hub.c.hub_code).where(tables.hub.c.hub_code == hub.hub_code)
        ).first()
        if exists is not None:
            raise RegisterError(
                f"hub {hub.hub_code} is already in the register: use `surgehub hubs rename` or `close`",
                field="hub_code",
            )
        connection.execute(tables.hub.insert().values(hub_code=hub.hub_code, sub_icb_code=hub.sub_icb_code))
        fact_id = insert_hub_fact(connection, hub, Change.ADD, at, actor, note)
        audit.record(
            connection,
            occurred_at=at,
            actor=actor,
            action="hub.add",
            subject=f"hub:{hub.hub_code}",
            detail=_hub_detail(hub, note),
        )
    return HubFact(fact_id=fact_id, hub=hub, change=Change.ADD, recorded_at=at, recorded_by=actor, note=note)


def _hub_detail(hub: Hub, note: str | None) -> dict[str, Any]:
    return {
        "hub_code": hub.hub_code,
        "sub_icb_code": hub.sub_icb_code,
        "hub_name": hub.name,
        "active_from": hub.active_from.isoformat(),
        "active_to": hub.active_to.isoformat(),
        "note": note,
    }


def _change_hub(
    engine: Engine,
    hub_code: str,
    change: Change,
    *,
    actor: str,
    at: datetime,
    note: str | None,
    name: str | None = None,
    active_from: date | None = None,
    active_to: date | None = None,
    seasons: Sequence[Season] = (),
) -> HubFact:
    code = normalise_code(hub_code)
    with writer(engine).begin() as connection:
        current = _current_fact(connection, code)
        if current is None:
            raise RegisterError(
                f"hub {code[:40]} is not in the register: `surgehub hubs list` shows the hubs",
                field="hub_code",
            )
        _check_order(current.recorded_at, at, f"hub {code}")
        hub = replace(
            current.hub,
            name=current.hub.name if name is None else name.strip(),
            active_from=current.hub.active_from if active_from is None else active_from,
            active_to=current.hub.active_to if active_to is None else active_to,
        )
        if not hub.name:
            raise RegisterError("the hub needs a name", field="name")
        if len(hub.name) > 200:
            raise RegisterError("the hub's name is longer than 200 characters", field="name")
        _check_dates(hub.active_from, hub.active_to, seasons if active_to is not None else ())
        if hub == current.hub:
            raise RegisterError(
                f"hub {code} already reads so: nothing to change", field=_changed(name, active_to)
            )
        connection.execute(
            tables.hub_version.update()
            .where(tables.hub_version.c.hub_version_id == current.fact_id)
            .values(superseded_at=at)
        )
        fact_id = insert_hub_fact(connection, hub, change, at, actor, note)
        detail = _hub_detail(hub, note)
        detail["was"] = _hub_detail(current.hub, None)
        audit.record(
            connection,
            occurred_at=at,
            actor=actor,
            action=f"hub.{change}",
            subject=f"hub:{code}",
            detail=detail,
        )
    return HubFact(fact_id=fact_id, hub=hub, change=change, recorded_at=at, recorded_by=actor, note=note)


def rename_hub(
    engine: Engine, hub_code: str, name: str, *, actor: str, at: datetime, note: str | None = None
) -> HubFact:
    return _change_hub(engine, hub_code, Change.RENAME, actor=actor, at=at, note=note, name=name)


def _changed(name: str | None, active_to: date | None) -> str:
    return "name" if name is not None else "active_to" if active_to is not None else "active_from"


def close_hub(
    engine: Engine,
    hub_code: str,
    last_day: date,
    *,
    actor: str,
    at: datetime,
    note: str | None = None,
    seasons: Sequence[Season] = (),
) -> HubFact:
    """The hub's last active day becomes ``last_day`` (earlier or later than before); given ``seasons``,
    within the season the hub is active in."""
    return _change_hub(
        engine, hub_code, Change.CLOSE, actor=actor, at=at, note=note, active_to=last_day, seasons=seasons
    )


def set_hub_dates(
    engine: Engine,
    hub_code: str,
    active_from: date,
    active_to: date,
    *,
    actor: str,
    at: datetime,
    note: str | None = None,
) -> HubFact:
    """Correct both active dates (e.g. a hub that opened earlier than recorded)."""
    return _change_hub(
        engine,
        hub_code,
        Change.DATES,
        actor=actor,
        at=at,
        note=note,
        active_from=active_from,
        active_to=active_to,
    )


# -- the commissioned plan --------------------------------------------------------------------------


def set_plan(engine: Engine, plan: PlanInput, *, actor: str, at: datetime) -> PlanFact:
    """Record a commissioned plan for a hub and range; it applies over every earlier one on its days,
    and supersedes the earlier plans it wholly covers."""
    plan = replace(plan, hub_code=normalise_code(plan.hub_code))
    if plan.valid_to < plan.valid_from:
        raise RegisterError("the plan ends before it starts: check --from and --to")
    missing = [kind.value for kind in DayKind if kind is not DayKind.BANK_HOLIDAY and kind not in plan.offers]
    if missing:
        raise RegisterError(f"the plan needs every weekday: missing {', '.join(missing)}")
    if any(o.sessions < 0 or o.appointments < 0 for o in plan.offers.values()):
        raise RegisterError("sessions and appointments are counts: 0 or more")
    cp = tables.commissioned_plan
    with writer(engine).begin() as connection:
        if (
            connection.execute(
                select(tables.hub.c.hub_code).where(tables.hub.c.hub_code == plan.hub_code)
            ).first()
            is None
        ):
            raise RegisterError(
                f"hub {plan.hub_code} is not in the register: add it first (`surgehub hubs add`)"
            )
        latest = connection.execute(
            select(func.max(cp.c.recorded_at)).where(cp.c.hub_code == plan.hub_code)
        ).scalar()
        if latest is not None:
            _check_order(latest, at, f"the plan of hub {plan.hub_code}")
        covered = (
            connection.execute(
                select(cp.c.plan_id).where(
                    cp.c.hub_code == plan.hub_code,
                    cp.c.superseded_at.is_(None),
                    cp.c.valid_from >= plan.valid_from,
                    cp.c.valid_to <= plan.valid_to,
                )
            )
            .scalars()
            .all()
        )
        if covered:
            connection.execute(cp.update().where(cp.c.plan_id.in_(covered)).values(superseded_at=at))
        fact_id = insert_plan(connection, plan, at, actor)
        audit.record(
            connection,
            occurred_at=at,
            actor=actor,
            action="plan.set",
            subject=f"hub:{plan.hub_code}",
            detail={
                "valid_from": plan.valid_from.isoformat(),
                "valid_to": plan.valid_to.isoformat(),
                "sessions": {k.value: o.sessions for k, o in plan.offers.items()},
                "appointments": {k.value: o.appointments for k, o in plan.offers.items()},
                "superseded": list(covered),
            },
        )
    return PlanFact(
        fact_id=fact_id,
        hub_code=plan.hub_code,
        valid_from=plan.valid_from,
        valid_to=plan.valid_to,
        offers=dict(plan.offers),
        recorded_at=at,
        recorded_by=actor,
    )
