"""A fixed digest timeline, 18–25 Nov 2026, loaded through the one ingest entry point with sample returns.

What it holds (the digest tests rely on each of these):

- Every locality sends each day's return at 09:00 the next calendar day (on time), except below.
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
from datetime import date, datetime, timedelta
from pathlib import Path

from surgehub import reference, sample
from surgehub.clock import LONDON
from surgehub.config import Settings
from surgehub.ingest import IncomingReturn, ingest_returns
from surgehub.warehouse.db import get_engine, upgrade

FIRST_DAY = date(2026, 11, 18)
LAST_DAY = date(2026, 11, 25)
BOARD_AT = datetime(2026, 11, 26, 7, 30, tzinfo=LONDON)
PREVIOUS_BOARD_AT = datetime(2026, 11, 23, 7, 30, tzinfo=LONDON)

HOSTILE_START = '<script>alert("x")</script> =HYPERLINK("http://evil.example/","click") '
HOSTILE_COMMENT = (
    HOSTILE_START
    + "Zoë’s team — café in Wythenshawe shut; 患者 waited ✓ "
    + "Demand exceeded capacity by mid-morning. " * 30
)[:990]


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


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


def _received(code: str, day: date) -> datetime:
    if code == "01G" and day == date(2026, 11, 24):
        return london(2026, 11, 25, 12, 0)
    following = day + timedelta(days=1)
    return london(following.year, following.month, following.day, 9, 0)


def load_timeline(settings: Settings, folder: Path, *, last_day: date = LAST_DAY) -> None:
    """Migrate the warehouse and ingest every return of the timeline (raises if any is not accepted)."""
    upgrade(settings.warehouse_url)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261126)
    items: list[IncomingReturn] = []
    for day in _days(FIRST_DAY, last_day):
        for loc in reference.localities():
            code = loc.sub_icb_code
            if _skip(code, day):
                continue
            rows = sample.locality_rows(code, [day], rng, _profile(code, day))
            if code == "02H" and day == date(2026, 11, 24):
                for row in rows:
                    row["comments"] = HOSTILE_COMMENT
            path = folder / f"{code}_{day}.csv"
            path.write_bytes(sample.to_csv(rows))
            items.append(IncomingReturn(path, code, "cli", _received(code, day)))
    # Revisions after the Mon 23 digest: Stockport revises Thu 19, Trafford fills its Thu 19 gap.
    late = london(2026, 11, 24, 10, 0)
    revised = sample.locality_rows("01W", [date(2026, 11, 19)], rng, sample.AMBER)
    revised[0]["comments"] = "Revised: earlier return double-counted sessions"
    path = folder / "01W_2026-11-19_v2.csv"
    path.write_bytes(sample.to_csv(revised))
    items.append(IncomingReturn(path, "01W", "cli", late))
    filled = sample.locality_rows("02A", [date(2026, 11, 19)], rng, sample.GREEN)
    path = folder / "02A_2026-11-19.csv"
    path.write_bytes(sample.to_csv(filled))
    items.append(IncomingReturn(path, "02A", "cli", late))
    items.sort(key=lambda item: item.received_at)
    outcomes = ingest_returns(items, settings=settings, engine=get_engine(settings.warehouse_url))
    problems = [
        f"{item.path.name}: {outcome.error or [e.to_dict() for e in outcome.validation.errors]}"
        for item, outcome in zip(items, outcomes, strict=True)
        if outcome.error or outcome.validation is None or outcome.validation.status != "accepted"
    ]
    if problems:
        raise AssertionError("timeline returns not accepted: " + "; ".join(problems))
