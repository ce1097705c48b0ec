"""Property tests: random mutations of the example return never raise, and a rejected result has no frame."""

from __future__ import annotations

import csv
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surgehub.returns.validate import ValidationResult, validate_return
from tests.support.corpus import SETTINGS, corpus_file
from tests.support.timeline import RECEIVED_AT

EXAMPLE = corpus_file("example-return.csv")
ROWS = list(csv.reader(io.StringIO(EXAMPLE.decode("utf-8"))))

INTERESTING = [
    "",
    " ",
    "0",
    "-1",
    "12.0",
    "1,234",
    "12,34",
    "2001",
    "40",
    "41",
    "300.01",
    "7.125",
    "2026-11-31",
    "24/11/2026",
    "2026-11-26",
    "CLOSED_PLANNED",
    "closed_unplanned",
    "14L-H9",
    "00T",
    "943 476 5919",
    "x" * 1001,
    "£é\u00a0",
    '"',
    "\r\n",
    "NaN",
    "None",
    "1e3",
    "９",
    "９４３４７６５９１９",
    "12\x00",
]

cell_values = st.one_of(st.sampled_from(INTERESTING), st.text(max_size=20))
PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(result: ValidationResult) -> None:
    assert result.status in ("accepted", "rejected")
    json.dumps(result.to_json_dict())
    if result.status == "rejected":
        assert result.frame is None
        assert result.errors
    else:
        assert result.errors == []
        assert result.frame is not None
        assert len(result.frame) == result.rows
    if result.r16_failed:
        assert result.status == "rejected"
        assert "943 476 5919" not in json.dumps(result.to_json_dict())


def to_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


@PROPERTY_SETTINGS
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 21), cell_values), min_size=1, max_size=6))
def test_cell_mutations_never_raise(edits: list[tuple[int, int, str]]) -> None:
    rows = [list(r) for r in ROWS]
    for r, c, value in edits:
        rows[r][c] = value
    check(validate_return(to_bytes(rows), locality="14L", received_at=RECEIVED_AT, settings=SETTINGS))


@PROPERTY_SETTINGS
@given(
    st.lists(
        st.sampled_from(["drop_row", "dup_row", "drop_col", "dup_col", "blank_row", "swap_cols"]), max_size=4
    ),
    st.data(),
)
def test_shape_mutations_never_raise(operations: list[str], data: st.DataObject) -> None:
    rows = [list(r) for r in ROWS]
    for op in operations:
        width = len(rows[0])
        if op == "drop_row" and len(rows) > 1:
            rows.pop(data.draw(st.integers(0, len(rows) - 1)))
        elif op == "dup_row":
            rows.append(list(rows[data.draw(st.integers(0, len(rows) - 1))]))
        elif op == "blank_row":
            rows.insert(data.draw(st.integers(0, len(rows))), [""] * width)
        elif op in ("drop_col", "dup_col", "swap_cols") and width > 1:
            i, j = data.draw(st.integers(0, width - 1)), data.draw(st.integers(0, width - 1))
            for r in rows:
                if op == "drop_col" and i < len(r):
                    r.pop(i)
                elif op == "dup_col" and i < len(r):
                    r.append(r[i])
                elif op == "swap_cols" and max(i, j) < len(r):
                    r[i], r[j] = r[j], r[i]
    check(validate_return(to_bytes(rows), locality="14L", received_at=RECEIVED_AT, settings=SETTINGS))


@PROPERTY_SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, len(EXAMPLE)), st.binary(max_size=3), st.integers(0, 3)), max_size=5)
)
def test_byte_mutations_never_raise(edits: list[tuple[int, bytes, int]]) -> None:
    data = bytearray(EXAMPLE)
    for at, insert, delete in edits:
        data[at : at + delete] = insert
    check(validate_return(bytes(data), locality="14L", received_at=RECEIVED_AT, settings=SETTINGS))


@PROPERTY_SETTINGS
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    check(validate_return(data, locality="14L", received_at=RECEIVED_AT, settings=SETTINGS))
