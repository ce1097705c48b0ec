"""The reference data as shipped: the ten GM localities and the CSVs that seed the hub register.

The hub register and the commissioned plan live in the warehouse, bitemporal (``surgehub.register``
for the values, ``surgehub.warehouse.register`` to read and change them): whatever judges a return,
a day or a digest reads the register as it stood at the relevant time, never these files. This module
keeps what needs no warehouse: the localities (the channels' identities: landing folders, command
options, names in messages), the shipped hubs and plan that ``surgehub db upgrade`` seeds an empty
register with, and ``normalise_code``.
"""

from __future__ import annotations

import csv
from datetime import date
from functools import cache
from importlib import resources

from surgehub.register import (
    SEED_RECORDED_AT,
    Change,
    DayKind,
    Hub,
    HubFact,
    Locality,
    Offer,
    Register,
    normalise_code,
)

__all__ = [
    "Hub",
    "Locality",
    "localities",
    "locality",
    "locality_by_code",
    "normalise_code",
    "shipped_hubs",
    "shipped_plans",
    "shipped_register",
]


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("surgehub.data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def localities() -> tuple[Locality, ...]:
    """The localities in the order of localities.csv (the order every listing uses)."""
    return tuple(
        Locality(normalise_code(r["sub_icb_code"]), r["locality_name"].strip(), r["slug"].strip())
        for r in _read("localities.csv")
    )


def locality_by_code(code: str) -> Locality | None:
    code = normalise_code(code)
    return next((loc for loc in localities() if loc.sub_icb_code == code), None)


def locality(code: str) -> Locality:
    """The locality of a code known to be valid; KeyError if not."""
    found = locality_by_code(code)
    if found is None:
        raise KeyError(f"unknown locality code {code!r}")
    return found


@cache
def shipped_hubs() -> tuple[Hub, ...]:
    """The hub register as shipped (hubs.csv, file order): what an empty warehouse is seeded with."""
    return tuple(
        Hub(
            normalise_code(r["hub_code"]),
            normalise_code(r["sub_icb_code"]),
            r["hub_name"].strip(),
            date.fromisoformat(r["active_from"].strip()),
            date.fromisoformat(r["active_to"].strip()),
        )
        for r in _read("hubs.csv")
    )


def shipped_plans() -> list[tuple[str, date, date, dict[DayKind, Offer]]]:
    """The illustrative commissioned plan shipped for the shipped hubs (commissioned_plan.csv):
    (hub_code, valid_from, valid_to, offers per day kind; a blank bank-holiday entry means Sunday's)."""
    plans: list[tuple[str, date, date, dict[DayKind, Offer]]] = []
    for r in _read("commissioned_plan.csv"):
        offers = {
            kind: Offer(int(r[f"sessions_{kind}"]), int(r[f"appts_{kind}"]))
            for kind in DayKind
            if r[f"sessions_{kind}"].strip() and r[f"appts_{kind}"].strip()
        }
        plans.append(
            (
                normalise_code(r["hub_code"]),
                date.fromisoformat(r["valid_from"]),
                date.fromisoformat(r["valid_to"]),
                offers,
            )
        )
    return plans


def shipped_register() -> Register:
    """The register as shipped (hubs.csv), recorded at the seed instant: what an empty warehouse holds.
    What validation uses when it is given no register (``surgehub validate`` with no warehouse; tests)."""
    facts = tuple(
        HubFact(fact_id=n, hub=hub, change=Change.SEED, recorded_at=SEED_RECORDED_AT, recorded_by="seed")
        for n, hub in enumerate(shipped_hubs(), start=1)
    )
    return Register(localities(), facts)
