"""Spec 2026.2 §3: every error at once, "not a surge-hub return", wide headers, the cap, and what is not checked."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from surgehub import spec
from surgehub.returns import gx_runtime
from surgehub.returns.validate import ValidationResult, validate_return
from surgehub.spec import COLUMN_NAMES as HEADER
from tests.support.corpus import SETTINGS
from tests.support.returns import corpus_row as row
from tests.support.returns import csv_bytes, typed_cells, xlsx_bytes
from tests.support.timeline import RECEIVED_AT


def validate(data: bytes, **kwargs: Any) -> ValidationResult:
    return validate_return(data, locality="14L", received_at=RECEIVED_AT, settings=SETTINGS, **kwargs)


def without(*names: str) -> list[str]:
    return [h for h in HEADER if h not in names]


def keys(result: ValidationResult) -> Counter[tuple[str, int | None, str | None]]:
    return Counter((f.rule, f.row, f.column) for f in result.errors)


# -- "not a surge-hub return" ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"Notes for Monday\nRemember to send the return by 11:00\n", id="notes-txt"),
        pytest.param(b"patient_id,name,ward,bed\n1,A,3,4\n2,B,3,5\n" * 1, id="another-systems-csv"),
        pytest.param(
            csv_bytes([row()], header=["activity_date", "hub_code", "comments", "x", "y"]),
            id="3-spec-columns",
        ),
        pytest.param(
            xlsx_bytes([["Q3", 12, 14.5]], header=["Quarter", "Practices", "Hours"]), id="another-workbook"
        ),
    ],
)
def test_a_foreign_file_gives_exactly_one_finding(data: bytes) -> None:
    result = validate(data)
    assert result.status == "rejected"
    [finding] = result.errors
    assert (finding.rule, finding.row, finding.column) == ("F02", None, None)
    assert finding.message.startswith("this is not a surge-hub return")
    assert result.warnings == []
    assert result.not_checked == []
    assert result.totals == {"F02": 1}


def test_not_a_return_names_at_most_ten_of_the_cells_it_found() -> None:
    header = [f"field{i}" for i in range(30)]
    [finding] = validate(csv_bytes([["1"] * 30], header=header)).errors
    assert all(f'"field{i}"' in finding.message for i in range(10))
    assert '"field10"' not in finding.message
    assert "and 20 more" in finding.message


def test_four_spec_columns_make_it_a_return_with_one_f02_per_missing_column() -> None:
    header = ["activity_date", "sub_icb_code", "hub_code", "hub_status"]
    result = validate(csv_bytes([row()], header=header))
    assert Counter(f.rule for f in result.errors) == {"F02": len(spec.COLUMN_NAMES) - 4}
    assert {f.column for f in result.errors} == set(spec.COLUMN_NAMES) - set(header)


# -- F02 and F03 no longer stop the row rules ---------------------------------------------------------


def test_missing_column_and_row_errors_are_listed_in_one_answer() -> None:
    """The walkthrough's file: no comments column, a wrong hub code and a negative number."""
    data = csv_bytes(
        [row(hub_code="14L-H9"), row(hub_code="14L-H2", appts_dna="-1")], header=without("comments")
    )
    result = validate(data)
    assert keys(result) == Counter(
        {("F02", None, "comments"): 1, ("R06", 1, "hub_code"): 1, ("R03", 2, "appts_dna"): 1}
    )
    assert [item.to_dict() for item in result.not_checked] == [{"rule": "R15", "needs": ["comments"]}]
    payload = result.to_json_dict()
    assert payload["not_checked"] == [{"rule": "R15", "needs": ["comments"]}]
    assert payload["totals"] == {"F02": 1, "R03": 1, "R06": 1}


def test_unknown_column_and_row_errors_are_listed_in_one_answer() -> None:
    data = csv_bytes([row(appts_offered="80") | {"notes": "x"}], header=[*HEADER, "notes"])
    result = validate(data)
    assert keys(result) == Counter({("F03", None, "notes"): 1, ("R09", 1, "appts_booked"): 1})
    assert result.not_checked == []


def test_the_gx_suite_still_runs_beside_f02(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = gx_runtime.run_suite

    def counted(frame: Any) -> Any:
        calls.append(len(frame))
        return real(frame)

    monkeypatch.setattr("surgehub.returns.rules.gx.run_suite", counted)
    result = validate(csv_bytes([row(appts_offered="80", sessions_planned="41")], header=without("comments")))
    assert calls == [1]
    assert {"R09", "R03"} <= {f.rule for f in result.errors}  # both said by GX


def test_a_rule_needing_a_missing_column_is_not_evaluated_and_says_which() -> None:
    data = csv_bytes([row(hub_status="CLOSED_PLANNED")], header=without("hub_status"))
    result = validate(data)
    assert keys(result) == Counter({("F02", None, "hub_status"): 1})  # no R15 nor R17 fires
    assert [(n.rule, n.needs) for n in result.not_checked] == [
        ("R04", ("hub_status",)),
        ("R15", ("hub_status",)),
        ("R17", ("hub_status",)),
    ]


def test_not_checked_names_only_the_missing_columns_each_rule_needs() -> None:
    data = csv_bytes([row()], header=without("appts_booked", "comments"))
    found = {n.rule: n.needs for n in validate(data).not_checked}
    assert found == {
        "R09": ("appts_booked",),
        "R10": ("appts_booked",),
        "R11": ("appts_booked",),
        "R13": ("appts_booked",),
        "R15": ("appts_booked", "comments"),
        "W02": ("appts_booked",),
    }


def test_w05_is_listed_as_not_checked_only_where_it_would_be_judged() -> None:
    data = csv_bytes([row()], header=without("appts_offered"))
    alone = {n.rule for n in validate(data).not_checked}
    with_history = {n.rule for n in validate(data, history=lambda hubs, first, last: None).not_checked}
    assert "W05" not in alone
    assert with_history - alone == {"W05"}


def test_a_missing_columns_blank_cells_are_not_reported() -> None:
    result = validate(csv_bytes([row()], header=without("signed_off_by")))
    assert keys(result) == Counter({("F02", None, "signed_off_by"): 1})  # no R02 on every row


def test_f04_f05_f06_still_stop_the_row_rules() -> None:
    twice = validate(csv_bytes([[*row(appts_offered="80").values(), "6"]], header=[*HEADER, "GP_Hours"]))
    assert {f.rule for f in twice.errors} == {"F04"}
    too_many = validate(csv_bytes([row(appts_offered="80")] * 501))
    assert {f.rule for f in too_many.errors} == {"F06"}
    for result in (twice, too_many):
        assert result.not_checked == []


def test_missing_column_in_an_xlsx_return_too() -> None:
    header = without("comments")
    cells = [
        c for name, c in zip(HEADER, typed_cells(row(appts_offered="80")), strict=True) if name != "comments"
    ]
    result = validate(xlsx_bytes([cells], header=header))
    assert keys(result) == Counter({("F02", None, "comments"): 1, ("R09", 1, "appts_booked"): 1})


# -- wide headers --------------------------------------------------------------------------------


def _wide(unknown: int) -> bytes:
    header = [*HEADER, *(f"extra_{i}" for i in range(unknown))]
    return csv_bytes([[*row().values(), *([""] * unknown)]], header=header)


def test_65_unknown_header_cells_give_one_f03() -> None:
    result = validate(_wide(65))
    [f03] = result.errors
    assert (f03.rule, f03.column) == ("F03", None)
    assert f03.message.startswith("65 columns not in the specification")
    assert all(f'"extra_{i}"' in f03.message for i in range(10))
    assert '"extra_10"' not in f03.message
    assert result.totals == {"F03": 1}


def test_64_unknown_header_cells_give_64_f03s_listed_50_with_a_total() -> None:
    result = validate(_wide(64))
    assert result.totals == {"F03": 64}
    assert len(result.errors) == 50
    assert {f.column for f in result.errors} <= {f"extra_{i}" for i in range(64)}
    [capped] = result.capped
    assert (capped.rule, capped.listed, capped.total) == ("F03", 50, 64)


# -- the cap ---------------------------------------------------------------------------------------


def r09_rows(n: int) -> bytes:
    """``n`` rows failing R09 alone: distinct hub-days (three hubs, 2026-11-11 to 2026-11-25)."""
    hubs = ("14L-H1", "14L-H2", "14L-H3")
    days = [f"2026-11-{d:02d}" for d in range(11, 26)]
    keys = [(h, d) for d in days for h in hubs][:n]
    return csv_bytes([row(hub_code=h, activity_date=d, appts_offered="80") for h, d in keys])


def test_45_findings_of_a_rule_are_all_listed() -> None:
    result = validate(r09_rows(45))
    assert len(result.errors) == 45
    assert result.totals == {"R09": 45}
    assert result.capped == []


def test_120_r09_rows_list_50_with_the_total_and_say_the_rest_follow() -> None:
    data = csv_bytes(
        [
            row(hub_code="14L-H1", activity_date="2026-11-24", appts_offered="80", comments=str(i))
            for i in range(120)
        ]
    )
    result = validate(data)
    r09 = [f for f in result.errors if f.rule == "R09"]
    assert [f.row for f in r09] == list(range(1, 51))  # the first 50, in row order
    assert result.totals["R09"] == 120
    assert result.error_count == 120 + 119  # R08 on every later repeat of the key, capped as well
    payload = json.loads(json.dumps(result.to_json_dict()))
    assert len([e for e in payload["errors"] if e["rule"] == "R09"]) == 50
    assert payload["totals"]["R09"] == 120
    capped = {c["rule"]: c for c in payload["capped"]}
    assert (capped["R09"]["listed"], capped["R09"]["total"]) == (50, 120)
    assert "the other 70 follow the same pattern" in capped["R09"]["message"]


def test_warnings_are_capped_alike() -> None:
    data = csv_bytes(
        [row(activity_date="2026-11-24", sessions_delivered="5", comments="sick", hub_code="14L-H1")] * 60
    )
    result = validate(data)
    assert len([w for w in result.warnings if w.rule == "W01"]) == 50
    assert result.totals["W01"] == 60
