"""validate_return beyond the corpus: the typed frame, W05 history, R16 secrecy, JSON shape, messages."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from surgehub import spec
from surgehub.returns.validate import UnknownLocality, validate_return
from tests.support.corpus import SETTINGS, corpus_file
from tests.support.returns import corpus_row, csv_bytes, three_hubs
from tests.support.timeline import RECEIVED_AT

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

NHS_NUMBER = "943 476 5919"


def validate(data: bytes, **kwargs: object) -> object:
    return validate_return(data, locality="14L", received_at=RECEIVED_AT, settings=SETTINGS, **kwargs)  # type: ignore[arg-type]


def test_accepted_frame_is_typed_and_normalised() -> None:
    data = csv_bytes(
        [
            corpus_row(
                sub_icb_code="14l",
                hub_code="14l-h1",
                hub_status="open",
                gp_hours="18.25",
                appts_offered="1,200",
            ),
            [""] * 22,
            corpus_row(
                hub_code="14L-H2", activity_date="23/11/2026", sessions_delivered="5", comments="Sickness"
            ),
        ]
    )
    result = validate(data)
    assert result.status == "accepted"
    frame = result.frame
    assert list(frame.columns) == ["row_number", *spec.COLUMN_NAMES, "warnings"]
    assert frame["row_number"].tolist() == [1, 3]
    assert frame["sub_icb_code"].tolist() == ["14L", "14L"]
    assert frame["hub_code"].tolist() == ["14L-H1", "14L-H2"]
    assert frame["hub_status"].tolist() == ["OPEN", "OPEN"]
    assert [pd.Timestamp(d).date() for d in frame["activity_date"]] == [
        date(2026, 11, 24),
        date(2026, 11, 23),
    ]
    assert frame["appts_offered"].tolist() == [1200, 120]
    assert str(frame["appts_offered"].dtype) == "int64"
    assert frame["gp_hours"].tolist() == [18.25, 18.0]
    assert frame["comments"].isna().tolist() == [True, False], "a blank comment is missing, not empty"
    assert frame["comments"].iloc[1] == "Sickness"
    text_columns = [c.name for c in spec.COLUMNS if c.kind in ("code", "hub", "status", "text")]
    assert all(str(frame[name].dtype) == "str" for name in text_columns)
    assert frame["warnings"].tolist() == [(), ("W01",)]


def test_json_shape_is_the_interface() -> None:
    result = validate(csv_bytes([corpus_row(appts_offered="80")]))
    payload = result.to_json_dict()
    assert list(payload) == [
        "status",
        "spec_version",
        "rows",
        "errors",
        "warnings",
        "totals",
        "not_checked",
        "capped",
        "coverage",  # what the file's rows name: its activity dates and hubs (issue 16)
    ]
    assert payload["status"] == "rejected"
    assert payload["spec_version"] == spec.SPEC_VERSION
    assert payload["rows"] == 1
    assert payload["errors"] == [
        {
            "rule": "R09",
            "row": 1,
            "spreadsheet_row": 2,
            "hub_code": "14L-H1",
            "activity_date": "2026-11-24",
            "column": "appts_booked",
            "message": "appts_booked 96 is more than appts_offered 80: booked appointments cannot exceed "
            "those offered; correct one of them",
        }
    ]
    assert payload["totals"] == {"R09": 1}
    assert payload["not_checked"] == []
    assert payload["capped"] == []
    json.dumps(payload)


def test_file_rule_findings_name_no_row() -> None:
    payload = validate(corpus_file("png-image.csv")).to_json_dict()
    assert payload["rows"] == 0
    assert payload["errors"][0]["row"] is None


def test_nhs_number_never_appears_in_anything_returned() -> None:
    data = csv_bytes(
        [corpus_row(comments=f"Patient {NHS_NUMBER} sent to ED", hub_code=NHS_NUMBER.replace(" ", ""))]
    )
    result = validate(data)
    assert result.status == "rejected"
    assert result.r16_failed
    assert result.frame is None
    dumped = json.dumps(result.to_json_dict()) + repr(result)
    for form in (NHS_NUMBER, NHS_NUMBER.replace(" ", "")):
        assert form not in dumped
    assert {f.rule for f in result.errors} == {"R06", "R16"}


def test_r16_is_reported_once_per_row_with_several_numbers() -> None:
    result = validate(csv_bytes([corpus_row(comments=f"{NHS_NUMBER} and 401 023 2137")]))
    assert [(f.rule, f.row) for f in result.errors] == [("R16", 1)]


def test_unknown_submitting_locality_is_a_configuration_error() -> None:
    with pytest.raises(UnknownLocality):
        validate_return(csv_bytes([corpus_row()]), locality="XYZ", received_at=RECEIVED_AT, settings=SETTINGS)


def test_naive_received_at_is_london_time() -> None:
    naive = RECEIVED_AT.replace(tzinfo=None)
    assert (
        validate_return(
            csv_bytes([corpus_row()]), locality="14l", received_at=naive, settings=SETTINGS
        ).status
        == "accepted"
    )


def test_warnings_are_listed_on_rejected_returns_too() -> None:
    result = validate(
        csv_bytes([corpus_row(appts_offered="80", sessions_delivered="5", comments="Sickness")])
    )
    assert [f.rule for f in result.errors] == ["R09"]
    assert [f.rule for f in result.warnings] == ["W01"]


def test_several_faults_on_several_rows_are_all_listed_in_row_order() -> None:
    rows = three_hubs()
    rows[0]["appts_offered"] = "80"
    rows[1]["hub_status"] = "CLOSED"
    rows[2]["activity_date"] = "2026-11-31"
    result = validate(csv_bytes(rows))
    assert [(f.rule, f.row, f.column) for f in result.errors] == [
        ("R09", 1, "appts_booked"),
        ("R04", 2, "hub_status"),
        ("R01", 3, "activity_date"),
    ]


# -- W05: history ----------------------------------------------------------------------------------


class History:
    """A stand-in for the warehouse's current OPEN rows, recording what it was asked."""

    def __init__(
        self, offered: Sequence[int], hub: str = "14L-H1", last_day: date = date(2026, 11, 23)
    ) -> None:
        days = [last_day - timedelta(days=i) for i in range(len(offered))]
        self.frame = pd.DataFrame({"hub_code": hub, "activity_date": days, "appts_offered": list(offered)})
        self.calls: list[tuple[list[str], date, date]] = []

    def __call__(self, hubs: Sequence[str], first: date, last: date) -> pd.DataFrame:
        self.calls.append((list(hubs), first, last))
        return self.frame


def spike(offered: int) -> bytes:
    return csv_bytes([corpus_row(appts_offered=str(offered))])


def test_w05_fires_above_three_times_the_median_of_seven_rows() -> None:
    history = History([40] * 7)
    result = validate(spike(121), history=history)
    assert [(f.rule, f.row, f.column) for f in result.warnings] == [("W05", 1, "appts_offered")]
    assert result.status == "accepted"
    assert history.calls == [(["14L-H1"], date(2026, 10, 27), date(2026, 11, 23))]


def test_w05_does_not_fire_at_exactly_three_times_the_median() -> None:
    assert validate(spike(120), history=History([40] * 7)).warnings == []


def test_w05_needs_seven_rows_in_the_window() -> None:
    assert validate(spike(500), history=History([40] * 6)).warnings == []


def test_w05_ignores_rows_outside_d_minus_28_to_d_minus_1() -> None:
    old = History([40] * 7, last_day=date(2026, 10, 26))  # D-29 and earlier
    assert validate(spike(500), history=old).warnings == []


def test_w05_is_not_evaluated_without_history() -> None:
    assert validate(spike(500)).warnings == []


def test_w05_counts_the_files_own_earlier_days() -> None:
    week = [
        corpus_row(activity_date=f"2026-11-{d}", appts_offered="40", appts_booked="40", **_forty())
        for d in range(17, 24)
    ]
    data = csv_bytes([*week, corpus_row(appts_offered="500")])
    result = validate(data, history=History([]))
    assert [(f.rule, f.row) for f in result.warnings] == [("W05", 8)]


def test_w05_does_not_trigger_r15() -> None:
    result = validate(spike(500), history=History([40] * 7))
    assert result.errors == []
    assert [f.rule for f in result.warnings] == ["W05"]


def _forty() -> dict[str, str]:
    return {
        "appts_attended": "36",
        "appts_dna": "2",
        "attended_f2f": "30",
        "attended_remote": "6",
        "src_practice": "20",
        "src_nhs111": "10",
        "src_ed_streaming": "5",
        "src_other": "5",
    }


def test_a_gx_metric_that_raises_is_an_error_not_a_pass() -> None:
    from surgehub.returns.gx_runtime import run_suite

    frame = pd.DataFrame({"row_number": [1, 2], "appts_offered": [1.0, 2.0]})  # derived columns missing
    with pytest.raises(RuntimeError, match="could not run"):
        run_suite(frame)


def test_gx_reports_every_failing_row_number() -> None:
    rows = [corpus_row(hub_code=h, appts_offered="10") for h in ("14L-H1", "14L-H2", "14L-H3")]
    result = validate(csv_bytes([rows[0], [""] * 22, rows[1], rows[2]]))
    assert [(f.rule, f.row) for f in result.errors] == [("R09", 1), ("R09", 3), ("R09", 4)]


def test_w05_a_revised_day_in_the_file_replaces_the_warehouse_row() -> None:
    # Seven warehouse days of 40; the file revises one of them to CLOSED_PLANNED, leaving six.
    closed = corpus_row(
        activity_date="2026-11-23",
        hub_status="CLOSED_PLANNED",
        comments="Planned closure",
        **{name: "0" for name in spec.INTEGER_COLUMNS},
    )
    data = csv_bytes([closed, corpus_row(appts_offered="500")])
    assert validate(data, history=History([40] * 7)).warnings == []
    assert [f.rule for f in validate(spike(500), history=History([40] * 7)).warnings] == ["W05"]


def test_w05_with_an_empty_history_frame() -> None:
    empty = pd.DataFrame()
    assert validate(spike(500), history=lambda hubs, first, last: empty).warnings == []


def test_out_of_range_numbers_are_quoted_as_written() -> None:
    result = validate(csv_bytes([corpus_row(appts_offered="1,234,567", gp_hours="300.5")]))
    messages = {f.column: f.message for f in result.errors}
    assert messages["appts_offered"].startswith("appts_offered 1234567 is outside 0–2000")
    assert messages["gp_hours"].startswith("gp_hours 300.5 is outside 0–300")


@pytest.mark.parametrize("stored", [False, True], ids=["alone", "result-stored"])
def test_nothing_of_a_validated_return_stays_in_memory_once_its_answer_is_dropped(
    stored: bool, tmp_path: Path
) -> None:
    """GX keeps the last batch's frame in its engine's caches, and every metric it computed over it (row-long
    Series); a large return's typed table and conditions would stay alive until the next validation
    (~150 MB and ~90 MB after a million rows). The suite's run lets them go, on the ephemeral context and
    on the file context that stores results (ingest's)."""
    import gc
    from datetime import UTC, datetime

    from surgehub.gx.store import GxStore

    def pandas_of_the_return() -> tuple[set[int], set[int]]:
        """The return's frames (3 rows, its columns) and every 3-long Series alive."""
        gc.collect()
        # type(), not isinstance(): a lazy proxy's __class__ would import what it stands for
        alive = [o for o in gc.get_objects() if issubclass(type(o), (pd.DataFrame, pd.Series))]
        frames = {
            id(o) for o in alive if isinstance(o, pd.DataFrame) and len(o) == 3 and "appts_offered" in o
        }
        series = {id(o) for o in alive if isinstance(o, pd.Series) and len(o) == 3}
        return frames, series

    frames_before, series_before = pandas_of_the_return()  # what other tests' objects may still hold
    store = GxStore(home=tmp_path, now=lambda: datetime(2026, 11, 25, 9, tzinfo=UTC)) if stored else None
    result = validate_return(
        csv_bytes(three_hubs()), locality="14L", received_at=RECEIVED_AT, settings=SETTINGS, gx_store=store
    )
    assert result.status == "accepted"
    assert pandas_of_the_return()[0] - frames_before  # its accepted rows, at least
    del result
    frames, series = pandas_of_the_return()
    assert frames - frames_before == set()
    assert series - series_before == set(), "GX's metrics (conditions over the rows) are let go too"


def test_gx_fingerprints_only_small_frames() -> None:
    """A canary for GX upgrades: the knob that spares a large return GX's hash of every cell is still there."""
    from great_expectations.execution_engine import pandas_execution_engine

    from surgehub.returns.gx_runtime import FINGERPRINT_LIMIT_BYTES, _runtime

    _runtime()
    assert pandas_execution_engine.HASH_THRESHOLD == FINGERPRINT_LIMIT_BYTES
    assert validate(csv_bytes(three_hubs())).status == "accepted"  # type: ignore[attr-defined]
