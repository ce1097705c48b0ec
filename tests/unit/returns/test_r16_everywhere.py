"""R16 as spec 2026.2 defines it: every cell of the file whatever its column, and the file's name; never repeated."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from surgehub.cli import cli
from surgehub.identifiers import REMOVED
from surgehub.returns.read import read_return
from surgehub.returns.validate import ValidationResult, validate_return, validate_table
from surgehub.spec import COLUMN_NAMES as HEADER
from tests.support.corpus import SETTINGS
from tests.support.returns import corpus_row as row
from tests.support.returns import csv_bytes, typed_cells, xlsx_bytes
from tests.support.timeline import RECEIVED_AT

if TYPE_CHECKING:
    from pathlib import Path

NUMBER = "943 476 5919"  # passes the modulus-11 check


def validate(data: bytes, **kwargs: Any) -> ValidationResult:
    return validate_return(data, locality="14L", received_at=RECEIVED_AT, settings=SETTINGS, **kwargs)


def assert_never_repeated(*texts: str) -> None:
    for text in texts:
        for form in ("9434765919", "943 476 5919", "943-476-5919", "476 5919", "4765919"):
            assert form not in text, text


def r16(result: ValidationResult) -> list[tuple[int | None, int | None, str | None]]:
    return [(f.row, f.spreadsheet_row, f.column) for f in result.errors if f.rule == "R16"]


def dumped(result: ValidationResult) -> str:
    return json.dumps(result.to_json_dict(), ensure_ascii=False) + repr(result)


def test_in_a_header_cell() -> None:
    result = validate(csv_bytes([row()], header=[*HEADER, f"Patient {NUMBER}"]))
    assert r16(result) == [(None, 1, f"Patient {REMOVED}")]
    f03 = next(f for f in result.errors if f.rule == "F03")
    assert f03.column == f"Patient {REMOVED}"  # F03's column masked too
    assert result.r16_failed
    assert_never_repeated(dumped(result))


def test_in_an_unknown_column() -> None:
    data = csv_bytes([row(), row(hub_code="14L-H2") | {"notes": f"pt {NUMBER}"}], header=[*HEADER, "notes"])
    result = validate(data)
    assert r16(result) == [(2, 3, "notes")]
    assert {f.rule for f in result.errors} == {"F03", "R16"}
    assert_never_repeated(dumped(result))


def test_beyond_the_header() -> None:
    result = validate(csv_bytes([[*row().values(), NUMBER]]))
    assert r16(result) == [(1, 2, None)]
    assert "column W" in next(f.message for f in result.errors if f.rule == "R16")


@pytest.mark.parametrize(
    "column", ["appts_offered", "gp_hours", "signed_off_by", "hub_code", "activity_date"]
)
def test_in_any_spec_column(column: str) -> None:
    result = validate(csv_bytes([row(**{column: "9434765919"})]))
    assert r16(result) == [(1, 2, column)]
    assert result.r16_failed
    assert_never_repeated(dumped(result))  # e.g. R03 "appts_offered [NHS number removed] is outside …"


def test_numeric_message_is_masked() -> None:
    result = validate(csv_bytes([row(sessions_planned="9434765919")]))
    r03 = next(f for f in result.errors if f.rule == "R03")
    assert r03.message.startswith(f"sessions_planned {REMOVED} is outside 0–40")


def test_in_a_numeric_xlsx_cell() -> None:
    cells = typed_cells(row())
    cells[HEADER.index("appts_offered")] = 9434765919.0
    result = validate(xlsx_bytes([cells]))
    assert r16(result) == [(1, 2, "appts_offered")]
    assert_never_repeated(dumped(result))


def test_in_the_file_name() -> None:
    name = f"Patient {NUMBER}.csv"
    result = validate(csv_bytes([row()]), file_name=name)
    assert result.status == "rejected"
    assert [(f.rule, f.row, f.spreadsheet_row, f.column) for f in result.errors] == [
        ("R16", None, None, "file")
    ]
    assert result.r16_failed
    assert result.frame is None
    assert_never_repeated(dumped(result))
    assert validate(csv_bytes([row()]), file_name="Manchester 0161 943 476 5919.csv").accepted  # 14 digits


def test_the_file_name_is_judged_even_when_the_bytes_are_not_readable() -> None:
    result = validate(b"\x89PNG\r\n\x1a\nxx", file_name=f"{NUMBER}.png")
    assert {(f.rule, f.column) for f in result.errors} == {("F01", None), ("R16", "file")}
    assert result.r16_failed


@pytest.mark.parametrize(
    "text",
    [
        "943 476 5919",
        "943  476\t5919",
        "943\u00a0476\u00a05919",
        "943-476-5919",
        "943\u2010476\u20115919",
        "943\u2013476\u20145919",
        "943\u2212476\u22125919",
        "943.476.5919",
        "943/476/5919",
        "９４３４７６５９１９",
        "pt ９４３ ４７６ ５９１９ seen",
    ],
)
def test_separators_and_nfkc_forms_are_found(text: str) -> None:
    result = validate(csv_bytes([row(comments=text)]))
    assert r16(result) == [(1, 2, "comments")]
    dump = dumped(result)
    assert text not in dump
    assert "5919" not in dump
    assert "５９１９" not in dump


@pytest.mark.parametrize(
    "text",
    ["943 476 5919 1", "0161 943 476 5919", "943 -476 5919", "943,476,5919", "943_476_5919", "9434765918"],
)
def test_runs_that_are_not_nhs_numbers_pass(text: str) -> None:
    assert validate(csv_bytes([row(comments=text)])).accepted


def test_one_finding_per_cell() -> None:
    result = validate(csv_bytes([row(comments=f"{NUMBER} and 401 023 2137", signed_off_by=NUMBER)]))
    assert r16(result) == [(1, 2, "comments"), (1, 2, "signed_off_by")]


def test_judged_even_when_a_file_rule_stops_the_row_rules() -> None:
    """F06 (and F04, F05) stop the row rules, but a patient number still sends the file to quarantine."""
    too_many = validate(csv_bytes([row(comments=NUMBER)] + [row()] * 500))
    assert {f.rule for f in too_many.errors} == {"F06", "R16"}
    assert too_many.r16_failed
    twice = validate(csv_bytes([[*row().values(), NUMBER]], header=[*HEADER, "comments"]))
    assert {f.rule for f in twice.errors} == {"F04", "R16"}


def test_a_foreign_file_holding_a_number_is_quarantined_and_says_why() -> None:
    result = validate(f"patient,nhs number\nA,{NUMBER}\n".encode())
    assert [f.rule for f in result.errors] == ["F02", "R16"]
    assert result.r16_failed
    assert_never_repeated(dumped(result))


def test_semicolon_file_holding_a_number() -> None:
    data = ";".join(HEADER).encode() + b"\n" + f"2026-11-24;14L;{NUMBER}".encode() + b"\n"
    result = validate(data)
    assert {f.rule for f in result.errors} == {"F01", "R16"}


def test_many_numbers_are_capped_and_never_repeated() -> None:
    data = csv_bytes(
        [row(activity_date="2026-11-24", hub_code="14L-H1", comments=f"pt {NUMBER}", sessions_planned="6")]
        * 80
    )
    result = validate(data)
    assert result.totals["R16"] == 80
    assert len([f for f in result.errors if f.rule == "R16"]) == 50
    assert_never_repeated(dumped(result))


def test_the_hub_and_date_a_finding_gives_are_masked() -> None:
    result = validate(csv_bytes([row(hub_code=NUMBER)]))
    assert {f.hub_code for f in result.errors} == {REMOVED}


def test_reader_finds_it_in_every_cell_kind() -> None:
    raw = read_return(csv_bytes([row() | {"x": NUMBER}], header=[*HEADER, "x"]))
    assert [(f.row, f.column) for f in raw.patient] == [(1, "x")]


def test_validate_table_scans_the_spec_columns() -> None:
    import pandas as pd

    table = pd.DataFrame([row(appts_offered="9434765919")], dtype=object)
    table.insert(0, "row_number", [1])
    result = validate_table(table, locality="14L", received_at=RECEIVED_AT, settings=SETTINGS)
    assert [(f.rule, f.row, f.column) for f in result.errors if f.rule == "R16"] == [
        ("R16", 1, "appts_offered")
    ]


def test_cli_validate_judges_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / f"Patient {NUMBER}.csv"
    path.write_bytes(csv_bytes([row()]))
    result = CliRunner().invoke(
        cli, ["validate", str(path), "--locality", "14L", "--received-at", "2026-11-25T09:00", "--json"]
    )
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert [(e["rule"], e["column"]) for e in payload["errors"]] == [("R16", "file")]
    assert_never_repeated(result.stdout)


# -- the vectorised pre-filter never lets a number through ----------------------------------------

_ALPHABET = st.sampled_from(
    [*"0123456789", " ", "-", ".", "/", "\t", "\u00a0", "\u2013", "９", "٣", "a", ",", "é"]
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(alphabet=_ALPHABET, max_size=30)), max_size=40), st.integers(0, 5)
)
def test_the_prefilter_finds_exactly_the_cells_identifiers_finds(texts: list[str | None], start: int) -> None:
    import pyarrow as pa

    from surgehub.identifiers import contains_nhs_number
    from surgehub.returns.rules.patients import holding_numbers, list_hits

    cells = pa.array(["pad"] * start + texts, type=pa.large_string()).slice(start)  # an offset slice too
    expected = [i for i, text in enumerate(texts) if text is not None and contains_nhs_number(text)]
    assert holding_numbers(cells).tolist() == expected
    assert [p for _, p in list_hits([[text or ""] for text in texts])] == expected


def test_validate_table_reads_chunked_arrow_columns() -> None:
    import pandas as pd
    import pyarrow as pa

    table = pd.DataFrame([row(), row(hub_code="14L-H2")], dtype=object)
    chunked = pa.chunked_array([pa.array(["Lead"], pa.large_string()), pa.array([NUMBER], pa.large_string())])
    table["signed_off_by"] = pd.Series(pd.arrays.ArrowStringArray(chunked))
    table.insert(0, "row_number", [1, 2])
    result = validate_table(table, locality="14L", received_at=RECEIVED_AT, settings=SETTINGS)
    assert [(f.rule, f.row, f.column) for f in result.errors if f.rule == "R16"] == [
        ("R16", 2, "signed_off_by")
    ]
