"""Reading bytes into a table: formats by content, encodings, Excel cells, headers, limits (F01–F06)."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surgehub import spec
from surgehub.returns.read import _cell_text, read_return
from tests.support.corpus import CORPUS, corpus_file
from tests.support.returns import corpus_row, csv_bytes, three_hubs, typed_cells, xlsx_bytes

MIB = 1024 * 1024


def rules(data: bytes, **limits: int) -> list[str]:
    return [f.rule for f in read_return(data, **limits).errors]


def test_file_of_exactly_five_mib_is_read_and_one_byte_more_fails_f01() -> None:
    body = csv_bytes([corpus_row(comments="X")])
    padded = body.replace(b",X,", b"," + b" " * (5 * MIB - len(body) + 1) + b",")  # trimmed to blank
    assert len(padded) == 5 * MIB
    raw = read_return(padded)
    assert raw.errors == []
    assert raw.rows == 1
    assert raw.table is not None
    assert raw.table["comments"].iloc[0] == ""
    over = read_return(padded + b"\n")
    assert [f.rule for f in over.errors] == ["F01"]
    assert "5 MiB" in over.errors[0].message


def test_500_data_rows_pass_f06_and_501_fail_it() -> None:
    assert rules(csv_bytes([corpus_row()] * 500)) == []
    assert rules(csv_bytes([corpus_row()] * 501)) == ["F06"]


def test_row_limit_counts_data_rows_not_empty_ones() -> None:
    rows: list[dict[str, str] | list[str]] = [corpus_row()] * 500 + [[""] * 22] * 10
    assert rules(csv_bytes(rows)) == []


def test_limits_come_from_the_caller() -> None:
    assert rules(csv_bytes([corpus_row()] * 3), max_data_rows=2) == ["F06"]
    assert rules(csv_bytes([corpus_row()]), max_file_bytes=10) == ["F01"]


def test_xlsx_over_the_row_limit_fails_f06_without_reading_everything() -> None:
    data = xlsx_bytes([typed_cells(corpus_row())] * 503)
    raw = read_return(data)
    assert [f.rule for f in raw.errors] == ["F06"]
    assert "more than 500" in raw.errors[0].message


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("png-image.csv", "PNG image"),
        ("pdf-document.xlsx", "PDF document"),
        ("zip-not-workbook.xlsx", "ZIP archive that is not an Excel workbook"),
        ("nul-bytes.csv", "NUL bytes"),
        ("utf16.csv", "UTF-16"),
        ("cp1252-undefined-9d.csv", "0x9D"),
        ("semicolons.csv", "semicolons"),
    ],
)
def test_unreadable_files_say_what_they_look_like(name: str, words: str) -> None:
    raw = read_return(corpus_file(name))
    assert [f.rule for f in raw.errors] == ["F01"]
    assert words in raw.errors[0].message
    assert raw.errors[0].row is None
    assert raw.errors[0].column is None


def test_old_excel_and_jpeg_are_named() -> None:
    assert "97–2003" in read_return(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100).errors[0].message
    assert "JPEG" in read_return(b"\xff\xd8\xff\xe0" + b"\x00" * 100).errors[0].message


def test_damaged_workbook_is_f01() -> None:
    data = xlsx_bytes([typed_cells(corpus_row())])
    raw = read_return(data[: len(data) // 2])
    assert [f.rule for f in raw.errors] == ["F01"]


def test_empty_file_fails_f05_alone() -> None:
    assert rules(b"") == ["F05"]
    assert rules(b" \r\n\n") == ["F05"]


def test_windows_1252_text_is_decoded_with_pound_and_accents() -> None:
    raw = read_return(corpus_file("cp1252-pound-eacute.csv"))
    assert raw.table is not None
    assert raw.table["comments"].iloc[0] == "£250 locum cover funded; café closed"
    assert raw.table["signed_off_by"].iloc[0] == "Clinical lead (Chloé Brontë)"


def test_bom_does_not_spoil_the_first_header_name() -> None:
    raw = read_return(corpus_file("utf8-bom.csv"))
    assert raw.errors == []
    assert raw.table is not None
    assert raw.table["activity_date"].iloc[0] == "2026-11-24"


def test_quoted_thousands_stay_one_cell() -> None:
    raw = read_return(corpus_file("quoted-thousands.csv"))
    assert raw.table is not None
    assert raw.table["appts_offered"].iloc[0] == "1,234"


def test_header_is_first_non_empty_row_and_rows_count_empty_ones() -> None:
    raw = read_return(corpus_file("blank-rows-numbering.csv"))
    assert raw.table is not None
    assert raw.table["row_number"].tolist() == [1, 4]
    assert raw.rows == 2


def test_xlsx_cells_become_the_text_a_csv_would_hold() -> None:
    raw = read_return(corpus_file("xlsx-typed-cells.xlsx"))
    assert raw.format == "xlsx"
    assert raw.table is not None
    first = raw.table.iloc[0]
    assert first["activity_date"] == "2026-11-24"
    assert first["appts_offered"] == "120"
    assert first["comments"] == ""


def test_sheet_named_return_is_preferred_over_the_first() -> None:
    raw = read_return(corpus_file("xlsx-return-second-sheet.xlsx"))
    assert raw.errors == []
    assert raw.rows == 3


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (12.0, "12"),
        (12, "12"),
        (7.125, "7.125"),
        (7.1000000000000005, "7.1"),
        (datetime(2026, 11, 24), "2026-11-24"),
        (datetime(2026, 11, 24, 10, 30), "2026-11-24 10:30:00"),
        (date(2026, 11, 24), "2026-11-24"),
        (time(10, 30), "10:30:00"),
        (True, "TRUE"),
        ("  Lead  ", "Lead"),
    ],
)
def test_excel_cell_values(value: object, text: str) -> None:
    assert _cell_text(value) == text


def test_every_header_problem_is_listed() -> None:
    header = [*spec.COLUMN_NAMES[1:], "notes", "extra", "GP_Hours"]
    raw = read_return(csv_bytes([["1"] * len(header)], header=header))
    found = sorted((f.rule, f.column) for f in raw.errors)
    assert found == [("F02", "activity_date"), ("F03", "extra"), ("F03", "notes"), ("F04", "gp_hours")]
    assert raw.table is None


def test_table_has_spec_columns_in_order_and_row_numbers() -> None:
    raw = read_return(csv_bytes(three_hubs()))
    assert raw.table is not None
    assert list(raw.table.columns) == ["row_number", *spec.COLUMN_NAMES]
    assert raw.table["row_number"].tolist() == [1, 2, 3]


def test_unclosed_quote_is_f01_naming_its_line() -> None:
    text = csv_bytes(
        [corpus_row(), corpus_row(hub_code="14L-H2", comments="x"), corpus_row(hub_code="14L-H3")]
    )
    broken = text.replace(b",x,", b',"x,', 1)
    raw = read_return(broken)
    assert [f.rule for f in raw.errors] == ["F01"]
    assert "line 3" in raw.errors[0].message


def test_quotes_in_pairs_are_fine() -> None:
    assert read_return(csv_bytes([corpus_row(comments='said "no" twice')])).errors == []


# -- the fast (pyarrow) and careful (csv module) CSV paths agree ----------------------------------


def _both_paths(data: bytes) -> tuple[object, object] | None:
    from surgehub.returns.read import _csv_arrow_columns, _csv_rows, _decode, _shape, _shape_arrow

    text = _decode(data)
    columns = _csv_arrow_columns(text)
    if columns is None:
        return None
    fast = _shape_arrow(text, columns, spec.MAX_DATA_ROWS)
    careful = _shape("csv", *_csv_rows(text), spec.MAX_DATA_ROWS)

    def comparable(raw: object) -> tuple[object, ...]:
        table = raw.table  # type: ignore[attr-defined]
        cells = None if table is None else {c: [str(v) for v in table[c].tolist()] for c in table.columns}
        return (raw.rows, raw.errors, cells)  # type: ignore[attr-defined]

    return comparable(fast), comparable(careful)


@pytest.mark.parametrize(
    "name",
    sorted(
        p.name for p in CORPUS.glob("*.csv") if not p.name.startswith(("png", "nul", "utf16", "cp1252-undef"))
    ),
)
def test_fast_and_careful_csv_paths_agree_on_corpus_files(name: str) -> None:
    paths = _both_paths(corpus_file(name))
    if paths is not None:
        assert paths[0] == paths[1]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from(["", " ", "x", "1,234", '"q"', "a b", "\u00a0y", "\n"]), min_size=22, max_size=22
        ),
        max_size=6,
    ),
    st.sampled_from(["\n", "\r\n"]),
)
def test_fast_and_careful_csv_paths_agree_on_random_cells(cells: list[list[str]], newline: str) -> None:
    paths = _both_paths(csv_bytes(cells, newline=newline))
    if paths is not None:
        assert paths[0] == paths[1]


def test_large_csv_takes_the_fast_path() -> None:
    from surgehub.returns.read import _csv_arrow_columns, _decode

    assert _csv_arrow_columns(_decode(csv_bytes([corpus_row()] * 50))) is not None


def test_careful_path_reads_cells_longer_than_the_csv_modules_default_limit() -> None:
    ragged = csv_bytes(
        [corpus_row(comments=" " * 200_000 + "x"), [*corpus_row().values(), ""]]
    )  # forces the csv module
    raw = read_return(ragged)
    assert raw.errors == []
    assert raw.table is not None
    assert raw.table["comments"].iloc[0] == "x"
