"""Synthetic returns that obey the specification, for the demo, tests and benchmarks (seeded, repeatable)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from surgehub import reference
from surgehub.spec import COLUMN_NAMES

if TYPE_CHECKING:
    import random
    from collections.abc import Iterable, Sequence
    from datetime import date

    from surgehub.register import Hub, RegisterView


@dataclass(frozen=True)
class Profile:
    """How a hub-day should look: drives the figures towards a RAG outcome."""

    capacity: float = 1.0  # sessions_delivered / sessions_planned
    utilisation: float = 0.80  # booked / offered
    dna_rate: float = 0.03
    onward_rate: float = 0.02
    turned_away: int = 0
    status: str = "OPEN"


GREEN = Profile()
AMBER = Profile(capacity=0.9, utilisation=0.90, dna_rate=0.06)
RED = Profile(capacity=0.85, utilisation=0.99, dna_rate=0.12, onward_rate=0.12, turned_away=7)
CLOSED_UNPLANNED = Profile(status="CLOSED_UNPLANNED")
CLOSED_PLANNED = Profile(status="CLOSED_PLANNED")


def hub_day_row(
    hub_code: str, day: date, rng: random.Random, profile: Profile = GREEN, *, hub: Hub | None = None
) -> dict[str, str]:
    """One valid row for a hub-day whose figures follow the profile; comments are added where R15 needs them.

    ``hub`` is the register's hub (default: the shipped register's ``hub_code``)."""
    if hub is None:
        hub = next(h for h in reference.shipped_hubs() if h.hub_code == hub_code)
    if profile.status != "OPEN":
        planned = rng.randint(4, 8)
        delivered = 0
        offered = 0
    else:
        planned = rng.randint(4, 10)
        delivered = max(0, min(planned, round(planned * profile.capacity)))
        offered = delivered * rng.randint(16, 22)
    booked = min(offered, round(offered * profile.utilisation))
    dna = min(booked, round(booked * profile.dna_rate))
    attended = booked - dna
    onward = min(attended, round(attended * profile.onward_rate))
    remote = rng.randint(0, attended // 3) if attended else 0
    f2f = attended - remote
    nhs111 = rng.randint(0, booked // 3) if booked else 0
    streaming = rng.randint(0, (booked - nhs111) // 4) if booked else 0
    other = rng.randint(0, (booked - nhs111 - streaming) // 5) if booked else 0
    practice = booked - nhs111 - streaming - other
    comments = []
    if profile.status == "CLOSED_PLANNED":
        comments.append("Planned closure (staff training afternoon)")
    if profile.status == "CLOSED_UNPLANNED":
        comments.append("Closed at short notice: building heating failure")
    if delivered < planned and profile.status == "OPEN":
        comments.append(f"{planned - delivered} session(s) unfilled: clinician sickness")
    if booked and dna / booked > 0.10:
        comments.append("High DNA rate; reminder texts failed overnight")
    if attended and onward / attended > 0.10:
        comments.append("Several frail patients needed onward care")
    if profile.turned_away:
        comments.append("Demand exceeded capacity by mid-morning")
    return {
        "activity_date": day.isoformat(),
        "sub_icb_code": hub.sub_icb_code,
        "hub_code": hub.hub_code,
        "hub_status": profile.status,
        "sessions_planned": str(planned),
        "sessions_delivered": str(delivered),
        "gp_hours": f"{delivered * 3}",
        "other_clinician_hours": f"{delivered * 2}.5" if delivered else "0",
        "appts_offered": str(offered),
        "appts_booked": str(booked),
        "appts_attended": str(attended),
        "appts_dna": str(dna),
        "attended_f2f": str(f2f),
        "attended_remote": str(remote),
        "src_practice": str(practice),
        "src_nhs111": str(nhs111),
        "src_ed_streaming": str(streaming),
        "src_other": str(other),
        "onward_ed": str(onward),
        "patients_turned_away": str(profile.turned_away if profile.status == "OPEN" else 0),
        "comments": "; ".join(comments),
        "signed_off_by": "Locality urgent care lead",
    }


def locality_rows(
    sub_icb_code: str,
    days: Iterable[date],
    rng: random.Random,
    profile: Profile = GREEN,
    *,
    register: RegisterView | None = None,
) -> list[dict[str, str]]:
    """Rows for every hub of a locality active on each day (in ``register``; default: as shipped)."""
    hubs = register.hubs if register is not None else reference.shipped_hubs()
    code = reference.normalise_code(sub_icb_code)
    return [
        hub_day_row(hub.hub_code, day, rng, profile, hub=hub)
        for day in days
        for hub in hubs
        if hub.sub_icb_code == code and hub.active_on(day)
    ]


def to_csv(rows: Sequence[dict[str, str]]) -> bytes:
    """A return file in the spec's column order, as a locality would export it (UTF-8, CRLF)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMN_NAMES), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
