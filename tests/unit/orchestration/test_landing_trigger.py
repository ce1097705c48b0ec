"""The landing-zone trigger: its poll interval comes from SURGEHUB_LANDING_POLL_SECONDS (1 s by default),
and however short the poll, a file is announced only once it has held still across one poll."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest
from landing_trigger import LandingZoneTrigger

from surgehub.landing import ensure_landing
from surgehub.orchestration.dag_support import landing_poll_seconds

if TYPE_CHECKING:
    from pathlib import Path


def test_the_poll_is_one_second_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SURGEHUB_LANDING_POLL_SECONDS", raising=False)
    assert landing_poll_seconds() == 1.0
    monkeypatch.setenv("SURGEHUB_LANDING_POLL_SECONDS", "2.5")
    assert landing_poll_seconds() == 2.5
    for bad in ("0", "-1", "0.05", "soon", "nan", "600"):
        monkeypatch.setenv("SURGEHUB_LANDING_POLL_SECONDS", bad)
        with pytest.raises(ValueError, match="SURGEHUB_LANDING_POLL_SECONDS"):
            landing_poll_seconds()


def test_the_trigger_carries_its_poll_interval() -> None:
    classpath, kwargs = LandingZoneTrigger("/landing", poll_interval=0.5).serialize()
    assert classpath == "landing_trigger.LandingZoneTrigger"
    assert kwargs == {"landing_dir": "/landing", "poll_interval": 0.5, "quiet_seconds": 10.0}
    assert LandingZoneTrigger("/landing").poll_interval == 1.0


def test_a_file_still_being_written_is_announced_only_once_it_holds_still(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    ensure_landing(landing)
    target = landing / "14L" / "slow-writer.csv"
    poll = 0.1

    async def scenario() -> tuple[dict, float, float]:
        trigger = LandingZoneTrigger(str(landing), poll_interval=poll, quiet_seconds=poll)
        events = trigger.run()
        target.write_bytes(b"a")

        async def slow_writer() -> float:
            for _ in range(15):  # a chunk every poll/5: never still across a poll
                await asyncio.sleep(poll / 5)
                with target.open("ab") as handle:
                    handle.write(b"b")
            return time.monotonic()

        writing = asyncio.create_task(slow_writer())
        event = await asyncio.wait_for(anext(events), timeout=10)
        announced = time.monotonic()
        last_write = await writing
        with pytest.raises(TimeoutError):  # announced once, not again on later polls
            await asyncio.wait_for(anext(events), timeout=5 * poll)
        await events.aclose()
        return event.payload, announced, last_write

    payload, announced, last_write = asyncio.run(scenario())
    assert announced >= last_write + poll * 0.9  # after the last write, and a whole poll after it
    assert payload["path"] == str(target)
    assert payload["locality"] == "14L"
    assert payload["size"] == 16 == target.stat().st_size  # the whole file, never half of it
