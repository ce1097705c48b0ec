"""A fixed digest timeline, 19–24 Nov 2026, loaded through the one ingest entry point with sample returns.

What it holds (the digest tests rely on each of these):

- Every locality sends its returns on time at 09:00 (Thu 19 on Fri 20; Fri 20 to Sun 22 in one
  Monday return; Mon 23 on Tue 24; Tue 24 on Wed 25), except below. Wed 25 has no return yet.
- Bolton (00T) is Red level 3 on Tue 24 Nov (figures), Green before: "worse" since the Mon 23 digest.
- Bury (00V) closed unplanned on Mon 23 Nov: Red level 4.
- Manchester (14L) is Amber every day.
- Oldham (00Y) sends nothing for Mon 23 and Tue 24: no return, escalated on the 24th.
- Salford (01G) sends Tue 24 late (Wed 25 at 12:00, after the 11:00 deadline).
- Stockport (01W) revises Thu 19 Nov (sent before, in the Mon 23 digest) on Tue 24 at 10:00.
- Trafford (02A) sent no return for Thu 19 by the Mon 23 digest, and sends it on Tue 24 at 10:00.
- Wigan (02H) is Red on Tue 24 with hostile comments: markup, a spreadsheet formula, 990
  characters, non-ASCII.
"""

from __future__ import annotations

import random
from datetime import date, datetime
from typing import TYPE_CHECKING

import pytest

from surgehub import reference, sample
from surgehub.config import load_settings
from surgehub.ingest import Channel, IncomingReturn, ingest_returns
from surgehub.resources import Resources
from surgehub.warehouse.db import get_engine, upgrade
from tests.support.returns import exported_csv, locality_rows
from tests.support.timeline import TIMELINE_NOW, london

if TYPE_CHECKING:
    from pathlib import Path

    from surgehub.config import Settings

#: The ten localities as the digest names them, in register order (written out: the expected answer).
LOCALITY_NAMES = [
    "Bolton",
    "Bury",
    "Heywood, Middleton and Rochdale",
    "Manchester",
    "Oldham",
    "Salford",
    "Stockport",
    "Tameside and Glossop",
    "Trafford",
    "Wigan Borough",
]

HOSTILE_START = '<script>alert("x")</script> =HYPERLINK("http://evil.example/","click") '
HOSTILE_COMMENT = (
    HOSTILE_START
    + "Zoë’s team — café in Wythenshawe shut; 患者 waited ✓ "
    + "Demand exceeded capacity by mid-morning. " * 30
)[:990]


def _profile(code: str, day: date) -> sample.Profile:
    if code == "00T" and day == date(2026, 11, 24):
        return sample.RED
    if code == "02H" and day == date(2026, 11, 24):
        return sample.RED
    if code == "00V" and day == date(2026, 11, 23):
        return sample.CLOSED_UNPLANNED
    if code == "14L":
        return sample.AMBER
    return sample.GREEN


def _skip(code: str, day: date) -> bool:
    if code == "00Y" and day in {date(2026, 11, 23), date(2026, 11, 24)}:
        return True
    return code == "02A" and day == date(2026, 11, 19)


#: The returns each locality sends: (activity days, receipt time). The weekend comes in one Monday return.
BATCHES: tuple[tuple[tuple[date, ...], datetime], ...] = (
    ((date(2026, 11, 19),), london(2026, 11, 20, 9, 0)),
    ((date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)), london(2026, 11, 23, 9, 0)),
    ((date(2026, 11, 23),), london(2026, 11, 24, 9, 0)),
    ((date(2026, 11, 24),), london(2026, 11, 25, 9, 0)),
)
SALFORD_LATE = london(2026, 11, 25, 12, 0)
REVISED_AT = london(2026, 11, 24, 10, 0)


def load_timeline(settings: Settings, folder: Path) -> None:
    """Migrate the warehouse and ingest every return of the timeline (raises if any is not accepted)."""
    upgrade(settings.warehouse_url)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261126)
    items: list[IncomingReturn] = []

    def add(code: str, rows: list[dict[str, str]], received_at: datetime, name: str) -> None:
        path = folder / f"{code}_{name}.csv"
        path.write_bytes(exported_csv(rows))
        items.append(IncomingReturn(path=path, locality=code, channel=Channel.CLI, received_at=received_at))

    for days, received_at in BATCHES:
        for loc in reference.localities():
            code = loc.sub_icb_code
            rows = [
                row
                for day in days
                if not _skip(code, day)
                for row in locality_rows(code, [day], rng, _profile(code, day))
            ]
            if not rows:
                continue
            for row in rows:
                if code == "02H" and row["activity_date"] == "2026-11-24":
                    row["comments"] = HOSTILE_COMMENT
            late = code == "01G" and days == (date(2026, 11, 24),)
            add(code, rows, SALFORD_LATE if late else received_at, days[0].isoformat())
    # Revisions after the Mon 23 digest: Stockport revises Thu 19, Trafford fills its Thu 19 gap.
    revised = locality_rows("01W", [date(2026, 11, 19)], rng, sample.AMBER)
    revised[0]["comments"] = "Revised: earlier return double-counted sessions"
    add("01W", revised, REVISED_AT, "2026-11-19_v2")
    add(
        "02A",
        locality_rows("02A", [date(2026, 11, 19)], rng, sample.GREEN),
        REVISED_AT,
        "2026-11-19_late",
    )
    items.sort(key=lambda item: item.received_at)
    outcomes = ingest_returns(items, Resources.of(settings, engine=get_engine(settings.warehouse_url)))
    problems = [
        f"{item.path.name}: {outcome.error or [e.to_dict() for e in outcome.validation.errors]}"[:300]
        for item, outcome in zip(items, outcomes, strict=True)
        if outcome.error or outcome.validation is None or outcome.validation.status != "accepted"
    ]
    if problems:
        raise AssertionError("timeline returns not accepted: " + "; ".join(problems))


_LOADED: dict[Path, Settings] = {}


def timeline_settings(root: Path, warehouse_url: str | None = None) -> Settings:
    """Settings whose warehouse (SQLite under ``root``, or ``warehouse_url``) holds the timeline; loaded once."""
    root = root.resolve()
    if root not in _LOADED:
        env = {"SURGEHUB_HOME": str(root / "var")}
        if warehouse_url:
            env["SURGEHUB_WAREHOUSE_URL"] = warehouse_url
        settings = load_settings(env)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SURGEHUB_NOW", TIMELINE_NOW.isoformat())
            load_timeline(settings, root / "returns")
        _LOADED[root] = settings
    return _LOADED[root]


def with_raw(settings: Settings, **sections: dict) -> Settings:
    """A copy of ``settings`` with some configuration sections merged over (e.g. email, schedule)."""
    return settings.overridden(sections)
