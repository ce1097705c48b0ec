"""Ingest on SQLite and on PostgreSQL alike: duplicates, archive and quarantine, failures leave nothing,
backfill.

Every test runs on both backends through the ``warehouse`` fixture; ``breaker`` breaks a connection
the way each backend can be broken.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Connection, Engine, event, text

from surgehub import archive
from surgehub.config import Settings, load_settings
from surgehub.ingest import Channel, IncomingReturn, IngestOutcome, ingest_returns
from surgehub.resources import Resources
from tests.support.postgres import terminate_backend
from tests.support.returns import MANCHESTER_HUBS, csv_bytes, hub_row
from tests.support.timeline import DAY, RECEIVED_AT, london
from tests.support.warehouse import count, versions_of

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

NHS_NUMBER = "943 476 5919"  # passes the modulus-11 check


@pytest.fixture
def breaker(warehouse: Engine) -> Callable[[Connection], None]:
    """Break the connection under a transaction: close SQLite's DBAPI connection, or have another
    PostgreSQL session terminate the loading backend."""
    if warehouse.dialect.name == "postgresql":
        return terminate_backend

    def close(connection: Connection) -> None:
        connection.connection.dbapi_connection.close()  # type: ignore[union-attr]

    return close


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "incoming" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _manchester(**values: object) -> bytes:
    return csv_bytes([hub_row(h, DAY, **values) for h in MANCHESTER_HUBS])


def _count(engine: Engine, table: str) -> int:
    return count(engine, f"select count(*) from {table}")


def _ingest(engine: Engine, path: Path, received=RECEIVED_AT, locality="14L", channel="cli"):
    [outcome] = ingest_returns(
        [IncomingReturn(path=path, locality=locality, channel=channel, received_at=received)],
        Resources.of(load_settings(), engine=engine),
    )
    return outcome


def _replay(entries: list[tuple[archive.Receipt, Path]], resources: Resources) -> list[IngestOutcome]:
    """Each archived return ingested again on its own, as `surgehub backfill` does: its receipt's time."""
    return [
        ingest_returns(
            [
                IncomingReturn(
                    path=path,
                    locality=receipt.locality,
                    channel=Channel.BACKFILL,
                    received_at=receipt.received_at,
                    file_name=receipt.file_name,
                )
            ],
            resources,
        )[0]
        for receipt, path in entries
    ]


def _archived_files(settings: Settings) -> list[Path]:
    root = settings.archive_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_accepted_return_is_archived_unchanged_and_loaded(surgehub_home: Path, warehouse: Engine) -> None:
    data = _manchester()
    outcome = _ingest(warehouse, _file(surgehub_home, "manchester return.csv", data))
    assert outcome.status == "accepted", outcome.to_json_dict()
    assert (outcome.duplicate, outcome.quarantined) == (False, False)
    assert outcome.archive_path is not None
    assert outcome.archive_path.read_bytes() == data
    receipt = json.loads(archive.receipt_path(outcome.archive_path).read_text())
    assert receipt["locality"] == "14L"
    assert receipt["channel"] == "cli"
    assert receipt["received_at"] == "2026-11-25T09:00:00Z"
    assert receipt["file_name"] == "manchester return.csv"
    assert outcome.archive_path.parent.name == "2026-11-25"
    body = outcome.to_json_dict()
    assert (body["status"], body["rows"], body["duplicate"]) == ("accepted", 3, False)
    assert body["submission_id"] == outcome.submission_id
    with warehouse.connect() as connection:
        [version] = versions_of(connection, "14L-H2", DAY)
    assert (version["version"], version["is_current"], version["submission_id"]) == (
        1,
        True,
        outcome.submission_id,
    )
    assert version["received_at"] == RECEIVED_AT.astimezone(UTC)


def test_same_bytes_again_are_a_duplicate_and_do_not_undo_a_revision(
    surgehub_home: Path, warehouse: Engine
) -> None:
    first = _file(surgehub_home, "a.csv", _manchester())
    revision = _file(surgehub_home, "b.csv", _manchester(appts_booked=81, src_other=6))
    original = _ingest(warehouse, first)
    _ingest(warehouse, revision, received=london(2026, 11, 25, 10, 0))
    files_before = _archived_files(load_settings())
    again = _ingest(warehouse, first, received=london(2026, 11, 25, 11, 0))
    assert (again.status, again.duplicate, again.submission_id) == ("accepted", True, original.submission_id)
    assert again.to_json_dict()["duplicate"] is True
    assert _count(warehouse, "submission") == 2
    assert _archived_files(load_settings()) == files_before
    with warehouse.connect() as connection:
        current = [v for v in versions_of(connection, "14L-H1", DAY) if v["is_current"]]
    assert [c["appts_booked"] for c in current] == [81]


def test_same_bytes_from_another_locality_are_not_a_duplicate(surgehub_home: Path, warehouse: Engine) -> None:
    path = _file(surgehub_home, "a.csv", _manchester())
    _ingest(warehouse, path)
    other = _ingest(warehouse, path, locality="00T")
    assert (other.status, other.duplicate) == ("rejected", False)  # R05: not 00T's rows


def test_rejected_return_is_archived_recorded_and_validated_again_when_resent(
    surgehub_home: Path, warehouse: Engine
) -> None:
    bad = _file(surgehub_home, "bad.csv", _manchester(appts_booked=120))  # R09 and R13
    first = _ingest(warehouse, bad)
    assert first.status == "rejected"
    assert {f.rule for f in first.validation.errors} >= {"R09"}
    assert first.archive_path is not None
    assert first.archive_path.exists()
    second = _ingest(warehouse, bad, received=london(2026, 11, 25, 9, 30))
    assert second.status == "rejected"
    assert second.submission_id != first.submission_id
    assert (_count(warehouse, "submission"), _count(warehouse, "hub_day_version")) == (2, 0)


def test_r16_return_goes_to_quarantine_and_the_number_is_kept_nowhere_else(
    surgehub_home: Path, warehouse: Engine
) -> None:
    data = csv_bytes(
        [
            hub_row("14L-H1", DAY, comments=f"patient {NHS_NUMBER} rebooked"),
            hub_row("14L-H2", DAY),
            hub_row("14L-H3", DAY),
        ]
    )
    outcome = _ingest(warehouse, _file(surgehub_home, "r16.csv", data))
    settings = load_settings()
    assert (outcome.status, outcome.quarantined, outcome.archive_path) == ("rejected", True, None)
    assert _archived_files(settings) == []
    kept = list(settings.quarantine_dir.rglob("*.csv"))
    assert len(kept) == 1
    assert kept[0].read_bytes() == data
    assert kept[0].stat().st_mode & 0o077 == 0  # operators only
    with warehouse.connect() as connection:
        row = connection.execute(text("select quarantined, archive_path, errors from submission")).one()
    assert bool(row.quarantined) is True
    assert row.archive_path is None
    stored = json.dumps(row.errors if not isinstance(row.errors, str) else json.loads(row.errors))
    assert "R16" in stored
    assert "9434765919" not in stored.replace(" ", "").replace("-", "")
    assert "9434765919" not in json.dumps(outcome.to_json_dict()).replace(" ", "")


def test_archive_failure_is_not_acknowledged_and_loads_nothing(
    surgehub_home: Path, warehouse: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = surgehub_home / "not-a-folder"
    blocker.write_text("a file where the archive folder should be")
    monkeypatch.setenv("SURGEHUB_ARCHIVE_DIR", str(blocker))
    outcome = _ingest(warehouse, _file(surgehub_home, "a.csv", _manchester()))
    assert outcome.status == "error"
    assert outcome.submission_id is None
    assert "could not keep" in (outcome.error or "")
    assert (_count(warehouse, "submission"), _count(warehouse, "hub_day_version")) == (0, 0)


def test_connection_broken_mid_load_leaves_nothing_and_the_return_can_be_ingested_again(
    surgehub_home: Path, warehouse: Engine, breaker: Callable[[Connection], None]
) -> None:
    assert _ingest(warehouse, _file(surgehub_home, "a.csv", _manchester())).status == "accepted"
    files_before = _archived_files(load_settings())
    revision = _file(surgehub_home, "b.csv", _manchester(appts_booked=81, src_other=6))

    # The revision's submission row and new versions are written; then the connection dies just
    # before the old versions are marked not current.
    def break_before_displacing(conn: Connection, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().lower().startswith("update hub_day_version"):
            breaker(conn)

    event.listen(warehouse, "before_cursor_execute", break_before_displacing)
    try:
        broken = _ingest(warehouse, revision, received=london(2026, 11, 25, 10, 0))
    finally:
        event.remove(warehouse, "before_cursor_execute", break_before_displacing)
    assert broken.status == "error", broken.to_json_dict()
    assert (_count(warehouse, "submission"), _count(warehouse, "hub_day_version")) == (1, 3)
    assert _archived_files(load_settings()) == files_before
    with warehouse.connect() as connection:
        assert [v["appts_booked"] for v in versions_of(connection, "14L-H1", DAY)] == [80]

    again = _ingest(warehouse, revision, received=london(2026, 11, 25, 10, 0))
    assert (again.status, again.duplicate) == ("accepted", False)
    with warehouse.connect() as connection:
        versions = versions_of(connection, "14L-H1", DAY)
    assert [(v["version"], v["is_current"], v["appts_booked"]) for v in versions] == [
        (1, False, 80),
        (2, True, 81),
    ]


def test_two_runs_taking_the_same_file_at_once_record_it_once_and_keep_its_archive_copy(
    surgehub_home: Path, warehouse: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Overlapping ingest runs may both take one landed file: the second to record it loses the race."""
    import surgehub.warehouse.submissions as submissions_module

    path = _file(surgehub_home, "a.csv", _manchester())
    first = _ingest(warehouse, path)
    assert first.status == "accepted"
    archived = _archived_files(load_settings())
    # The second run checked for this receipt before the first had recorded it, and wrote the same
    # archive copy itself (as if its store had come first): then its own insert fails.
    # The replay and duplicate checks (one query) miss once, then tell the truth.
    real, first_call = submissions_module.receipt_or_original, iter([True])
    monkeypatch.setattr(
        submissions_module,
        "receipt_or_original",
        lambda *a: (None, None) if next(first_call, False) else real(*a),
    )
    real_store = archive.store
    monkeypatch.setattr(
        archive, "store", lambda *a, **k: archive.Stored(real_store(*a, **k).relative, a[0], created=True)
    )
    second = _ingest(warehouse, path)
    assert (second.status, second.submission_id, second.replayed) == ("accepted", first.submission_id, True)
    assert (_count(warehouse, "submission"), _count(warehouse, "hub_day_version")) == (1, 3)
    assert _archived_files(load_settings()) == archived, "the winner's archive copy must stay"
    assert all(p.is_file() for p in archived)


def test_a_replay_or_a_resend_is_told_apart_on_one_snapshot_of_the_warehouse(
    surgehub_home: Path, warehouse: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two looks (this receipt? these bytes accepted?) let another run taking the same file record it
    between them: the receipt was then answered "already received" as a resend of itself (`make
    bench-stack`, one receipt doubled in 420). The ingest asks once (`receipt_or_original`)."""
    import surgehub.warehouse.submissions as submissions_module

    path = _file(surgehub_home, "a.csv", _manchester())
    first = _ingest(warehouse, path)

    def second_look(*args: object) -> None:
        raise AssertionError("a second look at the warehouse: another run can commit between the two")

    for name in ("receipt_of", "accepted_original"):
        monkeypatch.setattr(submissions_module, name, second_look)
    again = _ingest(warehouse, path)
    assert (again.status, again.submission_id, again.replayed, again.duplicate) == (
        "accepted",
        first.submission_id,
        True,
        True,  # the outcome's flag; the task reports a replay as not a resend (tasks.ingest_files)
    )
    resent = _ingest(warehouse, path, received=london(2026, 11, 25, 12, 0))
    assert (resent.status, resent.duplicate, resent.replayed) == ("accepted", True, False)
    assert _count(warehouse, "submission") == 1


def test_one_bad_item_never_stops_the_others(surgehub_home: Path, warehouse: Engine) -> None:
    good = _file(surgehub_home, "good.csv", csv_bytes([hub_row("00V-H1", DAY)]))
    items = [
        IncomingReturn(
            path=surgehub_home / "missing.csv",
            locality="00V",
            channel=Channel.FOLDER,
            received_at=RECEIVED_AT,
        ),
        IncomingReturn(path=good, locality="XXX", channel=Channel.FOLDER, received_at=RECEIVED_AT),
        IncomingReturn(path=good, locality="00V", channel=Channel.FOLDER, received_at=RECEIVED_AT),
    ]
    outcomes = ingest_returns(items, Resources.of(load_settings(), engine=warehouse))
    assert [o.status for o in outcomes] == ["error", "error", "accepted"]
    assert "unknown locality" in (outcomes[1].error or "")
    assert outcomes[0].validation.errors == []
    assert outcomes[0].to_json_dict()["status"] == "error"


def test_backfill_replays_the_archive_in_receipt_order_and_twice_changes_nothing(
    surgehub_home: Path, warehouse: Engine
) -> None:
    settings = load_settings()
    revised = _file(surgehub_home, "late-revision.csv", _manchester(appts_booked=81, src_other=6))
    original = _file(surgehub_home, "original.csv", _manchester())
    rejected = _file(surgehub_home, "bad.csv", _manchester(appts_booked=150))
    # Arrival order differs from receipt order: the revision (received later) is loaded first.
    _ingest(warehouse, revised, received=london(2026, 11, 25, 12, 0), channel="api")
    _ingest(warehouse, original, received=RECEIVED_AT, channel="folder")
    _ingest(warehouse, rejected, received=london(2026, 11, 25, 8, 0))

    def snapshot() -> list[tuple]:
        with warehouse.connect() as connection:
            return connection.execute(
                text(
                    "select hub_code, activity_date, appts_booked, is_current, received_at "
                    "from hub_day_version order by hub_code, received_at"
                )
            ).all()

    live = snapshot()
    entries = list(archive.entries(settings.archive_dir))
    assert [e[0].received_at for e in entries] == sorted(e[0].received_at for e in entries)

    # Wipe the warehouse, replay the archive: the same current rows come back.
    with warehouse.begin() as connection:
        connection.execute(text("delete from hub_day_version"))
        connection.execute(text("delete from submission"))
    for outcome in _replay(entries, Resources.of(settings, engine=warehouse)):
        assert outcome.status in {"accepted", "rejected"}
    replayed = snapshot()
    assert [(r[0], r[2], bool(r[3])) for r in replayed] == [(r[0], r[2], bool(r[3])) for r in live]
    submissions = _count(warehouse, "submission")
    files = _archived_files(settings)

    for outcome in _replay(entries, Resources.of(settings, engine=warehouse)):  # twice: all recognised
        assert outcome.replayed
    assert snapshot() == replayed
    assert _count(warehouse, "submission") == submissions
    assert _archived_files(settings) == files
