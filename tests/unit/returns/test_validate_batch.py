"""Validating many returns in one batch (one GX run) gives exactly what validating each alone gives."""

from __future__ import annotations

from datetime import date, timedelta

from surgehub.returns.batch import ValidationBatch
from surgehub.returns.validate import validate_return
from tests.support.corpus import CASES, SETTINGS
from tests.support.returns import corpus_row, csv_bytes, exported_csv, locality_rows, valid_return
from tests.support.timeline import RECEIVED_AT


def test_every_corpus_return_gets_the_same_answer_in_a_batch_as_alone() -> None:
    batch = ValidationBatch(
        [(case.data, case.locality, case.received_at) for case in CASES], settings=SETTINGS
    )
    for case in CASES:
        alone = validate_return(
            case.data, locality=case.locality, received_at=case.received_at, settings=SETTINGS
        )
        together = validate_return(
            case.data, locality=case.locality, received_at=case.received_at, batch=batch, settings=SETTINGS
        )
        assert together.to_json_dict() == alone.to_json_dict(), case.id
        if alone.frame is not None:
            assert together.frame is not None, case.id
            assert together.frame.equals(alone.frame), case.id


def test_the_same_hub_day_in_two_files_of_a_batch_is_not_a_repeat() -> None:
    """R08 is a rule within one file: a revision in another file of the same batch is not a duplicate."""
    rows = locality_rows("14L", rng=1)
    first, revised = exported_csv(rows), exported_csv([{**rows[0], "signed_off_by": "Deputy lead"}])
    batch = ValidationBatch([(first, "14L", RECEIVED_AT), (revised, "14L", RECEIVED_AT)], settings=SETTINGS)

    for data in (first, revised):
        result = validate_return(
            data, locality="14L", received_at=RECEIVED_AT, batch=batch, settings=SETTINGS
        )
        assert result.status == "accepted", result.errors


def test_bytes_not_in_the_batch_are_validated_on_their_own() -> None:
    rows = locality_rows("00T", rng=2)
    rows[0]["appts_booked"] = str(int(rows[0]["appts_offered"]) + 1)
    batch = ValidationBatch([(exported_csv(rows), "00T", RECEIVED_AT)], settings=SETTINGS)
    other = valid_return("00V", seed=3)
    assert batch.lookup(other, "00V", RECEIVED_AT) is None
    alone = validate_return(other, locality="00V", received_at=RECEIVED_AT, batch=batch, settings=SETTINGS)
    assert alone.status == "accepted"


def test_w05_is_judged_per_return_in_a_batch_as_alone() -> None:
    """W05 reads the warehouse as each receipt found it, so the batch leaves it to each return."""
    import pandas as pd

    days = [date(2026, 11, 23) - timedelta(days=i) for i in range(7)]
    past = pd.DataFrame({"hub_code": "14L-H1", "activity_date": days, "appts_offered": [40] * 7})

    def history(hubs: object, first: date, last: date) -> pd.DataFrame:
        return past

    spike = csv_bytes([corpus_row(appts_offered="500")])
    calm = csv_bytes([corpus_row(appts_offered="60")])
    rejected_spike = csv_bytes([corpus_row(appts_offered="500", appts_booked="501")])
    returns = [spike, calm, rejected_spike]
    batch = ValidationBatch([(data, "14L", RECEIVED_AT) for data in returns], settings=SETTINGS)
    for data in returns:
        alone = validate_return(
            data, locality="14L", received_at=RECEIVED_AT, history=history, settings=SETTINGS
        )
        together = validate_return(
            data, locality="14L", received_at=RECEIVED_AT, history=history, batch=batch, settings=SETTINGS
        )
        assert together.to_json_dict() == alone.to_json_dict()
        if alone.frame is not None:
            assert together.frame is not None
            assert together.frame.equals(alone.frame)
    first = validate_return(
        spike, locality="14L", received_at=RECEIVED_AT, history=history, batch=batch, settings=SETTINGS
    )
    assert [w.rule for w in first.warnings] == ["W05"]
    assert first.frame is not None
    assert first.frame["warnings"].tolist() == [("W05",)]
    again = validate_return(
        spike, locality="14L", received_at=RECEIVED_AT, history=history, batch=batch, settings=SETTINGS
    )
    assert again.frame is not None
    assert again.frame["warnings"].tolist() == [("W05",)], "the batch's copy changed"
    no_history = validate_return(
        spike, locality="14L", received_at=RECEIVED_AT, batch=batch, settings=SETTINGS
    )
    assert no_history.warnings == []
    assert no_history.frame["warnings"].tolist() == [()]


def test_a_return_judged_for_another_sender_or_day_is_judged_again() -> None:
    """The batch's answer holds only for the sender and receipt day it was judged for (R05–R07)."""
    data = csv_bytes([corpus_row()])
    batch = ValidationBatch([(data, "14L", RECEIVED_AT)], settings=SETTINGS)
    assert batch.lookup(data, "14L", RECEIVED_AT) is not None
    assert batch.lookup(data, "00T", RECEIVED_AT) is None
    assert batch.lookup(data, "14L", RECEIVED_AT + timedelta(days=1)) is None
    other = validate_return(data, locality="00T", received_at=RECEIVED_AT, batch=batch, settings=SETTINGS)
    assert "R05" in {f.rule for f in other.errors}


def test_tables_from_many_localities_judged_together_answer_as_each_alone() -> None:
    """`validate_tables` (the batch path for tables already read: 42 ICB files in `make bench`)."""
    from surgehub.returns.read import read_return
    from surgehub.returns.validate import validate_table, validate_tables

    tables = [
        (raw.table, case.locality)
        for case in CASES
        if (raw := read_return(case.data)).table is not None and case.locality in {"14L", "00T", "00V", "01G"}
    ]
    assert len({locality for _, locality in tables}) >= 2
    assert len(tables) >= 10
    together = validate_tables(tables, received_at=RECEIVED_AT, settings=SETTINGS)
    assert any(r.status == "rejected" for r in together)
    assert any(r.status == "accepted" for r in together)
    for (table, locality), joint in zip(tables, together, strict=True):
        alone = validate_table(table, locality=locality, received_at=RECEIVED_AT, settings=SETTINGS)
        assert joint.to_json_dict() == alone.to_json_dict()
        if alone.frame is not None:
            assert joint.frame is not None
            assert joint.frame.equals(alone.frame)


def test_stacking_shifts_each_returns_row_numbers_as_one_table_each_did() -> None:
    """The stacked table: every return's rows in order, its row numbers shifted past the previous
    return's highest (what shifting each table on its own, then stacking, gave)."""
    import numpy as np
    import pandas as pd

    from surgehub.returns.batch import _stacked
    from surgehub.returns.read import read_return

    data = [valid_return(code, seed=n) for n, code in enumerate(("00T", "00V", "14L", "00Y"))]
    tables = [read_return(d, max_file_bytes=10**6, max_data_rows=500).table for d in data]
    tables = [t for t in tables if t is not None]
    several = next(t for t in tables if len(t) >= 2)
    tables.insert(2, tables[0].iloc[0:0])  # a return without rows
    tables.append(several.iloc[::-1])  # row numbers not in order
    combined, offsets = _stacked(tables)
    highest = [int(t["row_number"].max()) if len(t) else 0 for t in tables]
    assert offsets.tolist() == np.concatenate([[0], np.cumsum(np.array(highest) + 1)[:-1]]).tolist()
    expected = pd.concat(
        [t.assign(row_number=t["row_number"].to_numpy() + o) for t, o in zip(tables, offsets, strict=True)],
        ignore_index=True,
    )
    assert list(combined.columns) == list(expected.columns)
    assert combined.dtypes.tolist() == expected.dtypes.tolist()
    assert combined.equals(expected)
    assert several["row_number"].tolist()[:2] == [1, 2]  # the tables themselves are not changed
