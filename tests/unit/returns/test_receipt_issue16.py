"""Receipts a locality data lead can act on (issue 16): which file, which days and hubs, one reference,
errors grouped for one pass, rule IDs linked to the guide, true tenses, the configured base address."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from surgehub.api.limits import Limits
from surgehub.config import load_settings
from surgehub.ingest import Channel, IncomingReturn, ingest_returns
from surgehub.mail.receipts import receipt_mails
from surgehub.resources import Resources
from surgehub.returns.findings import Finding
from surgehub.returns.receipt import group_findings, render_receipt
from surgehub.returns.result import Coverage
from surgehub.returns.validate import ValidationResult, validate_return
from tests.support.api import app_for, settings_for, token_for
from tests.support.corpus import SETTINGS
from tests.support.returns import corpus_row, csv_bytes
from tests.support.timeline import RECEIVED_AT

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy import Engine

BASE = "https://surgehub.example.nhs.uk/gm"
CONTACT = {"email": {"contacts": {"14L": ["lead@example.nhs.uk"]}, "public_base_url": BASE}}


def validated(data: bytes, received_at: Any = RECEIVED_AT) -> ValidationResult:
    return validate_return(data, locality="14L", received_at=received_at, settings=SETTINGS)


def receipt(result: ValidationResult, **kwargs: Any) -> tuple[str, str, str]:
    values: dict[str, Any] = {
        "locality_code": "14L",
        "locality_name": "Manchester",
        "received_at": RECEIVED_AT,
        "submission_id": "api-0123456789abcdef",
        "settings": SETTINGS.overridden(CONTACT),
        "file_name": "manchester.csv",
    }
    values.update(kwargs)
    return render_receipt(result, **values)


# -- which file, which days, which hubs -----------------------------------------------------------


def test_two_files_sent_a_minute_apart_are_told_apart_by_their_subjects() -> None:
    monday = csv_bytes([corpus_row(activity_date=d) for d in ("2026-11-21", "2026-11-22", "2026-11-23")])
    tuesday = csv_bytes([corpus_row(activity_date="2026-11-24", hub_code=h) for h in ("14L-H1", "14L-H2")])
    first, _, _ = receipt(validated(monday), file_name="mcr weekend.csv")
    second, _, _ = receipt(
        validated(tuesday, RECEIVED_AT + timedelta(minutes=1)),
        file_name="mcr weekend.csv",  # even under the same name
        received_at=RECEIVED_AT + timedelta(minutes=1),
    )
    assert first != second
    assert "Sat 21 Nov – Mon 23 Nov 2026" in first
    assert "Tue 24 Nov 2026; 14L-H1, 14L-H2" in second
    # the same file sent twice a minute apart: the minute tells them apart
    again, _, _ = receipt(
        validated(monday, RECEIVED_AT + timedelta(minutes=1)),
        file_name="mcr weekend.csv",
        received_at=RECEIVED_AT + timedelta(minutes=1),
    )
    assert again != first
    assert "received Wed 25 Nov 09:01" in again


def test_the_top_names_the_file_days_hubs_and_reference_on_a_rejected_return_too() -> None:
    data = csv_bytes(
        [corpus_row(hub_code="14L-H9"), corpus_row(hub_code="14L-H2", activity_date="2026-11-23")]
    )
    subject, text, html = receipt(validated(data), file_name="returns <b>.csv")
    assert subject.startswith("Surge hub return REJECTED, 1 error to fix: returns <b>.csv (")
    assert "14L-H2, 14L-H9" in subject
    top = text.split("Outcome:")[0]
    for said in ("returns <b>.csv", "2026-11-23, 2026-11-24", "14L-H2, 14L-H9", "api-0123456789abcdef"):
        assert said in top
    head = html.split('role="status"')[0]
    assert "returns &lt;b&gt;.csv" in head  # escaped
    assert "<b>.csv" not in html


def test_coverage_is_bounded_masked_and_ignores_what_is_not_a_date_or_a_code() -> None:
    dates = [f"2026-11-{d:02d}" for d in range(1, 31)] + ["2026-12-01", "2026-12-02", "24/11/2026", "", "x"]
    hubs = ["14L-H1", " 14L-H1 ", "943 476 5919", "x" * 40, ""]
    coverage = Coverage.of_cells(dates, hubs)
    assert len(coverage.activity_dates) == 31
    assert coverage.more_dates == 1
    assert coverage.hubs == ("14L-H1", "[NHS number removed]")
    assert Coverage.from_dict(coverage.to_dict()) == coverage


# -- grouped for one pass, linked to the guide ----------------------------------------------------


def finding(
    rule: str, row: int | None, hub: str, day: str, message: str, column: str = "appts_booked"
) -> Finding:
    return Finding(
        rule=rule,
        row=row,
        column=column,
        message=message,
        spreadsheet_row=None if row is None else row + 1,
        hub_code=hub or None,
        activity_date=day or None,
    )


def test_findings_are_grouped_by_rule_then_hub_and_day_with_rows_compact() -> None:
    same = "hub_code appears more than once for this day: keep one row"
    findings = [
        finding("R09", 1, "14L-H1", "2026-11-24", "booked 96 > offered 80"),
        finding("R08", 2, "14L-H1", "2026-11-24", same, "hub_code"),
        finding("R08", 3, "14L-H1", "2026-11-24", same, "hub_code"),
        finding("R08", 4, "14L-H1", "2026-11-24", same, "hub_code"),
        finding("R08", 7, "14L-H1", "2026-11-24", same, "hub_code"),
        finding("R09", 9, "14L-H2", "2026-11-23", "booked 5 > offered 4"),
        finding("F03", None, "", "", "column x is not in the specification", "x"),
    ]
    groups = group_findings(findings, {"R08": 60, "R09": 2, "F03": 1}, base=BASE)
    assert [g.rule for g in groups] == ["F03", "R08", "R09"]  # the specification's order
    f03, r08, r09 = groups
    assert f03.places[0].label == "Header row"
    assert [(p.label, p.rows) for p in r08.places] == [("Hub 14L-H1, 2026-11-24", "spreadsheet rows 3–5, 8")]
    assert len(r08.places[0].entries) == 1  # said once for its four rows
    assert r08.more == 56
    assert [p.label for p in r09.places] == ["Hub 14L-H1, 2026-11-24", "Hub 14L-H2, 2026-11-23"]
    assert r09.link == f"{BASE}/guide#rule-R09"


def test_rule_ids_link_to_the_guide_at_the_configured_public_address() -> None:
    data = csv_bytes([corpus_row(appts_offered="80"), corpus_row(hub_code="14L-H2", hub_status="Shut")])
    _, text, html = receipt(validated(data))
    assert f'<a href="{BASE}/guide#rule-R09"' in html
    assert f'<a href="{BASE}/guide#rule-R04"' in html
    assert f"Guide: {BASE}/guide#rule-R09" in text
    assert f"{BASE}/register/14L" in text
    for out in (text, html):
        assert "localhost" not in out


# -- true tenses and words -------------------------------------------------------------------------


def test_w01_asks_for_a_comment_only_where_there_is_none() -> None:
    commented = validated(csv_bytes([corpus_row(sessions_delivered="3", comments="GP sickness")]))
    [w01] = commented.warnings
    assert "say why in comments" not in w01.message
    assert "comment is shown to the board" in w01.message
    _, text, _ = receipt(commented)
    assert "were accepted and loaded" in text
    assert "explain them in comments" not in text
    bare = validated(csv_bytes([corpus_row(sessions_delivered="3", comments="")]))
    assert "say why in comments" in next(w for w in bare.warnings if w.rule == "W01").message
    assert any(e.rule == "R15" for e in bare.errors)


# -- one reference everywhere ----------------------------------------------------------------------


@pytest.fixture
def api(surgehub_home: Path) -> Iterator[tuple[TestClient, str, Engine]]:
    settings, engine = settings_for(surgehub_home)
    token = token_for(engine, "14L")
    with TestClient(app_for(settings, Limits(uploads_per_window=100))) as test_client:
        yield test_client, token, engine


def test_an_upload_is_one_reference_in_the_answer_the_lookup_and_the_receipt(
    api: tuple[TestClient, str, Engine],
) -> None:
    client, token, engine = api
    auth = {"Authorization": f"Bearer {token}"}
    settings = load_settings().overridden(CONTACT)
    # accepted: handed to landing, loaded by the ingest, receipted by email
    response = client.post(
        "/api/v1/returns",
        headers=auth,
        files={"file": ("mcr-tuesday.csv", csv_bytes([corpus_row()]), "text/csv")},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    reference = body["submission_id"]
    assert body["coverage"]["activity_dates"] == ["2026-11-24"]
    [landed] = (settings.landing_dir / "14L").glob("api-*.csv")
    from surgehub.api.submissions import api_receipt_for

    upload = api_receipt_for(landed.name, _sha(landed), "14L", engine)
    assert upload is not None
    [outcome] = ingest_returns(
        [
            IncomingReturn(
                path=landed,
                locality="14L",
                channel=Channel.API,
                received_at=upload.received_at,
                file_name=upload.file_name,
            )
        ],
        Resources.of(settings, engine=engine),
    )
    assert outcome.submission_id is not None
    [mail] = receipt_mails(engine, [outcome.submission_id], settings)
    assert f"Reference:      {reference}" in mail.text
    assert "mcr-tuesday.csv" in mail.subject
    assert f"Reference:      {outcome.submission_id}\n" not in mail.text
    looked_up = client.get(f"/api/v1/returns/{outcome.submission_id}", headers=auth).json()
    assert looked_up["submission_id"] == reference  # the warehouse number answers as the upload
    assert looked_up["state"] == "loaded"
    assert client.get(f"/api/v1/returns/{reference}", headers=auth).json()["state"] == "loaded"

    # rejected: recorded at once; its receipt shows the same id the answer gave
    bad = client.post(
        "/api/v1/returns",
        headers=auth,
        files={"file": ("mcr-bad.csv", csv_bytes([corpus_row(appts_offered="80")]), "text/csv")},
    ).json()
    [mail] = receipt_mails(engine, [bad["warehouse_submission_id"]], settings)
    assert f"Reference:      {bad['submission_id']}" in mail.text
    assert "mcr-bad.csv" in mail.subject


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
