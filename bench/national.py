"""A synthetic national hub register and a million valid return rows drawn from it (seeded, vectorised).

The register: 42 ICBs (codes ``N01``–``N42``), each with ``hubs_per_icb`` hubs active all season —
42 × 160 = 6,720 hubs, about the number of GP practices in England, so one row per hub per day of the
151-day season is ≈ 1,000,000 rows ("every GP practice daily"). The rows obey every rule of spec §3
(sums, ranges, comments where R15 needs them), so both engines do all their work and find nothing.

The register is data, as in production: a :class:`surgehub.register.Register` value that validation
takes (``validate_table(..., register=...)``) and that ``seed_national`` loads into a warehouse
(``warehouse.register.seed_register``). Nothing in the package is swapped.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from surgehub import spec
from surgehub.register import SEED_RECORDED_AT, Change, Hub, HubFact, Locality, Register

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd
    from sqlalchemy import Engine

ICBS = 42
SEASON_START = date(2026, 11, 1)
SEASON_DAYS = 151  # 1 November 2026 to 31 March 2027


def icb_codes(count: int = ICBS) -> list[str]:
    return [f"N{i:02d}" for i in range(1, count + 1)]


def build_register(icbs: int = ICBS, hubs_per_icb: int = 160) -> Register:
    """The synthetic national register, recorded at the seed instant (as a shipped register is)."""
    localities = tuple(Locality(code, f"Synthetic ICB {code}", code.lower()) for code in icb_codes(icbs))
    return _seeded(localities, hubs_per_icb, lambda loc, i: (f"{loc.sub_icb_code}-P{i:04d}", f"Practice {i}"))


def _seeded(
    localities: tuple[Locality, ...], hubs_each: int, named: Callable[[Locality, int], tuple[str, str]]
) -> Register:
    """A register of ``localities``, each with ``hubs_each`` hubs active all season (``named`` gives the
    i-th hub's code and name), recorded at the seed instant as a shipped register is."""
    end = SEASON_START + timedelta(days=SEASON_DAYS - 1)
    facts: list[HubFact] = []
    for loc in localities:
        for i in range(1, hubs_each + 1):
            code, name = named(loc, i)
            facts.append(
                HubFact(
                    fact_id=len(facts) + 1,
                    hub=Hub(code, loc.sub_icb_code, name, SEASON_START, end),
                    change=Change.SEED,
                    recorded_at=SEED_RECORDED_AT,
                    recorded_by="seed",
                )
            )
    return Register(localities, tuple(facts))


def hubs_of(register: Register) -> tuple[Hub, ...]:
    return tuple(f.hub for f in register.hub_facts)


def seed_national(engine: Engine, register: Register) -> None:
    """Load the synthetic register into a migrated warehouse as data (its localities and hubs)."""
    from surgehub.warehouse.db import writer
    from surgehub.warehouse.register import seed_register

    with writer(engine).begin() as connection:
        seed_register(connection, localities=register.localities, hubs=hubs_of(register), plans=[])


def text_frame(
    hubs: tuple[Hub, ...], rows: int = 1_000_000, seed: int = 2026, sub_icb_code: str | None = None
) -> pd.DataFrame:
    """``rows`` valid rows as the parsed text columns read.py builds (pandas "str" dtype + row_number).

    Rows run day by day over the hubs (every hub on day 1, then day 2, …). With ``sub_icb_code``, only
    that ICB's hubs are used (one locality's return).
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(seed)
    chosen = [h for h in hubs if sub_icb_code is None or h.sub_icb_code == sub_icb_code]
    if rows > len(chosen) * SEASON_DAYS:
        raise ValueError(f"{rows} rows need more than {len(chosen)} hubs × {SEASON_DAYS} days")
    index = np.arange(rows)
    hub_index = pa.array(index % len(chosen))
    day_index = index // len(chosen)
    days = np.datetime64(SEASON_START.isoformat()) + day_index.astype("timedelta64[D]")

    n = rows
    closed = rng.random(n) < 0.01
    open_ = ~closed
    planned = rng.integers(4, 11, n)
    delivered = np.where(open_, planned - (rng.random(n) < 0.05), 0)
    offered = np.where(open_, delivered * rng.integers(16, 23, n), 0)
    booked = np.floor(offered * 0.8).astype(np.int64)
    dna = np.floor(booked * rng.uniform(0.0, 0.12, n)).astype(np.int64)
    attended = booked - dna
    onward = np.floor(attended * rng.uniform(0.0, 0.12, n)).astype(np.int64)
    remote = np.floor(attended * rng.uniform(0.0, 0.33, n)).astype(np.int64)
    f2f = attended - remote
    nhs111 = np.floor(booked * rng.uniform(0.0, 0.3, n)).astype(np.int64)
    streaming = np.floor((booked - nhs111) * rng.uniform(0.0, 0.2, n)).astype(np.int64)
    other = np.floor((booked - nhs111 - streaming) * rng.uniform(0.0, 0.2, n)).astype(np.int64)
    practice = booked - nhs111 - streaming - other
    turned = np.where(open_ & (rng.random(n) < 0.02), rng.integers(1, 9, n), 0)
    needs_comment = (
        closed | (delivered < planned) | (dna * 10 > booked) | (onward * 10 > attended) | (turned > 0)
    )

    # Arrow all the way (casts, take, if_else): no million-element Python or NumPy string arrays, so the
    # generator's own peak memory stays below the validator's.
    def text(values: Any) -> Any:
        array = values if isinstance(values, pa.Array) else pa.array(values)
        return pd.array(array.cast(pa.string()), dtype="str")

    def choose(mask: Any, yes: str, no: str) -> Any:
        return text(pc.if_else(pa.array(mask), pa.scalar(yes), pa.scalar(no)))

    hours_other = pc.if_else(
        pa.array(delivered > 0),
        pc.binary_join_element_wise(pa.array(delivered * 2).cast(pa.string()), pa.scalar("25"), "."),
        pa.scalar("0"),
    )
    columns = {
        "activity_date": text(pa.array(days.astype("datetime64[D]"))),
        "sub_icb_code": text(pa.array([h.sub_icb_code for h in chosen]).take(hub_index)),
        "hub_code": text(pa.array([h.hub_code for h in chosen]).take(hub_index)),
        "hub_status": choose(closed, "CLOSED_PLANNED", "OPEN"),
        "sessions_planned": text(planned),
        "sessions_delivered": text(delivered),
        "gp_hours": text(delivered * 3),
        "other_clinician_hours": text(hours_other),
        "appts_offered": text(offered),
        "appts_booked": text(booked),
        "appts_attended": text(attended),
        "appts_dna": text(dna),
        "attended_f2f": text(f2f),
        "attended_remote": text(remote),
        "src_practice": text(practice),
        "src_nhs111": text(nhs111),
        "src_ed_streaming": text(streaming),
        "src_other": text(other),
        "onward_ed": text(onward),
        "patients_turned_away": text(turned),
        "comments": choose(needs_comment, "Explained: staffing and demand as discussed at huddle", ""),
        "signed_off_by": text(pa.array(["ICB urgent care lead"]).take(pa.array(np.zeros(n, dtype=np.int64)))),
    }
    frame = pd.DataFrame({name: columns[name] for name in spec.COLUMN_NAMES})
    frame.insert(0, "row_number", np.arange(1, n + 1))
    return frame


# -- the national burst: 42 ICBs × 10 areas, each area a locality with its own landing folder ----------

AREAS_PER_ICB = 10
#: The area letters: an area's code is its letter and its ICB's number (``A01`` … ``K42``). Letter-first
#: three-character codes are never real sub-ICB codes (those are two digits and a letter, as GM's
#: ``00T``…``14L``), and ``N`` (the ICB codes above) and ``I`` are left out, so nothing clashes.
AREA_LETTERS = "ABCDEFGHJK"


def area_codes(icbs: int = ICBS, areas: int = AREAS_PER_ICB) -> list[str]:
    """The areas' locality codes, ICB by ICB (``A01``, ``B01``, … ``K01``, ``A02``, …)."""
    if areas > len(AREA_LETTERS):
        raise ValueError(f"at most {len(AREA_LETTERS)} areas per ICB")
    return [f"{AREA_LETTERS[a]}{i:02d}" for i in range(1, icbs + 1) for a in range(areas)]


def build_area_register(icbs: int = ICBS, areas: int = AREAS_PER_ICB, hubs_per_area: int = 3) -> Register:
    """The national register by area: ``icbs × areas`` localities (420 by default), each with
    ``hubs_per_area`` hubs (``A01-H1`` …) active all season, recorded at the seed instant."""
    localities = tuple(
        Locality(code, f"Synthetic ICB N{code[1:]} area {code[0]}", code.lower())
        for code in area_codes(icbs, areas)
    )
    return _seeded(
        localities, hubs_per_area, lambda loc, i: (f"{loc.sub_icb_code}-H{i}", f"{loc.name} hub {i}")
    )


def contact_of(sub_icb_code: str) -> str:
    """The synthetic submitter address of a locality (the loopback SMTP server takes any address)."""
    return f"returns-{sub_icb_code.lower()}@national.example.nhs.uk"


def add_submitters(engine: Engine, register: Register, at: Any) -> None:
    """One submitter account per locality, as data (audited, as ``surgehub users add`` records one), so
    each locality's receipts have someone to go to."""
    from surgehub.accounts import Role
    from surgehub.warehouse.accounts import upsert_account

    for loc in register.localities:
        upsert_account(
            engine,
            email=contact_of(loc.sub_icb_code),
            roles=[(Role.SUBMITTER, loc.sub_icb_code)],
            display_name=f"{loc.name} returns",
            actor="bench",
            at=at,
            action="account.add",
            detail={"roles": [f"submitter:{loc.sub_icb_code}"]},
            only_if_new=True,
        )
