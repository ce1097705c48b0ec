"""The warehouse on SQLite and on PostgreSQL alike: schema, versions, as-of RAG, escalation, store_rag,
W05 history, and the loader's columns.

Every test runs on both backends through the ``warehouse`` fixture (a migrated warehouse holding only
the reference data); a test that only means something on PostgreSQL says so with ON_POSTGRES_ONLY.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, select, text

from surgehub import rag, reference
from surgehub.config import load_settings
from surgehub.warehouse import db, history, load, tables
from surgehub.warehouse.db import writer
from surgehub.warehouse.rag_results import store_rag
from tests.support.postgres import ON_POSTGRES_ONLY
from tests.support.returns import hub_row
from tests.support.timeline import AFTER_CLOSE, BEFORE_CLOSE, DAY, RECEIVED_AT, london
from tests.support.warehouse import (
    TEXT_DTYPES,
    accepted_frame,
    record_submission,
    scalar,
    submit,
    submit_all_green,
    versions_of,
)

COMPUTED_AT = london(2026, 11, 25, 14, 5)


def _versions(engine: Engine, hub_code: str, day: date) -> list[dict]:
    with engine.connect() as connection:
        return versions_of(connection, hub_code, day)


def test_migrations_give_the_schema_of_tables_py_and_seed_the_register(warehouse: Engine) -> None:
    assert db.migrations_current(warehouse)
    with warehouse.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), tables.metadata) == []
        assert connection.execute(select(func.count()).select_from(tables.hub)).scalar() == len(
            reference.shipped_hubs()
        )
        codes = connection.execute(
            select(tables.locality.c.sub_icb_code).order_by(tables.locality.c.sort_order)
        ).scalars()
        assert list(codes) == [loc.sub_icb_code for loc in reference.localities()]
        assert connection.execute(text("select count(*) from locality")).scalar() == 10


@ON_POSTGRES_ONLY
def test_instants_are_timestamptz(warehouse: Engine) -> None:
    kind = scalar(
        warehouse,
        "select data_type from information_schema.columns "
        "where table_name = 'hub_day_version' and column_name = 'received_at'",
    )
    assert kind == "timestamp with time zone"


def test_revisions_become_new_versions_and_the_newest_receipt_is_current(warehouse: Engine) -> None:
    submit(warehouse, RECEIVED_AT, [hub_row("00V-H1", DAY, appts_booked=70)])
    submit(warehouse, london(2026, 11, 25, 16, 0), [hub_row("00V-H1", DAY, appts_booked=75)])
    versions = _versions(warehouse, "00V-H1", DAY)
    assert [(v["version"], v["is_current"], v["appts_booked"]) for v in versions] == [
        (1, False, 70),
        (2, True, 75),
    ]
    assert versions[0]["received_at"] == RECEIVED_AT.astimezone(UTC)
    assert versions[0]["received_at"].tzinfo is not None


def test_an_older_receipt_loaded_later_gets_the_next_version_but_does_not_become_current(
    warehouse: Engine,
) -> None:
    submit(warehouse, london(2026, 11, 26, 10, 0), [hub_row("00V-H1", DAY, appts_booked=75)])
    submit(warehouse, RECEIVED_AT, [hub_row("00V-H1", DAY, appts_booked=70)], channel="backfill")
    versions = _versions(warehouse, "00V-H1", DAY)
    assert [(v["version"], v["is_current"], v["appts_booked"]) for v in versions] == [
        (1, True, 75),
        (2, False, 70),
    ]


def test_same_receipt_time_is_broken_by_order_of_arrival(warehouse: Engine) -> None:
    submit(warehouse, RECEIVED_AT, [hub_row("00V-H1", DAY, appts_booked=70)])
    submit(warehouse, RECEIVED_AT, [hub_row("00V-H1", DAY, appts_booked=71)])
    current = [v for v in _versions(warehouse, "00V-H1", DAY) if v["is_current"]]
    assert [c["appts_booked"] for c in current] == [71]


def test_rag_all_green_on_time(warehouse: Engine) -> None:
    submit_all_green(warehouse, DAY, RECEIVED_AT)
    day_rag = rag.compute_rag(warehouse, DAY, AFTER_CLOSE, load_settings())
    assert [loc.status for loc in day_rag.localities] == ["GREEN"] * 10
    assert {loc.assurance for loc in day_rag.localities} == {"ON_TIME"}
    assert day_rag.gm.counts == {"GREEN": 10, "AMBER": 0, "RED": 0, "CLOSED": 0, "NO_RETURN": 0, "PENDING": 0}
    body = day_rag.to_json_dict()
    assert body["date"] == "2026-11-24"
    assert [loc["sub_icb_code"] for loc in body["localities"]][:3] == ["00T", "00V", "01D"]
    assert set(body["localities"][0]) >= {
        "sub_icb_code", "status", "level", "points", "escalated", "assurance", "reasons",
    }  # fmt: skip


def test_rag_is_judged_as_of_t(warehouse: Engine) -> None:
    submit_all_green(warehouse, DAY, RECEIVED_AT, skip=("14L",))
    # 14L sends late, after the close, and revises the next day with a turned-away patient.
    submit(warehouse, london(2026, 11, 25, 15, 0), [hub_row(h, DAY) for h in ("14L-H1", "14L-H2", "14L-H3")])
    submit(warehouse, london(2026, 11, 26, 9, 0), [hub_row("14L-H1", DAY, patients_turned_away=2)])
    settings = load_settings()

    before_close = rag.compute_rag(warehouse, DAY, BEFORE_CLOSE, settings).locality("14L")
    assert (before_close.status, before_close.assurance) == ("PENDING", "PENDING")
    after_close = rag.compute_rag(warehouse, DAY, AFTER_CLOSE, settings).locality("14L")
    assert (after_close.status, after_close.assurance) == ("NO_RETURN", "NO_RETURN")
    assert after_close.reasons[:3] == [f"hub 14L-H{n} sent no return" for n in (1, 2, 3)]
    assert after_close.escalated  # nothing at all was loaded for the 23rd
    late = rag.compute_rag(warehouse, DAY, london(2026, 11, 25, 18, 0), settings).locality("14L")
    assert (late.status, late.assurance) == ("GREEN", "LATE")
    revised = rag.compute_rag(warehouse, DAY, london(2026, 11, 26, 12, 0), settings).locality("14L")
    assert (revised.status, revised.points, revised.assurance) == ("AMBER", 4, "LATE")
    assert "2 patients turned away" in revised.reasons


def test_partial_return_is_no_return_naming_the_missing_hub(warehouse: Engine) -> None:
    submit(warehouse, RECEIVED_AT, [hub_row("01Y-H1", DAY)])
    result = rag.compute_rag(warehouse, DAY, AFTER_CLOSE, load_settings()).locality("01Y")
    assert (result.status, result.points) == ("NO_RETURN", None)
    # Nothing was loaded for the day before either, so the locality is escalated too.
    assert result.reasons == [
        "hub 01Y-H2 sent no return",
        "no return on this day and the day before: escalated",
    ]


def test_inactive_hubs_are_not_expected(warehouse: Engine) -> None:
    # 01Y-H2 (Glossop) opens on 15 Nov: on the 14th only 01Y-H1 is due.
    day = date(2026, 11, 14)
    submit(warehouse, london(2026, 11, 16, 9, 0), [hub_row("01Y-H1", day)])
    result = rag.compute_rag(warehouse, day, london(2026, 11, 16, 14, 0), load_settings()).locality("01Y")
    assert result.status == "GREEN"
    assert [h["hub_code"] for h in result.figures["hubs"]] == ["01Y-H1"]


def test_escalated_after_no_return_on_the_day_and_the_day_before(warehouse: Engine) -> None:
    settings = load_settings()
    monday = date(2026, 11, 23)
    submit_all_green(warehouse, monday - timedelta(days=1), london(2026, 11, 23, 9, 0), skip=())
    submit_all_green(warehouse, monday, london(2026, 11, 24, 9, 0), skip=("02A",))
    submit_all_green(warehouse, DAY, RECEIVED_AT, skip=("02A", "02H"))
    result = rag.compute_rag(warehouse, DAY, AFTER_CLOSE, settings)
    assert result.locality("02A").escalated is True  # Monday and Tuesday missing
    assert result.locality("02H").escalated is False  # only Tuesday missing
    assert result.locality("02H").status == "NO_RETURN"
    monday_rag = rag.compute_rag(warehouse, monday, AFTER_CLOSE, settings)
    assert monday_rag.locality("02A").escalated is False  # Sunday was returned


def test_store_rag_is_an_idempotent_upsert(warehouse: Engine) -> None:
    submit_all_green(warehouse, DAY, RECEIVED_AT, skip=("00T",))
    settings = load_settings()
    day_rag = rag.compute_rag(warehouse, DAY, AFTER_CLOSE, settings)
    store_rag(warehouse, day_rag.result_rows(COMPUTED_AT))
    store_rag(warehouse, day_rag.result_rows(COMPUTED_AT))
    with warehouse.connect() as connection:
        rows = connection.execute(
            select(tables.rag_result.c.sub_icb_code, tables.rag_result.c.status, tables.rag_result.c.reasons)
            .where(tables.rag_result.c.activity_date == DAY)
            .order_by(tables.rag_result.c.sub_icb_code)
        ).all()
        assert len(rows) == 11
        by_code = {r.sub_icb_code: r for r in rows}
        assert by_code["00T"].status == "NO_RETURN"
        assert by_code["00T"].reasons[0] == "hub 00T-H1 sent no return"
        assert by_code["GM"].status == "GREEN"
        as_of = connection.execute(select(func.max(tables.rag_result.c.as_of))).scalar_one()
        assert as_of == AFTER_CLOSE.astimezone(UTC)


def test_history_lookup_reads_current_open_rows_as_of_receipt(warehouse: Engine) -> None:
    for offset in range(1, 4):
        day = DAY - timedelta(days=offset)
        submit(
            warehouse, london(2026, 11, 24, 8, offset), [hub_row("02H-H1", day, appts_offered=90 + offset)]
        )
    closed_day = DAY - timedelta(days=2)
    submit(
        warehouse,
        london(2026, 11, 24, 12, 0),
        [hub_row("02H-H1", closed_day, hub_status="CLOSED_UNPLANNED", comments="flood")],
    )
    earlier = history.history_lookup(warehouse, london(2026, 11, 24, 11, 0))(
        ["02H-H1"], DAY - timedelta(28), DAY
    )
    assert sorted(earlier["appts_offered"]) == [91, 92, 93]
    later = history.history_lookup(warehouse, london(2026, 11, 24, 13, 0))(
        ["02h-h1"], DAY - timedelta(28), DAY
    )
    assert sorted(later["appts_offered"]) == [91, 93]
    assert list(later) == ["hub_code", "activity_date", "appts_offered"]  # columns of plain values
    assert isinstance(later["activity_date"][0], date)


def test_a_failure_inside_the_load_leaves_nothing(warehouse: Engine) -> None:
    # The whole transaction is what raises (after its rows were written), and it must leave nothing.
    with (  # noqa: PT012
        pytest.raises(RuntimeError, match="boom after the rows were written"),
        writer(warehouse).begin() as connection,
    ):
        submission_id = record_submission(
            connection, sub_icb_code="00V", received_at=RECEIVED_AT, data_rows=1, file_name="x.csv"
        )
        load.load_versions(
            connection,
            submission_id=submission_id,
            received_at=RECEIVED_AT,
            arrival_seq=submission_id,
            rows=load.rows_from_frame(accepted_frame([hub_row("00V-H1", DAY)])),
        )
        raise RuntimeError("boom after the rows were written")
    with warehouse.connect() as connection:
        assert connection.execute(text("select count(*) from submission")).scalar() == 0
        assert connection.execute(text("select count(*) from hub_day_version")).scalar() == 0
    submit(warehouse, RECEIVED_AT, [hub_row("00V-H1", DAY)])  # and the staging table is gone with it
    assert len(_versions(warehouse, "00V-H1", DAY)) == 1


_ZERO = dict.fromkeys(
    (
        "sessions_planned",
        "sessions_delivered",
        "appts_offered",
        "appts_booked",
        "appts_attended",
        "appts_dna",
    ),
    0,
) | {"onward_ed": 0}
_WIDE = {"appts_offered": 200, "appts_booked": 100, "appts_attended": 100, "appts_dna": 2, "onward_ed": 2}


@pytest.mark.parametrize(
    ("figures", "expected"),
    [
        ({"sessions_planned": 20, "sessions_delivered": 19}, ("GREEN", 1, 0)),  # capacity 0.95: Green
        ({"sessions_planned": 20, "sessions_delivered": 16}, ("GREEN", 1, 2)),  # 0.80: Amber, 2 points
        ({"sessions_planned": 20, "sessions_delivered": 14}, ("AMBER", 2, 4)),  # 0.70: Red, no override
        ({"sessions_planned": 20, "sessions_delivered": 13}, ("RED", 4, 4)),  # 0.65: override
        ({"appts_booked": 98}, ("AMBER", 2, 4)),  # utilisation 0.98: Red
        ({"appts_booked": 85}, ("GREEN", 1, 2)),  # utilisation 0.85: Amber
        ({"patients_turned_away": 1}, ("AMBER", 2, 4)),  # turned away: utilisation Red
        (_WIDE | {"onward_ed": 10}, ("GREEN", 1, 1)),  # onward 0.10: Amber
        (_WIDE | {"onward_ed": 11}, ("GREEN", 1, 2)),  # onward 0.11: Red
        (_WIDE | {"appts_dna": 5}, ("GREEN", 1, 1)),  # DNA 0.05: Amber
        (_ZERO, ("GREEN", 1, 0)),  # every denominator 0: nothing scored
        (_ZERO | {"patients_turned_away": 2}, ("AMBER", 2, 4)),  # ... but turned away still Red
        (_ZERO | {"hub_status": "CLOSED_PLANNED", "comments": "planned"}, ("CLOSED", None, None)),
        (_ZERO | {"hub_status": "CLOSED_UNPLANNED", "comments": "flood"}, ("RED", 4, 0)),
        (
            {"sessions_planned": 20, "sessions_delivered": 18, "appts_booked": 90, "onward_ed": 9},
            ("RED", 3, 6),
        ),
    ],
)
def test_rag_threshold_cases_from_the_warehouse(
    warehouse: Engine, figures: dict[str, object], expected: tuple[str, int | None, int | None]
) -> None:
    submit(warehouse, RECEIVED_AT, [hub_row("00V-H1", DAY, **figures)])
    bury = rag.compute_rag(warehouse, DAY, AFTER_CLOSE, load_settings()).locality("00V")
    assert (bury.status, bury.level, bury.points) == expected
    assert bury.assurance == "ON_TIME"


# -- the loader's columns: the same values on every backend, loaded from dictionaries or from an
# accepted frame (text as Python objects or Arrow strings), in one chunk or several ------------------

#: None: rows as dictionaries; otherwise an accepted frame whose text columns have that dtype.
LOADS = list(TEXT_DTYPES)


def _stored(engine: Engine, hub_code: str, day: date) -> list[tuple[int, bool, int]]:
    return [(v["version"], v["is_current"], v["appts_booked"]) for v in _versions(engine, hub_code, day)]


@pytest.mark.parametrize("text_dtype", LOADS)
def test_hours_are_stored_exact_to_two_places(warehouse: Engine, text_dtype: str) -> None:
    hours = [
        (Decimal("0.07"), Decimal("1.10")),
        (Decimal("18.25"), Decimal("299.99")),
        (Decimal("0"), Decimal("300")),
        (0.1 + 0.2, 1.1),  # floats: 0.30000000000000004 and 1.1000000000000001 are not what is stored
        (Decimal("12.3"), Decimal("0.01")),
    ]
    days = [DAY - timedelta(days=n) for n in range(len(hours))]
    rows = [
        hub_row("00V-H1", day, gp_hours=gp, other_clinician_hours=other)
        for day, (gp, other) in zip(days, hours, strict=True)
    ]
    submit(warehouse, RECEIVED_AT, rows, text_dtype=text_dtype)
    stored = [
        (str(v["gp_hours"]), str(v["other_clinician_hours"]))
        for day in days
        for v in _versions(warehouse, "00V-H1", day)
    ]
    assert stored == [
        ("0.07", "1.10"),
        ("18.25", "299.99"),
        ("0.00", "300.00"),
        ("0.30", "1.10"),
        ("12.30", "0.01"),
    ]


@pytest.mark.parametrize("text_dtype", LOADS)
def test_blank_comments_are_null_and_other_text_is_kept_exactly(warehouse: Engine, text_dtype: str) -> None:
    comments = [None, "", "   ", '"Quoted", with a comma\nand a new line', "\\N", "  padded  ", "naïve café"]
    days = [DAY - timedelta(days=n) for n in range(len(comments))]
    rows = [hub_row("00V-H1", day, comments=c) for day, c in zip(days, comments, strict=True)]
    rows[-1].update(hub_code=" 00v-h1 ", sub_icb_code="00v", hub_status=" open")  # codes are normalised
    submit(warehouse, RECEIVED_AT, rows, text_dtype=text_dtype)
    stored = [v for day in days for v in _versions(warehouse, "00V-H1", day)]
    assert [v["comments"] for v in stored] == [
        None,
        None,
        None,
        '"Quoted", with a comma\nand a new line',
        "\\N",  # the text-format COPY's null marker, stored as text
        "  padded  ",
        "naïve café",
    ]
    assert {(v["hub_code"], v["sub_icb_code"], v["hub_status"]) for v in stored} == {
        ("00V-H1", "00V", "OPEN")
    }
    assert {v["signed_off_by"] for v in stored} == {"Locality urgent care lead"}
    assert [v["activity_date"] for v in stored] == days
    with warehouse.connect() as connection:
        assert (
            connection.execute(text("select count(*) from hub_day_version where comments is null")).scalar()
            == 3
        )


@pytest.mark.parametrize("text_dtype", LOADS)
def test_warnings_are_stored_as_json_lists_of_rule_ids(warehouse: Engine, text_dtype: str) -> None:
    rules = [["W01", "W03"], [], ["W05"], ["W02", "W04", "W01"]]
    days = [DAY - timedelta(days=n) for n in range(len(rules))]
    rows = [hub_row("00V-H1", day, warnings=r) for day, r in zip(days, rules, strict=True)]
    submit(warehouse, RECEIVED_AT, rows, text_dtype=text_dtype)
    assert [v["warnings"] for day in days for v in _versions(warehouse, "00V-H1", day)] == rules


@pytest.mark.parametrize("text_dtype", LOADS)
def test_receipt_times_keep_their_instant_in_summer_time(warehouse: Engine, text_dtype: str) -> None:
    received = london(2026, 10, 20, 9, 30)  # BST: 08:30 UTC
    submit(warehouse, received, [hub_row("00V-H1", DAY)], text_dtype=text_dtype)
    [version] = _versions(warehouse, "00V-H1", DAY)
    assert version["received_at"] == received.astimezone(UTC)
    assert version["received_at"].hour == 8


@pytest.mark.parametrize("text_dtype", LOADS)
def test_a_hub_day_twice_in_one_load_takes_two_versions_and_only_the_last_can_be_current(
    warehouse: Engine, text_dtype: str
) -> None:
    # R08 keeps this out of a validated return, but the loader still numbers it like the old loop did.
    submit(warehouse, RECEIVED_AT, [hub_row("00V-H1", DAY, appts_booked=70)])
    later = london(2026, 11, 25, 16, 0)
    twice = [hub_row("00V-H1", DAY, appts_booked=71), hub_row("00V-H1", DAY - timedelta(1), appts_booked=80)]
    submit(warehouse, later, [*twice, hub_row("00V-H1", DAY, appts_booked=72)], text_dtype=text_dtype)
    assert _stored(warehouse, "00V-H1", DAY) == [(1, False, 70), (2, False, 71), (3, True, 72)]
    assert _stored(warehouse, "00V-H1", DAY - timedelta(1)) == [(1, True, 80)]
    # Twice again, received before the current version: numbered on, and nothing becomes current.
    older = [hub_row("00V-H1", DAY, appts_booked=73), hub_row("00V-H1", DAY, appts_booked=74)]
    submit(warehouse, london(2026, 11, 25, 12, 0), older, text_dtype=text_dtype)
    assert _stored(warehouse, "00V-H1", DAY) == [
        (1, False, 70),
        (2, False, 71),
        (3, True, 72),
        (4, False, 73),
        (5, False, 74),
    ]


@pytest.mark.parametrize("text_dtype", LOADS)
def test_a_mixed_load_numbers_and_flags_each_hub_day_on_its_own(
    warehouse: Engine, text_dtype: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(load, "CHUNK_ROWS", 3)  # several chunks per load
    monkeypatch.setattr(load, "DISPLACED_CHUNK", 2)  # and several UPDATEs for the five it displaces
    days = [DAY - timedelta(days=n) for n in range(4)]
    hubs = ("14L-H1", "14L-H2")
    submit(warehouse, RECEIVED_AT, [hub_row(h, d, appts_booked=70) for d in days[:3] for h in hubs])
    submit(warehouse, london(2026, 11, 26, 10, 0), [hub_row("14L-H2", days[2], appts_booked=71)])
    # Received between the two: revises what RECEIVED_AT sent, but not the newer revision of 14L-H2 on
    # the third day; the fourth day is new. Eight rows, in three chunks.
    between = london(2026, 11, 25, 12, 0)
    submit(
        warehouse,
        between,
        [hub_row(h, d, appts_booked=72) for d in days for h in hubs],
        text_dtype=text_dtype,
    )
    for hub in hubs:
        for day in days[:2]:
            assert _stored(warehouse, hub, day) == [(1, False, 70), (2, True, 72)], (hub, day)
        assert _stored(warehouse, hub, days[3]) == [(1, True, 72)]
    assert _stored(warehouse, "14L-H1", days[2]) == [(1, False, 70), (2, True, 72)]
    assert _stored(warehouse, "14L-H2", days[2]) == [(1, False, 70), (2, True, 71), (3, False, 72)]
    with warehouse.connect() as connection:
        v = tables.hub_day_version
        numbers = connection.execute(select(v.c.row_number).where(v.c.received_at == between)).scalars()
        assert sorted(numbers) == list(range(1, 9))
