"""Many returns in one ingest call (a backfill chunk, an ingest run), on SQLite and PostgreSQL alike.

The call keeps every file first, makes them durable together, then loads each in its own transaction,
in order (surgehub.ingest). What must hold: every file is durable before any of them is loaded; a
failure to make them durable loads none; a later return sees what the earlier ones loaded (W05, a
duplicate, a replay); and the call gives the same answers as the returns ingested one at a time.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from surgehub import archive
from surgehub.config import load_settings
from surgehub.ingest import Channel, IncomingReturn, IngestOutcome, ingest_returns
from surgehub.resources import Resources
from tests.support.returns import csv_bytes, hub_row
from tests.support.timeline import DAY, RECEIVED_AT
from tests.support.warehouse import count

if TYPE_CHECKING:
    from datetime import date, datetime
    from pathlib import Path

    from sqlalchemy import Engine


def _item(home: Path, name: str, data: bytes, received: datetime, locality: str = "14L") -> IncomingReturn:
    path = home / "incoming" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return IncomingReturn(path=path, locality=locality, channel=Channel.BACKFILL, received_at=received)


def _day_return(home: Path, day: date, offered: int = 100) -> IncomingReturn:
    """14L-H1's return for ``day``, received at 09:00 the next morning (on time)."""
    data = csv_bytes([hub_row("14L-H1", day, appts_offered=offered)])
    received = RECEIVED_AT - timedelta(days=(DAY - day).days)
    return _item(home, f"h1-{day.isoformat()}.csv", data, received)


def _ingest(items: list[IncomingReturn], engine: Engine) -> list[IngestOutcome]:
    return ingest_returns(items, Resources.of(load_settings(), engine=engine))


def _archived(home: Path) -> list[Path]:
    root = load_settings().archive_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_every_file_is_durable_before_any_is_loaded(
    surgehub_home: Path, warehouse: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [_day_return(surgehub_home, DAY - timedelta(days=n)) for n in range(8)]
    assert len(items) > archive.SYNC_EACH_UP_TO  # one syncfs for the lot
    seen: list[tuple[int, int]] = []
    real_sync = archive.KeptTogether.sync

    def sync(self: archive.KeptTogether) -> None:
        seen.append((count(warehouse, "select count(*) from submission"), len(_archived(surgehub_home))))
        real_sync(self)

    monkeypatch.setattr(archive.KeptTogether, "sync", sync)
    outcomes = _ingest(items, warehouse)
    assert [o.status for o in outcomes] == ["accepted"] * 8
    assert seen == [(0, 16)]  # each file and its receipt record kept, nothing loaded yet
    assert count(warehouse, "select count(*) from submission") == 8


def test_when_the_files_cannot_be_made_durable_none_is_loaded_or_kept(
    surgehub_home: Path, warehouse: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [_day_return(surgehub_home, DAY - timedelta(days=n)) for n in range(6)]
    monkeypatch.setattr(archive, "_syncfs", lambda: lambda _fd: -1)  # e.g. a write-back error (EIO)
    outcomes = _ingest(items, warehouse)
    assert [o.status for o in outcomes] == ["error"] * 6
    assert all("durable" in (o.error or "") for o in outcomes)
    assert count(warehouse, "select count(*) from submission") == 0
    assert _archived(surgehub_home) == []
    monkeypatch.undo()
    assert [o.status for o in _ingest(items, warehouse)] == ["accepted"] * 6  # retried: all loaded


def test_a_few_files_are_flushed_one_by_one(
    surgehub_home: Path, warehouse: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [_day_return(surgehub_home, DAY - timedelta(days=n)) for n in range(2)]
    monkeypatch.setattr(archive, "_syncfs", lambda: pytest.fail("syncfs for two files"))
    assert [o.status for o in _ingest(items, warehouse)] == ["accepted"] * 2


def test_w05_in_one_call_sees_the_returns_loaded_before_it(surgehub_home: Path, warehouse: Engine) -> None:
    """Ten days of 100 offered, then 400 (> 3 × the median): the spike is W05 only because the ten
    returns before it in the same call were loaded first."""
    history = [_day_return(surgehub_home, DAY - timedelta(days=n)) for n in range(10, 0, -1)]
    spike = _day_return(surgehub_home, DAY, offered=400)
    *loaded, judged = _ingest([*history, spike], warehouse)
    assert [o.status for o in loaded] == ["accepted"] * 10
    assert all("W05" not in o.validation.totals for o in loaded)
    assert judged.status == "accepted"
    assert judged.validation.totals.get("W05") == 1
    with warehouse.connect() as connection:
        from sqlalchemy import text

        stored = connection.execute(
            text("select warnings from hub_day_version where submission_id = :id"),
            {"id": judged.submission_id},
        ).scalar_one()
    assert "W05" in str(stored)


def test_the_same_bytes_twice_in_one_call_are_a_duplicate_and_the_same_receipt_a_replay(
    surgehub_home: Path, warehouse: Engine
) -> None:
    data = csv_bytes([hub_row("14L-H1", DAY)])
    first = _item(surgehub_home, "a.csv", data, RECEIVED_AT)
    resent = _item(surgehub_home, "a-again.csv", data, RECEIVED_AT + timedelta(minutes=5))
    other = _item(surgehub_home, "b.csv", csv_bytes([hub_row("14L-H2", DAY)]), RECEIVED_AT)
    outcomes = _ingest([first, other, first, resent], warehouse)
    assert [(o.status, o.duplicate, o.replayed) for o in outcomes] == [
        ("accepted", False, False),
        ("accepted", False, False),
        ("accepted", True, True),  # the same receipt: a replay of the first
        ("accepted", True, False),  # the same bytes later: a duplicate of the first
    ]
    assert outcomes[2].submission_id == outcomes[3].submission_id == outcomes[0].submission_id
    assert count(warehouse, "select count(*) from submission") == 2
    assert count(warehouse, "select count(*) from hub_day_version") == 2


def test_one_call_answers_as_the_returns_ingested_one_at_a_time(
    surgehub_home: Path, warehouse: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small season (every GM locality, 12 days) plus a spike, a rejected return and a revision, in
    one call into this warehouse and one at a time into another: the same answers and versions."""
    from bench.season import season_days, write_season_archive
    from surgehub.warehouse.db import get_engine, upgrade

    source = tmp_path / "season"
    write_season_archive(source, season_days()[:12])
    items = [
        IncomingReturn(
            path=path,
            locality=receipt.locality,
            channel=Channel.BACKFILL,
            received_at=receipt.received_at,
            file_name=receipt.file_name,
        )
        for receipt, path in archive.entries(source)
    ]
    later = RECEIVED_AT + timedelta(minutes=1)
    extra = [
        _item(surgehub_home, "h1.csv", csv_bytes([hub_row("14L-H1", DAY)]), RECEIVED_AT),
        _item(surgehub_home, "rejected.csv", csv_bytes([hub_row("14L-H1", DAY, appts_booked=150)]), later),
        _item(
            surgehub_home,
            "revised.csv",
            csv_bytes([hub_row("14L-H1", DAY, appts_booked=81, src_other=6)]),
            later,
        ),
        _item(surgehub_home, "padded.csv", csv_bytes([_padded_row()]), later + timedelta(minutes=1)),
    ]
    together = _ingest([*items, *extra], warehouse)

    alone_home = tmp_path / "alone"
    monkeypatch.setenv("SURGEHUB_HOME", str(alone_home))
    monkeypatch.delenv("SURGEHUB_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("SURGEHUB_ARCHIVE_DIR", raising=False)
    settings = load_settings()
    alone_engine = upgrade(get_engine(settings.warehouse_url))
    alone = [
        ingest_returns([item], Resources.of(settings, engine=alone_engine))[0] for item in [*items, *extra]
    ]

    def answer(o: IngestOutcome) -> tuple[object, ...]:
        return (o.status, o.duplicate, o.replayed, o.validation.to_json_dict())

    assert [answer(o) for o in together] == [answer(o) for o in alone]
    from surgehub.warehouse import load

    stored = [name for name in load.ROW_COLUMNS if name not in {"hub_code", "activity_date"}]
    query = (  # every value a version stores: the batch's rows converted at once, the others alone
        f"select v.hub_code, v.activity_date, v.version, v.is_current, {', '.join(stored)} "
        "from hub_day_version v order by v.hub_code, v.activity_date, v.version"
    )
    with warehouse.connect() as a, alone_engine.connect() as b:
        from sqlalchemy import text

        rows_together = [_plain(r) for r in a.execute(text(query))]
        rows_alone = [_plain(r) for r in b.execute(text(query))]
    assert rows_together == rows_alone
    assert len(rows_together) > 100


def _padded_row() -> dict[str, object]:
    """A row with codes to trim and upper-case, a blank comment and a padded sign-off."""
    row = hub_row("14L-H2", DAY, comments="   ", signed_off_by="  A. Lead ", hub_status=" open")
    row.update(hub_code=" 14l-h2 ", sub_icb_code="14l ")
    return row


def _plain(row: object) -> tuple[object, ...]:
    """A version row as plain values, the same from either backend."""
    import json
    from decimal import Decimal

    from surgehub import spec

    values = dict(row._mapping)  # type: ignore[attr-defined]
    for name, value in values.items():
        if name == "warnings":
            values[name] = json.loads(value) if isinstance(value, str) else value
        elif name == "activity_date":
            values[name] = str(value)[:10]
        elif name == "is_current":
            values[name] = bool(value)
        elif name in spec.DECIMAL_COLUMNS:
            values[name] = Decimal(str(value)).quantize(Decimal("0.01"))
        elif isinstance(value, int | Decimal):
            values[name] = int(value)
    return tuple(values.items())


def test_the_one_replay_and_duplicate_query_answers_as_the_two_queries_did(warehouse: Engine) -> None:
    """`receipt_or_original` against `receipt_of` then `accepted_original`, over receipts that are
    replays (of accepted and rejected returns), resends of accepted bytes, and neither."""
    from datetime import UTC

    from surgehub.warehouse import submissions
    from tests.support.warehouse import record_submission

    t = RECEIVED_AT.astimezone(UTC)
    a, b, c = "a" * 64, "b" * 64, "c" * 64
    recorded = [  # (locality, sha256, received, outcome)
        ("14L", a, t, "rejected"),
        ("14L", a, t + timedelta(hours=2), "accepted"),
        ("14L", a, t + timedelta(hours=1), "accepted"),  # recorded later, received earlier: the original
        ("00T", a, t + timedelta(minutes=30), "accepted"),
        ("14L", b, t, "rejected"),
        ("14L", c, t + timedelta(hours=1), "accepted"),
    ]
    with warehouse.begin() as connection:
        for locality, sha256, received, outcome in recorded:
            record_submission(
                connection, sub_icb_code=locality, sha256=sha256, received_at=received, outcome=outcome
            )
    instants = [t + timedelta(minutes=m) for m in (-60, 0, 30, 60, 120, 180)]
    checked = {"replay": 0, "original": 0, "neither": 0}
    for locality in ("14L", "00T", "00V"):
        for sha256 in (a, b, c, "d" * 64):
            for received in instants:
                replay, original = submissions.receipt_or_original(warehouse, locality, sha256, received)
                was_replay = submissions.receipt_of(warehouse, locality, sha256, received)
                was_original = (
                    None
                    if was_replay is not None
                    else submissions.accepted_original(warehouse, locality, sha256)
                )
                ids = [None if r is None else r.submission_id for r in (replay, original)]
                assert ids == [None if r is None else r.submission_id for r in (was_replay, was_original)]
                if replay is not None:
                    assert (replay.outcome, replay.received_at) == (
                        was_replay.outcome,
                        was_replay.received_at,
                    )  # type: ignore[union-attr]
                checked["replay" if replay else "original" if original else "neither"] += 1
    assert all(checked.values()), checked


def test_what_another_run_records_while_a_call_is_running_is_seen_by_its_later_returns(
    surgehub_home: Path, warehouse: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replay and duplicate checks read the warehouse for each return, never a copy kept for the
    call: another run recording a later return's receipt (or its bytes, received earlier) between two
    returns' checks makes it a replay (a duplicate)."""
    import surgehub.ingest as ingest_module

    first = _day_return(surgehub_home, DAY - timedelta(days=2))
    replayed = _day_return(surgehub_home, DAY - timedelta(days=1))
    data = csv_bytes([hub_row("14L-H2", DAY)])
    sent_before = _item(surgehub_home, "h2.csv", data, RECEIVED_AT)
    resent = _item(surgehub_home, "h2-again.csv", data, RECEIVED_AT + timedelta(hours=1))

    real_judge = ingest_module.judge_received
    other: list[list[IngestOutcome]] = []

    def judge_then_let_another_run_in(*args: object, **kwargs: object) -> object:
        if not other:  # while the first return is judged: another run records two receipts
            other.append([])
            other[0] = _ingest([replayed, sent_before], warehouse)
        return real_judge(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest_module, "judge_received", judge_then_let_another_run_in)
    outcomes = _ingest([first, replayed, resent], warehouse)
    [by_other_replayed, by_other_sent] = other[0]
    assert [(o.status, o.duplicate) for o in other[0]] == [("accepted", False)] * 2
    assert [(o.status, o.duplicate, o.replayed) for o in outcomes] == [
        ("accepted", False, False),
        ("accepted", True, True),  # the other run's receipt: a replay, nothing written
        ("accepted", True, False),  # the other run's bytes, received earlier: a duplicate
    ]
    assert outcomes[1].submission_id == by_other_replayed.submission_id
    assert outcomes[2].submission_id == by_other_sent.submission_id
    assert count(warehouse, "select count(*) from submission") == 3
    assert count(warehouse, "select count(*) from hub_day_version") == 3
