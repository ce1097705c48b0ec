"""Spec 2026.2 through the channels: the stored submission, the receipt built from it, the API, the ingest JSON.

The cap, the totals and not_checked are the same in the JSON, the stored record and the receipt; R16 on
the file's name comes before the duplicate check; no number is repeated in the stored row or an answer.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from surgehub.api.limits import Limits
from surgehub.cli import cli
from surgehub.config import load_settings
from surgehub.ingest import Channel, IncomingReturn, ingest_returns
from surgehub.mail.receipts import receipt_mails
from surgehub.resources import Resources
from surgehub.spec import COLUMN_NAMES as HEADER
from surgehub.warehouse import db, tables
from tests.support.api import app_for, settings_for, token_for
from tests.support.returns import corpus_row as row
from tests.support.returns import csv_bytes
from tests.support.timeline import RECEIVED_AT

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy import Engine

NUMBER = "943 476 5919"


@pytest.fixture
def warehouse(surgehub_home: Path) -> Iterator[Engine]:
    engine = db.upgrade(f"sqlite:///{surgehub_home / 'warehouse.sqlite'}")
    yield engine
    engine.dispose()


def ingest(
    engine: Engine, folder: Path, data: bytes, name: str = "return.csv", received_at: datetime = RECEIVED_AT
) -> Any:
    path = folder / "incoming" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    [outcome] = ingest_returns(
        [
            IncomingReturn(
                path=path, locality="14L", channel=Channel.CLI, received_at=received_at, file_name=name
            )
        ],
        Resources.of(load_settings(), engine=engine),
    )
    return outcome


def stored(engine: Engine, submission_id: int) -> Any:
    with engine.connect() as connection:
        return connection.execute(
            select(tables.submission).where(tables.submission.c.submission_id == submission_id)
        ).one()


def capped_return() -> bytes:
    """120 rows failing R09 (one hub-day repeated: R08 on 119), without the comments column."""
    rows = [row(appts_offered="80") for _ in range(120)]
    return csv_bytes(rows, header=[h for h in HEADER if h != "comments"])


def test_the_cap_totals_and_not_checked_are_stored_and_answered_alike(
    surgehub_home: Path, warehouse: Engine
) -> None:
    outcome = ingest(warehouse, surgehub_home, capped_return())
    body = outcome.to_json_dict()
    assert body["status"] == "rejected"
    assert body["totals"] == {"F02": 1, "R08": 119, "R09": 120}
    assert body["not_checked"] == [{"rule": "R15", "needs": ["comments"]}]
    assert sum(e["rule"] == "R09" for e in body["errors"]) == 50
    saved = stored(warehouse, outcome.submission_id)
    assert saved.errors == body["errors"]  # the same 101 findings, with spreadsheet rows, hubs and dates
    assert saved.totals == body["totals"]
    assert saved.not_checked == body["not_checked"]
    assert saved.errors[1]["spreadsheet_row"] == 2


def test_the_receipt_from_the_stored_record_says_the_rest_follow(
    surgehub_home: Path, warehouse: Engine
) -> None:
    outcome = ingest(warehouse, surgehub_home, capped_return())
    settings = load_settings().overridden({"email": {"contacts": {"14L": ["lead@example.nhs.uk"]}}})
    [mail] = receipt_mails(warehouse, [outcome.submission_id], settings)
    assert "240 errors to fix" in mail.subject
    assert "and 70 more R09 like these" in mail.text
    assert "and 69 more R08 like these" in mail.text
    assert "R15 (" in mail.text
    assert "it needs comments" in mail.text
    assert "Hub 14L-H1, 2026-11-24, spreadsheet rows 2–51, column appts_booked:" in mail.text
    assert "and 70 more R09 like these" in mail.html


def test_a_file_named_with_a_number_is_judged_before_the_duplicate_check(
    surgehub_home: Path, warehouse: Engine
) -> None:
    data = csv_bytes([row()])
    first = ingest(warehouse, surgehub_home, data, "monday.csv")
    assert first.status == "accepted"
    later = RECEIVED_AT + timedelta(minutes=5)
    assert ingest(warehouse, surgehub_home, data, "monday again.csv", later).duplicate
    again = ingest(warehouse, surgehub_home, data, f"Patient {NUMBER}.csv", later + timedelta(minutes=5))
    assert again.status == "rejected"
    assert not again.duplicate
    assert again.quarantined
    assert [(e["rule"], e["column"]) for e in again.to_json_dict()["errors"]] == [("R16", "file")]
    saved = stored(warehouse, again.submission_id)
    assert saved.file_name == "Patient [NHS number removed].csv"
    assert saved.archive_path is None
    text = json.dumps([dict(saved._mapping)], default=str) + json.dumps(again.to_json_dict())
    for form in ("9434765919", NUMBER, "476 5919"):
        assert form not in text


def test_r16_in_a_header_cell_is_never_stored(surgehub_home: Path, warehouse: Engine) -> None:
    outcome = ingest(warehouse, surgehub_home, csv_bytes([row()], header=[*HEADER, f"nhs {NUMBER}"]))
    assert outcome.quarantined
    saved = stored(warehouse, outcome.submission_id)
    text = json.dumps(dict(saved._mapping), default=str)
    assert "[NHS number removed]" in text
    for form in ("9434765919", NUMBER, "476 5919"):
        assert form not in text


def test_ingest_json_from_the_command_line(surgehub_home: Path, warehouse: Engine, tmp_path: Path) -> None:
    path = tmp_path / "manchester.csv"
    path.write_bytes(capped_return())
    result = CliRunner().invoke(
        cli, ["ingest", str(path), "--locality", "14L", "--received-at", "2026-11-25T09:00", "--json"]
    )
    assert result.exit_code == 1, result.output
    payload = json.loads(result.stdout)
    assert payload["spec_version"] == "2026.2"
    assert payload["totals"]["R09"] == 120
    assert payload["not_checked"] == [{"rule": "R15", "needs": ["comments"]}]
    assert {c["rule"] for c in payload["capped"]} == {"R08", "R09"}


# -- the Submission API ---------------------------------------------------------------------------


@pytest.fixture
def client(surgehub_home: Path) -> Iterator[tuple[TestClient, str, Engine]]:
    settings, engine = settings_for(surgehub_home)
    token = token_for(engine, "14L")
    with TestClient(app_for(settings, Limits(uploads_per_window=100))) as test_client:
        yield test_client, token, engine


def send(client: tuple[TestClient, str, Engine], data: bytes, name: str) -> Any:
    test_client, token, _ = client
    return test_client.post(
        "/api/v1/returns",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": (name, data, "text/csv")},
    )


def test_api_answer_embeds_the_2026_2_fields(client: tuple[TestClient, str, Engine]) -> None:
    response = send(client, capped_return(), "manchester.csv")
    assert response.status_code == 422
    body = response.json()
    assert body["spec_version"] == "2026.2"
    assert body["totals"]["R09"] == 120
    assert body["not_checked"] == [{"rule": "R15", "needs": ["comments"]}]
    r09 = next(e for e in body["errors"] if e["rule"] == "R09")
    assert (r09["row"], r09["spreadsheet_row"], r09["hub_code"], r09["activity_date"]) == (
        1,
        2,
        "14L-H1",
        "2026-11-24",
    )
    by_id = (
        client[0]
        .get(
            f"/api/v1/returns/{body['warehouse_submission_id']}",
            headers={"Authorization": f"Bearer {client[1]}"},
        )
        .json()
    )
    assert by_id["totals"] == body["totals"]
    assert by_id["not_checked"] == body["not_checked"]


def test_api_judges_the_name_before_the_duplicate_check(client: tuple[TestClient, str, Engine]) -> None:
    data = csv_bytes([row()])
    assert send(client, data, "monday.csv").status_code == 201
    response = send(client, data, f"Patient {NUMBER}.csv")
    assert response.status_code == 422
    body = response.json()
    assert [(e["rule"], e["column"]) for e in body["errors"]] == [("R16", "file")]
    assert body["duplicate"] is False
    assert body["file_name"] == "Patient [NHS number removed].csv"
    for form in ("9434765919", NUMBER, "476 5919"):
        assert form not in response.text
    with client[2].connect() as connection:
        names = connection.execute(select(tables.api_submission.c.file_name)).scalars().all()
    assert all("5919" not in name for name in names)
