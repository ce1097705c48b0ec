"""Typed text columns (rules/cells.py): a blank is missing, whatever the column's Arrow layout, and a
return read as one array keeps its characters shared (no copy of the kept text)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from surgehub.returns.read import read_return
from surgehub.returns.rules.cells import type_cells
from tests.support.returns import corpus_row, csv_bytes

COMMENTS = ["Sickness", "", "Staff training", "", "", "Ünïcode ok"]


def read_table() -> pd.DataFrame:
    rows = [corpus_row(hub_code="14l-h1", comments=text) for text in COMMENTS]
    raw = read_return(csv_bytes(rows))
    assert raw.errors == []
    assert raw.table is not None
    return raw.table


def arrow_of(column: pd.Series) -> Any:
    held: Any = column.array._pa_array  # pyright: ignore[reportAttributeAccessIssue]
    return held


def layouts() -> dict[str, pd.DataFrame]:
    """The same table with its text columns as one Arrow array (read.py), as chunks (a batch's stacked
    returns), as Python objects (an XLSX read), and as a slice of a longer array."""
    table = read_table()
    half = len(table) // 2
    chunked = pd.concat([table.iloc[:half], table.iloc[half:]], ignore_index=True)
    objects = table.astype({name: object for name in table.columns if name != "row_number"})
    longer = pd.concat([table.iloc[:1], table], ignore_index=True)
    sliced = longer.iloc[1:].reset_index(drop=True)
    sliced = sliced.assign(
        comments=pd.Series(
            pd.array(pa.array(["x", *COMMENTS], type=pa.large_string()).slice(1), dtype="str")  # pyright: ignore[reportCallIssue, reportArgumentType]
        )
    )
    return {"one array": table, "chunked": chunked, "objects": objects, "sliced": sliced}


@pytest.mark.parametrize("layout", ["one array", "chunked", "objects", "sliced"])
def test_a_blank_text_cell_is_missing_and_the_rest_kept(layout: str) -> None:
    typed = type_cells(layouts()[layout]).frame
    comments = typed["comments"]
    assert str(comments.dtype) == "str"
    assert comments.isna().tolist() == [text == "" for text in COMMENTS]
    assert comments.dropna().tolist() == [text for text in COMMENTS if text]
    assert typed["hub_code"].tolist() == ["14L-H1"] * len(COMMENTS)  # codes upper-cased
    assert arrow_of(comments).null_count == COMMENTS.count("")


def test_the_kept_text_of_a_return_as_read_is_shared_not_copied() -> None:
    """Only a validity bitmap is new: a million rows of mostly blank comments would otherwise copy every
    kept character (~35 MB) for as long as the typed table lives."""
    table = read_table()
    source = arrow_of(table["comments"])
    typed = arrow_of(type_cells(table).frame["comments"])
    assert source.num_chunks == typed.num_chunks == 1
    assert typed.chunk(0).buffers()[2].address == source.chunk(0).buffers()[2].address
