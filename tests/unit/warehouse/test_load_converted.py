"""A batch's accepted rows converted to Python values at once (`load.Converted`) give each return exactly
the values its own rows converted alone give: codes trimmed and upper-cased, blanks and missing values
null, hours exact; the row numbers and warnings stay each return's own."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from surgehub.returns.batch import ValidationBatch
from surgehub.warehouse import load
from tests.support.corpus import CASES, SETTINGS
from tests.support.returns import hub_row
from tests.support.timeline import DAY
from tests.support.warehouse import TEXT_DTYPES, accepted_frame

if TYPE_CHECKING:
    import pandas as pd


def _returns() -> list[list[dict[str, Any]]]:
    """Three returns' rows, with the values the conversion changes: padded, lower-case codes, blank and
    missing comments and sign-offs, hours that are not exact binary fractions."""
    first = [
        hub_row("00V-H1", DAY, comments="  ", gp_hours=0.1 + 0.2, warnings=["W01", "W03"]),
        hub_row("00V-H1", DAY + timedelta(1), comments="flood", other_clinician_hours=10.5),
    ]
    first[1].update(hub_code=" 00v-h1 ", sub_icb_code="00v ", hub_status=" open")
    second = [hub_row("14L-H2", DAY, comments=None, signed_off_by=None, gp_hours=0.07)]
    third = [
        hub_row("14L-H1", DAY, comments=" \t", signed_off_by="  A. Lead "),
        hub_row("14l-h2\t", DAY + timedelta(2), comments=" trimmed? no ", warnings=["W04"]),
        hub_row("14L-H1", DAY + timedelta(1), gp_hours=123.45),
    ]
    return [first, second, third]


def _joint_and_parts(text_dtype: str) -> tuple[pd.DataFrame, list[pd.DataFrame], list[tuple[int, int]]]:
    """The returns' rows stacked as a batch stacks them (row numbers shifted, no warnings), and each
    return's own frame (its row numbers, its warnings), as the batch slices them."""
    returns = _returns()
    stacked: list[dict[str, Any]] = []
    parts: list[pd.DataFrame] = []
    bounds: list[tuple[int, int]] = []
    for n, rows in enumerate(returns):
        start = len(stacked)
        stacked += [{**row, "row_number": 100 * n + i, "warnings": []} for i, row in enumerate(rows, 1)]
        bounds.append((start, len(stacked)))
        parts.append(accepted_frame(rows, text_dtype))
    return accepted_frame(stacked, text_dtype), parts, bounds


@pytest.mark.parametrize("text_dtype", TEXT_DTYPES)
def test_each_returns_slice_of_the_joint_conversion_is_its_own_conversion(text_dtype: str) -> None:
    joint, parts, bounds = _joint_and_parts(text_dtype)
    converted = load.Converted(joint)
    for part, (start, stop) in zip(parts, bounds, strict=True):
        values = converted.values(start, stop)
        assert values is not None
        assert set(values) == set(load.SHARED_COLUMNS)
        together = load._python_columns(part, values)
        alone = load._python_columns(part)
        assert together == alone
        for name in load.ROW_COLUMNS:  # the same types too (Decimal, date, int, None)
            assert [type(v) for v in together[name]] == [type(v) for v in alone[name]], name
    first = load._python_columns(parts[0], converted.values(*bounds[0]))
    assert first["hub_code"] == ["00V-H1", "00V-H1"]
    assert first["sub_icb_code"] == ["00V", "00V"]
    assert first["hub_status"][1] == "OPEN"
    assert first["comments"] == [None, "flood"]
    assert first["gp_hours"][0] == Decimal("0.30")
    assert first["row_number"] == [1, 2]
    assert first["warnings"] == [["W01", "W03"], []]
    second = load._python_columns(parts[1], converted.values(*bounds[1]))
    assert (second["comments"], second["signed_off_by"]) == ([None], [None])
    third = load._python_columns(parts[2], converted.values(*bounds[2]))
    assert third["hub_code"] == ["14L-H1", "14L-H2", "14L-H1"]
    assert third["comments"] == [None, " trimmed? no ", None]  # comments as given; blank is null
    assert third["signed_off_by"][0] == "  A. Lead "  # not a code: as given


@pytest.mark.parametrize("text_dtype", TEXT_DTYPES)
def test_keys_and_localities_from_the_converted_values_are_the_frames(text_dtype: str) -> None:
    joint, parts, bounds = _joint_and_parts(text_dtype)
    converted = load.Converted(joint)
    for part, (start, stop) in zip(parts, bounds, strict=True):
        fast = load.Rows(part, converted.values(start, stop))
        slow = load.Rows(part)
        a, b = load._Keys.of(fast), load._Keys.of(slow)
        assert a.hubs == b.hubs
        assert a.hub.tolist() == b.hub.tolist()
        assert a.day.tolist() == b.day.tolist()
        names_a, index_a = load._localities(fast)
        names_b, index_b = load._localities(slow)
        assert (names_a, index_a.tolist()) == (names_b, index_b.tolist())


def test_a_missing_code_is_refused_either_way() -> None:
    rows = [hub_row("14L-H1", DAY), hub_row("14L-H2", DAY)]
    rows[1]["hub_code"] = None
    frame = accepted_frame(rows)
    values = load.Converted(frame).values(0, 2)
    for batch in (load.Rows(frame), load.Rows(frame, values)):
        with pytest.raises(ValueError, match="hub_code is missing"):
            load._Keys.of(batch)


def test_a_joint_conversion_that_fails_leaves_each_return_to_convert_its_own() -> None:
    """A value one return's load would refuse (hours missing) must fail that return alone."""
    joint = accepted_frame([hub_row("14L-H1", DAY), hub_row("14L-H2", DAY)])
    joint.loc[1, "gp_hours"] = np.nan
    converted = load.Converted(joint)
    assert converted.values(0, 1) is None
    assert converted.values(1, 2) is None
    with pytest.raises(ValueError, match="gp_hours"):
        load._python_columns(joint.iloc[1:2])
    assert load._python_columns(joint.iloc[0:1])["hub_code"] == ["14L-H1"]


def test_more_rows_than_a_chunk_are_left_to_each_return(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large returns keep their Python values a chunk at a time: no joint conversion above CHUNK_ROWS."""
    joint, _, bounds = _joint_and_parts("str")
    monkeypatch.setattr(load, "CHUNK_ROWS", len(joint) - 1)
    assert load.Converted(joint).values(*bounds[0]) is None
    monkeypatch.setattr(load, "CHUNK_ROWS", len(joint))
    assert load.Converted(joint).values(*bounds[0]) is not None


def test_values_not_of_the_frames_rows_are_refused() -> None:
    frame = accepted_frame([hub_row("14L-H1", DAY)])
    values = load.Converted(accepted_frame([hub_row("14L-H1", DAY)] * 2)).values(0, 2)
    with pytest.raises(ValueError, match="not the frame's rows"):
        load.Rows(frame, values)


def test_a_validation_batchs_returns_are_slices_of_its_joint_frame() -> None:
    """Every accepted corpus return judged in one batch: its slice of the batch's joint frame, converted
    at once, is what its own frame converted alone gives."""
    batch = ValidationBatch(
        [(case.data, case.locality, case.received_at) for case in CASES], settings=SETTINGS
    )
    converted: dict[int, load.Converted] = {}
    checked = 0
    for case in CASES:
        judged = batch.lookup(case.data, case.locality, case.received_at)
        if judged is None or judged.frame is None:
            continue
        assert judged.stacked is not None, case.id
        joint = converted.setdefault(id(judged.stacked.frame), load.Converted(judged.stacked.frame))
        values = joint.values(judged.stacked.start, judged.stacked.stop)
        assert values is not None, case.id
        assert load._python_columns(judged.frame, values) == load._python_columns(judged.frame), case.id
        checked += 1
    assert checked >= 5
