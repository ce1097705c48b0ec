"""Pause points hold a task only while they are armed, and cost nothing when SURGEHUB_PAUSE_DIR is unset."""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import TYPE_CHECKING

from surgehub.orchestration import pause
from surgehub.orchestration.pause import pause_point

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def test_returns_at_once_when_pause_points_are_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pause.PAUSE_DIR_ENV, raising=False)
    started = time.perf_counter()
    for _ in range(10_000):
        pause_point("ingest.after_load")
    assert time.perf_counter() - started < 0.5


def test_returns_at_once_when_the_point_is_not_armed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pause.PAUSE_DIR_ENV, str(tmp_path))
    pause_point("ingest.after_load")
    assert list(tmp_path.iterdir()) == []


def test_waits_while_armed_says_where_and_goes_on_when_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(pause.PAUSE_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(pause, "POLL_SECONDS", 0.01)
    armed = tmp_path / "ingest.after_load"
    armed.touch()
    done = threading.Event()
    waiter = threading.Thread(target=lambda: (pause_point("ingest.after_load"), done.set()))
    waiter.start()
    reached = tmp_path / "ingest.after_load.reached"
    deadline = time.monotonic() + 5
    while not reached.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert reached.read_text().split() == [socket.gethostname(), str(os.getpid())]
    assert not done.wait(0.1), "returned while still armed"
    armed.unlink()
    assert done.wait(5), "still waiting after the point was released"
    waiter.join()


def test_a_forgotten_pause_point_lets_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pause.PAUSE_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(pause, "POLL_SECONDS", 0.01)
    monkeypatch.setattr(pause, "MAX_WAIT_SECONDS", 0.05)
    (tmp_path / "ingest.after_load").touch()
    pause_point("ingest.after_load")
    assert (tmp_path / "ingest.after_load.reached").exists()
