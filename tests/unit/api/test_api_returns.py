"""The Submission API in-process (FastAPI TestClient): contract, states, limits and security.

Each test gets its own warehouse and landing zone (``surgehub_home``); the clock is frozen at
2026-11-25 09:00 London and returns are for 2026-11-24.
"""

from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from surgehub import clock, spec
from surgehub.api.limits import Limits
from surgehub.api.submissions import api_receipt_for
from surgehub.orchestration import tasks
from surgehub.resources import Resources
from surgehub.warehouse import tables
from tests.support.api import app_for, settings_for, token_for
from tests.support.returns import exported_csv, locality_rows, rejected_return, valid_return
from tests.support.timeline import DAY

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from surgehub.config import Settings

MIB = 1024 * 1024


@dataclass
class Api:
    client: TestClient
    settings: Settings
    engine: Engine
    tokens: dict[str, str]

    def auth(self, code: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[code]}"}

    def send(self, code: str, data: bytes, name: str = "return.csv") -> object:
        return self.client.post(
            "/api/v1/returns", headers=self.auth(code), files={"file": (name, data, "text/csv")}
        )

    def landed(self, code: str) -> list[Path]:
        folder = self.settings.landing_dir / code
        return sorted(p for p in folder.iterdir() if p.is_file()) if folder.exists() else []

    def ingest(self) -> dict[str, object]:
        return tasks.ingest_files(
            tasks.files_from_context({}, Resources.from_env()), Resources.of(self.settings)
        )


@pytest.fixture
def api(surgehub_home: Path) -> Iterator[Api]:
    settings, engine = settings_for(surgehub_home)
    tokens = {code: token_for(engine, code) for code in ("14L", "00T")}
    with TestClient(app_for(settings, Limits(uploads_per_window=100))) as client:
        yield Api(client, settings, engine, tokens)


def count(engine: Engine, table: object) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()  # type: ignore[arg-type]


# -- the contract ---------------------------------------------------------------------------------


def test_accepted_return_is_201_queued_and_lands_under_a_system_name(api: Api) -> None:
    response = api.send("14L", valid_return("14L"), "Manchester 24 Nov.csv")
    assert response.status_code == 201
    body = response.json()
    assert {"status", "spec_version", "rows", "errors", "warnings"} <= body.keys()  # the validate JSON
    assert body["status"] == "accepted"
    assert body["state"] == "queued"
    assert body["rows"] == 3
    assert body["locality"] == "14L"
    assert body["received_at"] == "2026-11-25T09:00:00Z"
    assert body["file_name"] == "Manchester 24 Nov.csv"
    [landed] = api.landed("14L")
    assert landed.name == f"{body['submission_id']}.csv"
    assert landed.read_bytes() == valid_return("14L")
    assert count(api.engine, tables.hub_day_version) == 0  # the ingest DAG loads it, not the API


def test_accepted_return_becomes_loaded_once_the_ingest_has_run(api: Api) -> None:
    body = api.send("14L", valid_return("14L")).json()
    result = api.ingest()
    assert [s["status"] for s in result["submissions"]] == ["accepted"]
    after = api.client.get(f"/api/v1/returns/{body['submission_id']}", headers=api.auth("14L")).json()
    assert after["state"] == "loaded"
    assert after["warehouse_submission_id"] == result["submissions"][0]["submission_id"]
    assert count(api.engine, tables.hub_day_version) == 3
    assert api.ingest()["submissions"] == []  # nothing left to load twice


def test_rejected_return_is_422_recorded_and_archived_not_landed(api: Api) -> None:
    response = api.send("14L", rejected_return("14L"), "bad.csv")
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == "rejected"
    assert body["state"] == "rejected"
    assert {(e["rule"], e["row"], e["column"]) for e in body["errors"]} >= {("R09", 1, "appts_booked")}
    assert api.landed("14L") == []
    with api.engine.connect() as connection:
        row = connection.execute(select(tables.submission)).one()
    assert (row.channel, row.outcome, row.file_name) == ("api", "rejected", "bad.csv")
    assert body["warehouse_submission_id"] == row.submission_id
    assert (api.settings.archive_dir / row.archive_path).read_bytes() == rejected_return("14L")


def test_locality_is_the_tokens_never_the_files(api: Api) -> None:
    response = api.send("00T", valid_return("14L"))  # Bolton's token, Manchester's rows
    assert response.status_code == 422
    assert {e["rule"] for e in response.json()["errors"]} >= {"R05"}
    assert api.landed("14L") == []
    assert api.landed("00T") == []


def test_same_bytes_again_is_a_duplicate_and_lands_nothing_new(api: Api) -> None:
    first = api.send("14L", valid_return("14L")).json()
    again = api.send("14L", valid_return("14L"))
    assert again.status_code == 201
    assert again.json()["duplicate"] is True
    assert again.json()["status"] == "accepted"
    assert len(api.landed("14L")) == 1
    api.ingest()
    third = api.send("14L", valid_return("14L")).json()  # now loaded: a duplicate of the warehouse's
    assert third["duplicate"] is True
    assert third["state"] == "loaded"
    assert (
        third["warehouse_submission_id"]
        == api.client.get(f"/api/v1/returns/{first['submission_id']}", headers=api.auth("14L")).json()[
            "warehouse_submission_id"
        ]
    )
    assert count(api.engine, tables.submission) == 1


def test_list_shows_own_submissions_newest_first_and_hub_days_owed(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.send("14L", rejected_return("14L"))
    monkeypatch.setenv("SURGEHUB_NOW", "2026-11-25T09:00:01+00:00")
    accepted = api.send("14L", valid_return("14L")).json()
    api.send("00T", valid_return("00T"))
    listing = api.client.get("/api/v1/returns", headers=api.auth("14L")).json()
    assert listing["locality"] == "14L"
    assert [s["locality"] for s in listing["submissions"]] == ["14L", "14L"]
    assert [s["state"] for s in listing["submissions"]] == ["queued", "rejected"]  # newest first
    owed_before = {(o["activity_date"], o["hub_code"]) for o in listing["outstanding"]}
    # the hub-days of the return just accepted (queued) are not listed as owed: they are being loaded
    assert (DAY.isoformat(), "14L-H1") not in owed_before
    assert ("2026-11-11", "14L-H1") in owed_before
    assert (
        "2026-11-10",
        "14L-H1",
    ) not in owed_before
    api.ingest()
    listing = api.client.get("/api/v1/returns", headers=api.auth("14L")).json()
    owed_after = {(o["activity_date"], o["hub_code"]) for o in listing["outstanding"]}
    assert owed_before == owed_after  # loaded now: still not owed
    assert not {(DAY.isoformat(), h) for h in ("14L-H1", "14L-H2", "14L-H3")} & owed_after
    states = {s["submission_id"]: s["state"] for s in listing["submissions"]}
    assert states[accepted["submission_id"]] == "loaded"
    assert (
        len(listing["submissions"]) == 2
    )  # the loaded API return is listed once, not again as a folder file


def test_templates_are_empty_returns_with_the_header_row(api: Api) -> None:
    from openpyxl import load_workbook

    csv = api.client.get("/api/v1/template.csv")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content.decode("utf-8").strip().split(",") == list(spec.COLUMN_NAMES)
    xlsx = api.client.get("/api/v1/template.xlsx")
    assert xlsx.status_code == 200
    assert "attachment" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content))["Return"]
    assert [c.value for c in next(sheet.iter_rows(max_row=1))] == list(spec.COLUMN_NAMES)
    # A template is a return with no rows: read as one, it fails F05 alone.
    for data in (csv.content, xlsx.content):
        body = api.send("14L", data).json()
        assert [e["rule"] for e in body["errors"]] == ["F05"]


# -- security -------------------------------------------------------------------------------------


def test_no_token_or_wrong_token_is_401_and_nothing_is_kept(api: Api) -> None:
    data = valid_return("14L")
    none = api.client.post("/api/v1/returns", files={"file": ("r.csv", data)})
    wrong = api.client.post(
        "/api/v1/returns",
        headers={"Authorization": "Bearer sh_00000000_" + "x" * 43},
        files={"file": ("r.csv", data)},
    )
    basic = api.client.post(
        "/api/v1/returns",
        headers={"Authorization": f"Basic {api.tokens['14L']}"},
        files={"file": ("r.csv", data)},
    )
    for response in (none, wrong, basic):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert api.client.get("/api/v1/returns").status_code == 401
    assert api.landed("14L") == []
    assert count(api.engine, tables.submission) == 0


def test_revoked_token_is_401(api: Api) -> None:
    from surgehub.api.tokens import revoke_token

    revoke_token(api.engine, api.tokens["14L"], now=clock.now())
    assert api.send("14L", valid_return("14L")).status_code == 401


def test_another_localitys_submission_is_404_whatever_the_id(api: Api) -> None:
    queued = api.send("14L", valid_return("14L")).json()["submission_id"]
    rejected = api.send("14L", rejected_return("14L")).json()
    own = api.client.get(f"/api/v1/returns/{queued}", headers=api.auth("14L"))
    assert own.status_code == 200
    for other_id in (queued, rejected["submission_id"], str(rejected["warehouse_submission_id"])):
        response = api.client.get(f"/api/v1/returns/{other_id}", headers=api.auth("00T"))
        assert response.status_code == 404
        assert "14L" not in response.text
    for nonsense in ("api-0000000000000000", "1 or 1=1", "..%2F..%2Fetc", "99999999999999999999999"):
        assert api.client.get(f"/api/v1/returns/{nonsense}", headers=api.auth("14L")).status_code == 404
    assert api.client.get("/api/v1/returns", headers=api.auth("00T")).json()["submissions"] == []


def test_oversized_file_is_413(api: Api) -> None:
    just_over = b"a" * (5 * MIB + 1)
    response = api.send("14L", just_over)  # body within the framing allowance, file itself over
    assert response.status_code == 413
    assert "5 MiB" in response.json()["error"]
    far_over = api.send("14L", b"a" * (6 * MIB))  # refused on Content-Length, before reading
    assert far_over.status_code == 413


def test_oversized_body_without_content_length_is_413(api: Api) -> None:
    boundary = "b0undary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="r.csv"\r\n\r\n').encode()

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(7):
            yield b"a" * MIB

    response = api.client.post(
        "/api/v1/returns",
        headers={**api.auth("14L"), "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=chunks(),
    )
    assert response.status_code == 413
    assert api.landed("14L") == []


@pytest.mark.parametrize(
    "name",
    [
        "../../x.csv",
        "..\\..\\x.csv",
        "/etc/cron.d/x",
        "....//....//x.csv",
        "a/../../../b.xlsx",
        ".hidden.csv",
    ],
)
def test_file_names_cannot_escape_the_landing_folder(api: Api, name: str) -> None:
    response = api.send("14L", valid_return("14L"), name)
    assert response.status_code == 201
    body = response.json()
    assert "/" not in body["file_name"]
    assert "\\" not in body["file_name"]
    landing = api.settings.landing_dir
    files = sorted(p for p in landing.rglob("*") if p.is_file())
    assert files == [landing / "14L" / f"{body['submission_id']}.csv"]
    assert not (api.settings.home / "x.csv").exists()


def test_an_upload_that_is_not_a_return_is_rejected_with_f01(api: Api) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(random.Random(1).randrange(256) for _ in range(2000))
    response = api.send("14L", png, "chart.png")
    assert response.status_code == 422
    assert [e["rule"] for e in response.json()["errors"]] == ["F01"]
    assert api.landed("14L") == []


def test_wrong_content_type_and_multipart_abuse_are_refused_cleanly(api: Api) -> None:
    auth = api.auth("14L")
    data = valid_return("14L")
    as_json = api.client.post("/api/v1/returns", headers=auth, json={"file": data.decode()})
    assert as_json.status_code == 415
    raw = api.client.post("/api/v1/returns", headers={**auth, "Content-Type": "text/csv"}, content=data)
    assert raw.status_code == 415
    no_file = api.client.post("/api/v1/returns", headers=auth, files={"other": ("r.csv", data)})
    assert no_file.status_code == 400
    text_field = api.client.post("/api/v1/returns", headers=auth, data={"file": "not a file"})
    assert text_field.status_code in (400, 415)
    two_files = api.client.post(
        "/api/v1/returns", headers=auth, files=[("file", ("a.csv", data)), ("file", ("b.csv", data))]
    )
    assert two_files.status_code == 400
    many_fields = api.client.post(
        "/api/v1/returns",
        headers=auth,
        data={f"f{i}": "x" for i in range(50)},
        files={"file": ("r.csv", data)},
    )
    assert many_fields.status_code == 400
    no_boundary = api.client.post(
        "/api/v1/returns", headers={**auth, "Content-Type": "multipart/form-data"}, content=b"garbage"
    )
    assert no_boundary.status_code == 400
    truncated = api.client.post(
        "/api/v1/returns",
        headers={**auth, "Content-Type": "multipart/form-data; boundary=xyz"},
        content=b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="r.csv"\r\n\r\nabc',
    )
    assert truncated.status_code == 400
    for response in (as_json, raw, no_file, two_files, many_fields, no_boundary, truncated):
        assert "error" in response.json()
    assert api.landed("14L") == []
    assert count(api.engine, tables.submission) == 0


def test_uploads_are_rate_limited_per_token(surgehub_home: Path) -> None:
    settings, engine = settings_for(surgehub_home)
    manchester, bolton = token_for(engine, "14L"), token_for(engine, "00T")
    with TestClient(app_for(settings, Limits(uploads_per_window=2))) as client:

        def send(token: str, seed: int) -> object:
            return client.post(
                "/api/v1/returns",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": ("r.csv", exported_csv([]) + str(seed).encode())},
            )

        assert [send(manchester, i).status_code for i in range(2)] == [422, 422]
        limited = send(manchester, 3)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert send(bolton, 4).status_code == 422  # another token has its own allowance


# -- hand-off to the ingest DAG --------------------------------------------------------------------


def test_api_receipt_is_found_only_for_the_bytes_the_api_wrote(api: Api) -> None:
    body = api.send("14L", valid_return("14L"), "mine.csv").json()
    [landed] = api.landed("14L")

    def sha(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    receipt = api_receipt_for(landed.name, sha(landed.read_bytes()), "14L", api.engine)
    assert receipt is not None
    assert (receipt.api_submission_id, receipt.file_name) == (body["submission_id"], "mine.csv")
    assert receipt.received_at.isoformat() == "2026-11-25T09:00:00+00:00"
    assert api_receipt_for(landed.name, sha(landed.read_bytes()), "00T", api.engine) is None  # wrong folder
    other_bytes = valid_return("14L", seed=5)  # other bytes under the API's name
    assert api_receipt_for(landed.name, sha(other_bytes), "14L", api.engine) is None
    assert api_receipt_for("return.csv", sha(b"x"), "14L", api.engine) is None


def test_accepted_xlsx_lands_as_xlsx_and_loads(api: Api) -> None:
    from openpyxl import Workbook

    rows = locality_rows("14L", rng=3)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Return"
    sheet.append(list(spec.COLUMN_NAMES))
    for row in rows:
        sheet.append([row[name] for name in spec.COLUMN_NAMES])
    buffer = io.BytesIO()
    workbook.save(buffer)
    body = api.send("14L", buffer.getvalue(), "return.xlsx").json()
    assert body["status"] == "accepted", body
    [landed] = api.landed("14L")
    assert landed.name == f"{body['submission_id']}.xlsx"
    api.ingest()
    assert count(api.engine, tables.hub_day_version) == len(rows)


def test_a_late_pickup_is_judged_on_the_api_receipt_time(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ingest keeps the API's receipt time (spec §4), however late the pipeline picks the file up."""
    body = api.send("14L", valid_return("14L")).json()
    assert body["state"] == "queued"
    monkeypatch.setenv("SURGEHUB_NOW", "2026-12-10T09:00:00+00:00")  # 16 days after the activity date
    result = api.ingest()
    assert [s["status"] for s in result["submissions"]] == ["accepted"]  # R07 judged at the API's receipt
    assert result["submissions"][0]["received_at"] == body["received_at"].replace("Z", "+00:00")
    after = api.client.get(f"/api/v1/returns/{body['submission_id']}", headers=api.auth("14L")).json()
    assert after["state"] == "loaded"
    with api.engine.connect() as conn:
        channel, name = conn.execute(select(tables.submission.c.channel, tables.submission.c.file_name)).one()
    assert channel == "api"
    assert name == body["file_name"]


def test_nhs_number_in_comments_is_rejected_quarantined_and_never_echoed(api: Api) -> None:
    rows = locality_rows("14L", rng=4)
    rows[0]["comments"] = "patient 943 476 5919 seen twice"
    response = api.send("14L", exported_csv(rows), "r16.csv")
    assert response.status_code == 422
    assert "R16" in {e["rule"] for e in response.json()["errors"]}
    assert "5919" not in response.text
    assert "9434765919" not in response.text
    listing = api.client.get("/api/v1/returns", headers=api.auth("14L")).text
    assert "5919" not in listing
    # The API holds no quarantine (issue 14: operators only): it hands the file to landing, and a
    # worker's ingest records and quarantines it, keeping the API's receipt time and channel.
    assert not api.settings.quarantine_dir.exists()
    assert len(api.landed("14L")) == 1
    result = api.ingest()
    assert [s["status"] for s in result["submissions"]] == ["rejected"]
    assert api.landed("14L") == []
    with api.engine.connect() as connection:
        row = connection.execute(select(tables.submission)).one()
    assert row.quarantined
    assert row.archive_path is None
    assert row.channel == "api"
    assert row.received_at == datetime.fromisoformat(response.json()["received_at"].replace("Z", "+00:00"))
    after = api.client.get(f"/api/v1/returns/{response.json()['submission_id']}", headers=api.auth("14L"))
    assert after.json()["state"] == "rejected"
    assert "5919" not in after.text


def test_an_nhs_number_in_the_file_name_alone_is_quarantined_by_the_worker_too(api: Api) -> None:
    """R16 on the name only (spec 2026.2 §3): the worker sees the masked name, never the number, and
    must still refuse and quarantine the file rather than load a valid return."""
    response = api.send("14L", valid_return("14L"), "pt 943 476 5919.csv")
    assert response.status_code == 422
    [finding] = response.json()["errors"]
    assert (finding["rule"], finding["column"]) == ("R16", "file")
    assert "5919" not in response.text
    result = api.ingest()
    assert [s["status"] for s in result["submissions"]] == ["rejected"]
    assert count(api.engine, tables.hub_day_version) == 0
    with api.engine.connect() as connection:
        row = connection.execute(select(tables.submission)).one()
    assert row.quarantined
    assert "5919" not in row.file_name
    assert [(e["rule"], e["column"]) for e in row.errors] == [("R16", "file")]
    after = api.client.get(f"/api/v1/returns/{response.json()['submission_id']}", headers=api.auth("14L"))
    assert after.json()["state"] == "rejected"


def test_ingest_using_the_api_receipt_keeps_the_arrival_time_and_reads_loaded(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The change docs/api.md asks of tasks.ingest_files, done by hand: the API's side is ready for it."""
    from surgehub.ingest import Channel, IncomingReturn, ingest_returns

    body = api.send("14L", valid_return("14L"), "Manchester Tuesday.csv").json()
    [landed] = api.landed("14L")
    monkeypatch.setenv("SURGEHUB_NOW", "2026-11-25T09:00:04+00:00")  # the watcher sees it seconds later
    receipt = api_receipt_for(landed.name, hashlib.sha256(landed.read_bytes()).hexdigest(), "14L", api.engine)
    assert receipt is not None
    [outcome] = ingest_returns(
        [
            IncomingReturn(
                path=landed,
                locality="14L",
                channel=Channel.API,
                received_at=receipt.received_at,
                file_name=receipt.file_name,
            )
        ],
        Resources.of(api.settings),
    )
    assert outcome.status == "accepted"
    assert not outcome.duplicate
    with api.engine.connect() as connection:
        row = connection.execute(select(tables.submission)).one()
    assert (row.channel, row.file_name) == ("api", "Manchester Tuesday.csv")
    assert row.received_at.isoformat() == "2026-11-25T09:00:00+00:00"
    after = api.client.get(f"/api/v1/returns/{body['submission_id']}", headers=api.auth("14L")).json()
    assert (after["state"], after["duplicate"]) == ("loaded", False)
    assert after["warehouse_submission_id"] == row.submission_id


def test_a_return_that_cannot_be_recorded_is_503_and_nothing_lands(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from surgehub.api.submissions import Receiver

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError("warehouse unreachable")

    monkeypatch.setattr(Receiver, "_record", broken)
    response = api.send("14L", valid_return("14L"))
    assert response.status_code == 503
    assert "send it again" in response.json()["error"]
    assert api.landed("14L") == []


def test_a_landing_zone_that_cannot_be_written_is_503_and_the_state_says_error(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from surgehub.api.submissions import Receiver

    def broken(*_args: object, **_kwargs: object) -> None:
        raise PermissionError("read-only")

    working = Receiver._hand_off
    monkeypatch.setattr(Receiver, "_hand_off", broken)
    response = api.send("14L", valid_return("14L"))
    assert response.status_code == 503
    [listed] = api.client.get("/api/v1/returns", headers=api.auth("14L")).json()["submissions"]
    assert listed["state"] == "error"
    monkeypatch.setattr(Receiver, "_hand_off", working)
    monkeypatch.setenv("SURGEHUB_NOW", "2026-11-25T09:01:00+00:00")
    again = api.send("14L", valid_return("14L")).json()  # not a duplicate of the copy that never landed
    assert again["duplicate"] is False
    assert again["state"] == "queued"
