"""A return's coverage (the dates and hubs its rows name) is judged once per distinct cell text.

``Coverage.of_cells`` used to judge every cell in Python (about 5 s on a million rows); it now works on
the distinct texts and integer keys. These tests hold it to the per-cell definition, written out
plainly below, on any cells.
"""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surgehub.identifiers import mask
from surgehub.returns.result import COVERAGE_LISTED, HUB_DAYS_LISTED, Coverage


def per_cell(dates: list[str], hubs: list[str]) -> Coverage:
    """The definition, cell by cell (the earlier implementation)."""

    def day_of(value: str) -> str | None:
        text = value.strip()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text, flags=re.ASCII):
            return None
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            return None

    def hub_of(value: str) -> str | None:
        text = value.strip()
        return mask(text) if text and len(text) <= 16 and text.isprintable() else None

    read_days = [day_of(v) for v in dates]
    read_hubs = [hub_of(v) for v in hubs]
    listed_dates = sorted({d for d in read_days if d})
    listed_hubs = sorted({h for h in read_hubs if h})
    pairs = sorted({(h.upper(), d) for h, d in zip(read_hubs, read_days, strict=False) if h and d})
    return Coverage(
        activity_dates=tuple(listed_dates[:COVERAGE_LISTED]),
        hubs=tuple(listed_hubs[:COVERAGE_LISTED]),
        more_dates=max(len(listed_dates) - COVERAGE_LISTED, 0),
        more_hubs=max(len(listed_hubs) - COVERAGE_LISTED, 0),
        hub_days=tuple(pairs[:HUB_DAYS_LISTED]),
    )


date_cells = st.one_of(
    st.dates(min_value=date(2026, 10, 1), max_value=date(2027, 4, 30)).map(date.isoformat),
    st.sampled_from(["2026-02-30", " 2026-11-24 ", "24/11/2026", "", "x", "２０２６-11-24", "2026-1-5"]),
)
hub_cells = st.one_of(
    st.sampled_from(["14L-H1", "14l-h1", " 14L-H2 ", "00T-H1", "943 476 5919", "x" * 40, "", "a\tb", "NA"]),
    st.text(max_size=20),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(date_cells, max_size=80), st.lists(hub_cells, max_size=80))
def test_coverage_is_the_per_cell_definition(dates: list[str], hubs: list[str]) -> None:
    assert Coverage.of_cells(dates, hubs) == per_cell(dates, hubs)


@pytest.mark.parametrize("distinct_hubs", [210, 2_000])  # hub-days dense (a table of them) or sparse (sorted)
def test_coverage_of_text_columns_as_read_equals_the_definition_beyond_every_cap(distinct_hubs: int) -> None:
    # More dates, hubs and hub-days than any cap, as pandas "str" columns (what read.py hands over).
    days = [date.fromordinal(date(2026, 11, 1).toordinal() + i).isoformat() for i in range(40)]
    dates = [days[i % 40] for i in range(2_000)]
    hubs = [f"{'ab'[i % 2]}{i % distinct_hubs:04d}-h{i % 3}" for i in range(2_000)]
    got = Coverage.of_cells(pd.Series(dates, dtype="str"), pd.Series(hubs, dtype="str"))
    assert got == per_cell(dates, hubs)
    assert len(got.hub_days) == HUB_DAYS_LISTED
    assert got.more_dates == 40 - COVERAGE_LISTED


def test_a_missing_cell_names_nothing() -> None:
    got = Coverage.of_cells(
        pd.Series(["2026-11-24", None], dtype="str"), pd.Series([None, "14L-H1"], dtype="str")
    )
    assert got.activity_dates == ("2026-11-24",)
    assert got.hubs == ("14L-H1",)
    assert got.hub_days == ()
