"""The column-wise loader's parts without a database: hours text, version numbering, Rows."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surgehub.warehouse import db, load
from tests.support.returns import hub_row
from tests.support.timeline import DAY, RECEIVED_AT
from tests.support.warehouse import TEXT_DTYPES, accepted_frame, submit, versions_of

if TYPE_CHECKING:
    from pathlib import Path

T0 = RECEIVED_AT.astimezone(UTC)  # the loader's numbering works in UTC


def test_hours_text_is_exact_for_every_value_from_0_to_300() -> None:
    cents = np.arange(0, 30_001)
    hours = pd.Series(cents / 100).round(2)  # what the validator hands over: float64 rounded to 2 places
    text = load._hours_text(load._cents(hours)).to_pylist()
    assert text == [f"{c // 100}.{c % 100:02d}" for c in cents.tolist()]
    assert text[110] == "1.10"
    assert text[7] == "0.07"
    assert text[30_000] == "300.00"


def test_hours_text_of_negative_and_large_values() -> None:
    hours = pd.Series([-0.07, -12.5, 99_999.99, 0.1 + 0.2])
    assert load._hours_text(load._cents(hours)).to_pylist() == ["-0.07", "-12.50", "99999.99", "0.30"]


def test_missing_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="gp_hours"):
        load._cents(pd.Series([1.0, float("nan")], name="gp_hours"))


def _loop(
    keys: list[tuple[str, date]],
    newest: dict[tuple[str, date], tuple[int, datetime, int, int]],
    received_at: datetime,
    arrival_seq: int,
) -> tuple[list[int], list[bool], list[int]]:
    """The loader's former Python loop over keys: the reference the vectorised numbering must match."""
    last_position = {key: position for position, key in enumerate(keys)}
    next_version = {key: found[3] for key, found in newest.items()}
    versions: list[int] = []
    current: list[bool] = []
    displaced: list[int] = []
    for position, key in enumerate(keys):
        next_version[key] = next_version.get(key, 0) + 1
        versions.append(next_version[key])
        found = newest.get(key)
        is_newest = found is None or (received_at, arrival_seq) > (found[1], found[2])
        wins = last_position[key] == position and is_newest
        current.append(wins)
        if wins and found is not None:
            displaced.append(found[0])
    return versions, current, sorted(displaced)


_HUBS = ("00V-H1", "14L-H1", "14L-H2")


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(st.sampled_from(_HUBS), st.integers(0, 4)), min_size=1, max_size=12),
    held=st.dictionaries(
        st.tuples(st.sampled_from(_HUBS), st.integers(-2, 6)),
        st.tuples(st.integers(-2, 2), st.integers(1, 3), st.integers(1, 5)),  # minutes, arrival, max version
        max_size=10,
    ),
    arrival_seq=st.integers(1, 3),
)
def test_vectorised_numbering_matches_the_former_loop(
    rows: list[tuple[str, int]],
    held: dict[tuple[str, int], tuple[int, int, int]],
    arrival_seq: int,
) -> None:
    keys = [(hub, DAY + timedelta(days=n)) for hub, n in rows]
    newest = {
        (hub, DAY + timedelta(days=n)): (100 + i, T0 + timedelta(minutes=minutes), seq, top)
        for i, ((hub, n), (minutes, seq, top)) in enumerate(held.items())
    }
    batch = load.Rows(
        pd.DataFrame(
            {"hub_code": [k[0] for k in keys], "activity_date": pd.to_datetime([k[1] for k in keys])}
        )
    )
    found = load._Keys.of(batch)
    first, last = min(k[1] for k in keys), max(k[1] for k in keys)
    in_range = {  # what the newest-versions query returns: the batch's hubs, its date range
        key: value for key, value in newest.items() if key[0] in found.hubs and first <= key[1] <= last
    }
    position = {code: i for i, code in enumerate(found.hubs)}
    frame = pd.DataFrame(
        {
            "hub": np.array([position[k[0]] for k in in_range], dtype=np.int64),
            "day": np.array([k[1] for k in in_range], dtype="datetime64[D]").astype(np.int64),
            "version_id": np.array([v[0] for v in in_range.values()], dtype=np.int64),
            "received_at": pd.to_datetime([v[1] for v in in_range.values()], utc=True).as_unit("ns").asi8,
            "arrival_seq": np.array([v[2] for v in in_range.values()], dtype=np.int64),
            "max_version": np.array([v[3] for v in in_range.values()], dtype=np.int64),
        }
    )
    version, current, displaced = load._number(found, frame, T0, arrival_seq)
    expected = _loop(keys, newest, T0, arrival_seq)
    assert (version.tolist(), current.tolist(), sorted(displaced.tolist())) == expected


@pytest.mark.parametrize("text_dtype", TEXT_DTYPES)
def test_rows_from_frame_keeps_the_frame_and_stores_each_value_as_written(
    text_dtype: str, tmp_path: Path
) -> None:
    rows = [
        hub_row(
            "00V-H1",
            DAY,
            comments="  ",
            warnings=["W01", "W03"],
            gp_hours=0.1 + 0.2,
            other_clinician_hours=Decimal("10.50"),
        ),
        hub_row("00V-H1", DAY + timedelta(1), comments="flood"),
    ]
    rows[1]["hub_code"] = " 00v-h1"
    for number, row in enumerate(rows, start=1):
        row["row_number"] = number
    frame = accepted_frame(rows, text_dtype)
    batch = load.rows_from_frame(frame)
    assert batch.frame is frame
    assert len(batch) == 2
    engine = db.upgrade(f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    submission_id = submit(engine, T0, rows, text_dtype=text_dtype)
    with engine.connect() as connection:
        first, second = (versions_of(connection, "00V-H1", day)[0] for day in (DAY, DAY + timedelta(1)))
    assert set(load.ROW_COLUMNS) <= set(first)
    assert (first["submission_id"], first["row_number"], first["activity_date"]) == (submission_id, 1, DAY)
    assert first["hub_code"] == "00V-H1"
    assert (first["gp_hours"], first["other_clinician_hours"]) == (Decimal("0.30"), Decimal("10.50"))
    assert (first["comments"], first["warnings"]) == (None, ["W01", "W03"])
    assert (second["hub_code"], second["comments"], second["warnings"]) == ("00V-H1", "flood", [])
    assert type(first["appts_offered"]) is int


def test_chunks_cover_the_rows_once_in_order() -> None:
    batch = load.Rows(pd.DataFrame({"hub_code": [f"H{n}" for n in range(7)]}))
    chunks = list(batch.chunks(3))
    assert [start for start, _ in chunks] == [0, 3, 6]
    assert [part["hub_code"].tolist() for _, part in chunks] == [
        ["H0", "H1", "H2"],
        ["H3", "H4", "H5"],
        ["H6"],
    ]


@pytest.mark.parametrize(
    "values",
    [
        [["W01", "W03"], [], ["W05"], ["W02", "W04", "W01"]],  # the validator's lists
        [("W01",), np.array(["W02", "W03"], dtype=object), None, float("nan"), []],  # tuples, arrays, none
        [[], [], []],  # no warning anywhere
        [['W0"1'], ["back\\slash"], ["é"], ["W01"]],  # ids JSON must escape: the row-at-a-time path
        [[1, 2], ["W01"]],  # not strings: the row-at-a-time path (str of each)
        ["W01", ["W02"]],  # a string where a list belongs counts as none, as before
    ],
)
def test_rules_json_is_the_text_json_dumps_gives(values: list[object]) -> None:
    part = pd.DataFrame({"warnings": pd.Series(values, dtype=object)})
    expected = load._rules_json_python(part)
    assert expected == [json.dumps(rules) for rules in load._rule_lists(part)]
    assert load._rules_json(part).to_pylist() == expected


def test_rules_json_without_a_warnings_column_is_empty_lists() -> None:
    assert load._rules_json(pd.DataFrame({"row_number": [1, 2]})).to_pylist() == ["[]", "[]"]
