"""Spec 2026.2 §3: each row finding gives the spreadsheet row, and the row's hub_code and activity_date as written."""

from __future__ import annotations

from typing import Any

import pytest

from surgehub.returns.read import _csv_arrow_columns, _decode
from surgehub.returns.validate import ValidationResult, validate_return
from surgehub.spec import COLUMN_NAMES as HEADER
from tests.support.corpus import SETTINGS, corpus_file
from tests.support.returns import corpus_row as row
from tests.support.returns import csv_bytes, typed_cells, xlsx_bytes
from tests.support.timeline import RECEIVED_AT


def validate(data: bytes) -> ValidationResult:
    return validate_return(data, locality="14L", received_at=RECEIVED_AT, settings=SETTINGS)


def places(result: ValidationResult, rule: str) -> list[tuple[Any, ...]]:
    return [(f.row, f.spreadsheet_row, f.hub_code, f.activity_date) for f in result.errors if f.rule == rule]


def test_csv_spreadsheet_row_is_the_line_the_record_starts_on() -> None:
    data = csv_bytes([row(), row(hub_code="14L-H2", appts_offered="80"), row(hub_code="14L-H3")])
    assert places(validate(data), "R09") == [(2, 3, "14L-H2", "2026-11-24")]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_quoted_line_breaks_push_later_records_down(newline: str) -> None:
    data = csv_bytes(
        [
            row(comments=f"first line{newline}second line{newline}third", sessions_delivered="5"),
            row(hub_code="14L-H2", appts_offered="80"),
        ],
        newline=newline,
    )
    assert _csv_arrow_columns(_decode(data)) is not None  # the fast path
    result = validate(data)
    assert places(result, "R09") == [(2, 5, "14L-H2", "2026-11-24")]
    assert [(w.row, w.spreadsheet_row) for w in result.warnings] == [(1, 2)]


def test_quoted_line_breaks_on_the_careful_path_too() -> None:
    """Blank lines before the header send the file to the csv module; the numbering is the same."""
    body = csv_bytes(
        [
            row(comments="two\nlines", sessions_delivered="5"),
            [""] * 22,
            row(hub_code="14L-H2", appts_offered="80"),
        ]
    )
    data = b"\n\n" + body
    assert _csv_arrow_columns(_decode(data)) is None  # the careful path
    result = validate(data)
    # header on line 3; row 1 on lines 4-5; row 2 (empty) on line 6; row 3 on line 7
    assert places(result, "R09") == [(3, 7, "14L-H2", "2026-11-24")]


def test_corpus_blank_rows_numbering() -> None:
    result = validate(corpus_file("blank-rows-numbering.csv"))
    [r09] = [f for f in result.errors if f.rule == "R09"]
    lines = corpus_file("blank-rows-numbering.csv").decode().splitlines()
    assert r09.spreadsheet_row is not None
    assert lines[r09.spreadsheet_row - 1].split(",")[2] == r09.hub_code


def test_xlsx_spreadsheet_row_is_the_sheets_own_row_after_leading_blank_rows() -> None:
    bad = typed_cells(row(hub_code="14L-H2", appts_offered="80"))
    data = xlsx_bytes([typed_cells(row()), [], bad], leading_blank_rows=4)
    # sheet rows: 1-4 blank, 5 header, 6 row 1, 7 row 2 (empty), 8 row 3
    assert places(validate(data), "R09") == [(3, 8, "14L-H2", "2026-11-24")]


def test_xlsx_corpus_file_with_leading_blank_rows() -> None:
    [r09] = [f for f in validate(corpus_file("xlsx-leading-blank-rows.xlsx")).errors if f.rule == "R09"]
    assert (r09.row, r09.spreadsheet_row) == (3, 6)


def test_hub_and_date_are_given_as_written_trimmed() -> None:
    data = csv_bytes([row(hub_code="  14l-h2 ", activity_date=" 24/11/2026", appts_offered="80")])
    assert places(validate(data), "R09") == [(1, 2, "14l-h2", "24/11/2026")]


def test_blank_hub_and_date_are_null() -> None:
    result = validate(csv_bytes([row(hub_code="", activity_date="")]))
    assert {(f.rule, f.hub_code, f.activity_date) for f in result.errors} == {
        ("R02", None, None),
    }


def test_a_missing_hub_code_column_gives_null_hub() -> None:
    data = csv_bytes([row(appts_offered="80")], header=[h for h in HEADER if h != "hub_code"])
    [r09] = [f for f in validate(data).errors if f.rule == "R09"]
    assert (r09.spreadsheet_row, r09.hub_code, r09.activity_date) == (2, None, "2026-11-24")


def test_xlsx_date_cell_is_given_as_its_iso_date() -> None:
    data = xlsx_bytes([typed_cells(row(appts_offered="80"))])
    [r09] = [f for f in validate(data).errors if f.rule == "R09"]
    assert (r09.spreadsheet_row, r09.activity_date) == (2, "2026-11-24")


def test_file_rules_carry_no_place_and_json_has_every_field() -> None:
    result = validate(csv_bytes([row(appts_offered="80")], header=[h for h in HEADER if h != "comments"]))
    payload = result.to_json_dict()
    f02 = next(e for e in payload["errors"] if e["rule"] == "F02")
    r09 = next(e for e in payload["errors"] if e["rule"] == "R09")
    assert (f02["row"], f02["spreadsheet_row"], f02["hub_code"], f02["activity_date"]) == (
        None,
        None,
        None,
        None,
    )
    assert (r09["row"], r09["spreadsheet_row"], r09["hub_code"], r09["activity_date"]) == (
        1,
        2,
        "14L-H1",
        "2026-11-24",
    )


def test_warnings_carry_their_place_too() -> None:
    result = validate(csv_bytes([row(), row(hub_code="14L-H3", sessions_delivered="5", comments="sick")]))
    [w01] = result.warnings
    assert (w01.row, w01.spreadsheet_row, w01.hub_code, w01.activity_date) == (2, 3, "14L-H3", "2026-11-24")


def test_a_line_break_in_an_early_record_of_a_file_without_a_final_line_end() -> None:
    data = csv_bytes(
        [row(comments="two\nlines", sessions_delivered="5"), row(hub_code="14L-H2", appts_offered="80")]
    )
    data = data.rstrip(b"\n")
    assert _csv_arrow_columns(_decode(data)) is not None
    assert places(validate(data), "R09") == [(2, 4, "14L-H2", "2026-11-24")]
