"""Writing register facts inside a caller's transaction: the seed (`surgehub db upgrade`) and the rows
each change inserts. Used by ``warehouse.db`` (seeding) and ``warehouse.register`` (changes); it needs
no engine, so neither imports the other through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from surgehub.register import SEED_RECORDED_AT, Change, DayKind, Hub, Locality, Offer
from surgehub.warehouse import tables

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date, datetime

    from sqlalchemy import Connection


@dataclass(frozen=True, kw_only=True)
class PlanInput:
    """A commissioned plan to record: per day kind, what a hub is commissioned to offer over a range."""

    hub_code: str
    valid_from: date
    valid_to: date
    offers: Mapping[DayKind, Offer]


def seed_register(
    connection: Connection,
    *,
    localities: tuple[Locality, ...] | None = None,
    hubs: tuple[Hub, ...] | None = None,
    plans: list[PlanInput] | None = None,
) -> None:
    """Upsert the localities, and seed hubs and plans, recorded at the seed instant.

    By default (``surgehub db upgrade``): the shipped CSVs, and only into an empty register, so a fact
    recorded since is never overwritten or duplicated. A register given as data (the national
    benchmark's) adds the hubs not yet in the warehouse, and its plans when it has none for them.
    """
    from surgehub import reference

    _upsert_localities(connection, reference.localities() if localities is None else localities)
    if hubs is None:
        if connection.execute(select(func.count()).select_from(tables.hub_version)).scalar_one() == 0:
            _insert_seed_hubs(connection, reference.shipped_hubs())
    else:
        known = set(connection.execute(select(tables.hub.c.hub_code)).scalars())
        _insert_seed_hubs(connection, tuple(h for h in hubs if h.hub_code not in known))
    if plans is None:
        if connection.execute(select(func.count()).select_from(tables.commissioned_plan)).scalar_one() == 0:
            plans = [
                PlanInput(hub_code=code, valid_from=first, valid_to=last, offers=offers)
                for code, first, last, offers in reference.shipped_plans()
            ]
        else:
            plans = []
    planned = set(connection.execute(select(tables.commissioned_plan.c.hub_code)).scalars())
    for plan in plans:
        if plan.hub_code not in planned:
            insert_plan(connection, plan, SEED_RECORDED_AT, "seed")


def _insert_seed_hubs(connection: Connection, hubs: tuple[Hub, ...]) -> None:
    """Hubs and their first facts in two bulk inserts (6,720 for the national benchmark)."""
    if not hubs:
        return
    connection.execute(
        tables.hub.insert(), [{"hub_code": h.hub_code, "sub_icb_code": h.sub_icb_code} for h in hubs]
    )
    connection.execute(
        tables.hub_version.insert(),
        [
            {
                "hub_code": h.hub_code,
                "sub_icb_code": h.sub_icb_code,
                "hub_name": h.name,
                "active_from": h.active_from,
                "active_to": h.active_to,
                "change": Change.SEED.value,
                "note": None,
                "recorded_at": SEED_RECORDED_AT,
                "recorded_by": "seed",
            }
            for h in hubs
        ],
    )


def _upsert_localities(connection: Connection, localities: tuple[Locality, ...]) -> None:
    from surgehub.warehouse.queries import statement

    rows = [
        {"sub_icb_code": loc.sub_icb_code, "locality_name": loc.name, "slug": loc.slug, "sort_order": i}
        for i, loc in enumerate(localities, start=1)
    ]
    # Slugs are unique: clear any that moved to another code before the upsert sets them.
    existing = dict(connection.execute(select(tables.locality.c.sub_icb_code, tables.locality.c.slug)).all())
    wanted = {r["sub_icb_code"]: r["slug"] for r in rows}
    for code, slug in existing.items():
        if code in wanted and wanted[code] != slug:
            connection.execute(
                tables.locality.update().where(tables.locality.c.sub_icb_code == code).values(slug=f"~{code}")
            )
    if rows:
        connection.execute(statement("reference/upsert_locality.sql"), rows)


def insert_hub_fact(
    connection: Connection, hub: Hub, change: Change, at: datetime, actor: str, note: str | None
) -> int:
    result = connection.execute(
        tables.hub_version.insert().values(
            hub_code=hub.hub_code,
            sub_icb_code=hub.sub_icb_code,
            hub_name=hub.name,
            active_from=hub.active_from,
            active_to=hub.active_to,
            change=change.value,
            note=note,
            recorded_at=at,
            recorded_by=actor,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def insert_plan(connection: Connection, plan: PlanInput, at: datetime, actor: str) -> int:
    values: dict[str, Any] = {
        "hub_code": plan.hub_code,
        "valid_from": plan.valid_from,
        "valid_to": plan.valid_to,
        "recorded_at": at,
        "recorded_by": actor,
    }
    for kind in DayKind:
        offer = plan.offers.get(kind)
        values[f"sessions_{kind}"] = None if offer is None else offer.sessions
        values[f"appts_{kind}"] = None if offer is None else offer.appointments
    result = connection.execute(tables.commissioned_plan.insert().values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]
