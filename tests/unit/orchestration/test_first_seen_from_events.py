"""A run takes every file the watcher has announced, not only its own events' files, each with the
time the watcher first saw it (its receipt time, spec §4). That time is read from the landing asset's
latest events in one request; only a file not found there is looked up in the asset's state store
(one request each: in the national burst, ~40 ms of the single writer's time per file).

The two Airflow accessors are stood in for by plain objects holding what the watcher recorded; the
landing folder, the survey and the ingest's file list are real.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from surgehub.config import load_settings
from surgehub.landing import ensure_landing, survey
from surgehub.orchestration import tasks
from surgehub.resources import Resources

if TYPE_CHECKING:
    from pathlib import Path


class StateStore:
    """The landing asset's state store as the watcher left it: state key → first seen; counts lookups."""

    def __init__(self, entries: dict[str, str]) -> None:
        self.entries = entries
        self.lookups = 0

    def get(self, key: str, default: Any = None) -> Any:
        self.lookups += 1
        return self.entries.get(key, default)


class Events:
    """The landing asset's inlet events: newest first and limited, as the accessor is asked for them."""

    def __init__(self, payloads: list[dict[str, Any]], *, broken: bool = False) -> None:
        self.payloads = payloads  # oldest first, as announced
        self.broken = broken
        self.asked: tuple[bool, int] | None = None
        self._ascending = True

    def ascending(self, ascending: bool = True) -> Events:
        self._ascending = ascending
        return self

    def limit(self, limit: int) -> list[SimpleNamespace]:
        if self.broken:
            raise ConnectionError("the API server did not answer")
        self.asked = (self._ascending, limit)
        ordered = self.payloads if self._ascending else list(reversed(self.payloads))
        return [SimpleNamespace(extra={"payload": p}) for p in ordered[:limit]]


def landed(surgehub_home: Path, names: list[str]) -> list[Any]:
    settings = load_settings()
    ensure_landing(settings.landing_dir)
    for name in names:
        (settings.landing_dir / "00T" / name).write_bytes(name.encode())
    time.sleep(0.01)
    return survey(settings.landing_dir).files


def announced(file: Any, first_seen: str) -> dict[str, Any]:
    return {
        "path": str(file.path),
        "locality": file.locality,
        "size": file.size,
        "mtime_ns": file.mtime_ns,
        "first_seen": first_seen,
    }


def test_first_seen_times_come_from_the_latest_events_in_one_request(surgehub_home: Path) -> None:
    a, b, c = landed(surgehub_home, ["a.csv", "b.csv", "c.csv"])
    state = StateStore({f.state_key: f"2026-11-25T08:0{i}:00+00:00" for i, f in enumerate((a, b, c))})
    events = Events([announced(a, "2026-11-25T08:00:00+00:00"), announced(b, "2026-11-25T08:01:00+00:00")])
    # A run triggered by a's event: b was announced in another run's event, c's event is too old to read.
    context = {
        "triggering_asset_events": {
            "landing": [SimpleNamespace(extra={"payload": announced(a, "2026-11-25T08:00:00+00:00")})]
        }
    }
    files = tasks.files_from_context(context, Resources.from_env(), state, events)
    got = {f["path"].rsplit("/", 1)[1]: f["received_at"] for f in files}
    assert got == {
        "a.csv": "2026-11-25T08:00:00+00:00",
        "b.csv": "2026-11-25T08:01:00+00:00",
        "c.csv": "2026-11-25T08:02:00+00:00",
    }
    assert events.asked == (False, 2 * 2 + 100)  # the newest events, once (for b and c)
    assert state.lookups == 1  # c alone


def test_a_file_never_announced_is_not_taken_and_a_rewritten_file_is_not_its_old_self(
    surgehub_home: Path,
) -> None:
    a, b = landed(surgehub_home, ["a.csv", "b.csv"])
    old_b = announced(b, "2026-11-25T07:00:00+00:00") | {"size": b.size + 1}  # an earlier version of b
    state = StateStore({})
    context = {
        "triggering_asset_events": {
            "landing": [SimpleNamespace(extra={"payload": announced(a, "2026-11-25T08:00:00+00:00")})]
        }
    }
    files = tasks.files_from_context(context, Resources.from_env(), state, Events([old_b]))
    assert [f["path"].rsplit("/", 1)[1] for f in files] == ["a.csv"]
    assert state.lookups == 1  # b was looked for, and is not announced: left for its own event


def test_events_that_cannot_be_read_fall_back_to_the_state_store(surgehub_home: Path) -> None:
    a, b = landed(surgehub_home, ["a.csv", "b.csv"])
    state = StateStore({b.state_key: "2026-11-25T08:01:00+00:00"})
    context = {
        "triggering_asset_events": {
            "landing": [SimpleNamespace(extra={"payload": announced(a, "2026-11-25T08:00:00+00:00")})]
        }
    }
    files = tasks.files_from_context(context, Resources.from_env(), state, Events([], broken=True))
    assert {f["path"].rsplit("/", 1)[1]: f["received_at"] for f in files} == {
        "a.csv": "2026-11-25T08:00:00+00:00",
        "b.csv": "2026-11-25T08:01:00+00:00",
    }
    assert state.lookups == 1
