"""A locality recorded in the warehouse's register as data (issue 19; issue 20's national burst) is a
channel with no release: its landing folder is made, watched and taken from, and its return is judged
against the register and acknowledged to its submitters. Before it is recorded, its folder is just an
unfiled entry in the landing root, never taken."""

from __future__ import annotations

import asyncio
import os
import random
import time
from datetime import date
from typing import TYPE_CHECKING

import pytest
from landing_trigger import LandingZoneTrigger

from surgehub import clock, sample
from surgehub.accounts import Role
from surgehub.config import load_settings
from surgehub.landing import ensure_landing, survey
from surgehub.mail.receipts import receipt_mails
from surgehub.orchestration import tasks
from surgehub.register import SEED_RECORDED_AT, Hub, Locality
from surgehub.resources import Resources
from surgehub.warehouse.accounts import upsert_account
from surgehub.warehouse.db import ensure_warehouse, get_engine, writer
from surgehub.warehouse.register import locality_codes, read_register, seed_register

if TYPE_CHECKING:
    from pathlib import Path

DAY = date(2026, 11, 24)
AREA = Locality("A07", "Synthetic ICB N07 area A", "a07")
HUBS = tuple(Hub(f"A07-H{i}", "A07", f"Area hub {i}", date(2026, 11, 1), date(2027, 3, 31)) for i in (1, 2))
SUBMITTER = "returns-a07@national.example.nhs.uk"


@pytest.fixture
def landing(surgehub_home: Path) -> Path:
    settings = load_settings()
    ensure_landing(settings.landing_dir)
    ensure_warehouse(get_engine(settings.warehouse_url))
    return settings.landing_dir


def record_area() -> None:
    engine = get_engine(load_settings().warehouse_url)
    with writer(engine).begin() as connection:
        seed_register(connection, localities=(AREA,), hubs=HUBS, plans=[])
    upsert_account(
        engine,
        email=SUBMITTER,
        roles=[(Role.SUBMITTER, AREA.sub_icb_code)],
        display_name=None,
        actor="test",
        at=SEED_RECORDED_AT,
        action="account.add",
        detail={},
    )


def area_return() -> bytes:
    view = read_register(get_engine(load_settings().warehouse_url)).latest()
    rows = sample.locality_rows(AREA.sub_icb_code, [DAY], random.Random(7), register=view)
    assert {r["hub_code"] for r in rows} == {"A07-H1", "A07-H2"}
    return sample.to_csv(rows)


def drop_complete(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    then = time.time() - 60  # complete: a manual run takes it at once
    os.utime(path, (then, then))


def manual_run() -> dict[str, object]:
    resources = Resources.from_env()
    return tasks.ingest_files(tasks.files_from_context({}, resources), resources)


def test_an_unrecorded_localitys_folder_is_unfiled_and_never_taken(landing: Path) -> None:
    (landing / "A07").mkdir()
    drop_complete(landing / "A07" / "a07.csv", b"sub_icb_code\r\nA07\r\n")
    assert locality_codes(get_engine(load_settings().warehouse_url)) >= {"00T", "14L"}
    found = survey(landing, locality_codes(get_engine(load_settings().warehouse_url)))
    assert found.files == []
    assert found.unfiled == ["A07"]
    assert manual_run()["submissions"] == []
    assert (landing / "A07" / "a07.csv").exists()


def test_a_locality_recorded_as_data_is_taken_judged_and_acknowledged(landing: Path) -> None:
    record_area()
    engine = get_engine(load_settings().warehouse_url)
    assert "A07" in locality_codes(engine)
    ensure_landing(landing, locality_codes(engine))
    drop_complete(landing / "A07" / "a07-24nov.csv", area_return())
    assert survey(landing, locality_codes(engine)).unfiled == []
    result = manual_run()
    [entry] = result["submissions"]  # type: ignore[misc]
    assert entry["status"] == "accepted", entry
    assert (landing / "A07" / "processed" / "a07-24nov.csv").exists()
    [mail] = receipt_mails(engine, [entry["submission_id"]], load_settings())
    assert mail.recipient == SUBMITTER


def test_no_warehouse_means_the_shipped_localities_and_none_is_made(tmp_path: Path) -> None:
    database = tmp_path / "none" / "warehouse.sqlite"
    assert locality_codes(get_engine(f"sqlite:///{database}")) == frozenset()
    assert not database.exists()


def test_the_watcher_announces_a_file_in_a_locality_recorded_as_data(landing: Path) -> None:
    record_area()
    ensure_landing(landing, locality_codes(get_engine(load_settings().warehouse_url)))
    target = landing / "A07" / "a07-24nov.csv"

    async def first_event() -> dict:
        trigger = LandingZoneTrigger(str(landing), poll_interval=0.1, quiet_seconds=0.1)
        events = trigger.run()
        drop_complete(target, area_return())
        event = await asyncio.wait_for(anext(events), timeout=10)
        return event.payload

    payload = asyncio.run(first_event())
    assert payload["path"] == str(target)
    assert payload["locality"] == "A07"
    assert clock.parse_instant(payload["first_seen"])
