"""The CSV attachment: formula-like text neutralised, numbers left as numbers, Excel-friendly encoding."""

from __future__ import annotations

import csv
import io

import pytest

from surgehub.digest.csv_export import COLUMNS, neutralise, to_csv


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.example/","click")',
        "+44 161 000",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "   =cmd|' /C calc'!A0",
        "＝1+1",
    ],
)
def test_text_that_a_spreadsheet_would_run_gets_a_leading_apostrophe(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize(
    "value", ["Closed at short notice", "café ✓ 患者", "", "1 session unfilled", 0, 12, -3, None]
)
def test_ordinary_text_and_numbers_pass_unchanged(value: object) -> None:
    assert neutralise(value) == value


def test_csv_round_trips_hostile_comments_as_inert_text_with_a_bom_and_crlf() -> None:
    hostile = '=HYPERLINK("http://evil.example/","x"), "quoted"\nsecond line ✓ Zoë'
    data = to_csv(
        [{"period_key": "board:2026-11-26T07:30", "sub_icb_code": "02H", "comments": hostile, "points": -1}]
    )
    assert data.startswith("\ufeff".encode())
    assert b"\r\n" in data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert list(rows[0]) == list(COLUMNS)
    assert rows[0]["comments"] == "'" + hostile
    assert rows[0]["points"] == "-1"  # a number is written as a number, never neutralised
    assert not any(
        cell.startswith(("=", "+", "-", "@")) for row in rows for k, cell in row.items() if k != "points"
    )
