"""Drop-folder mistakes (issue 16): a return in another locality's folder gets a receipt that says whose
it looks like and where to move it (not R05 on every row); a file in the landing root is reported by
the ingest log and `surgehub health` instead of being ignored in silence."""

from __future__ import annotations

import logging
import os
import random
import time
from typing import TYPE_CHECKING

import pytest

from surgehub import sample
from surgehub.config import load_settings
from surgehub.landing import ensure_landing
from surgehub.mail.receipts import receipt_mails
from surgehub.orchestration import tasks
from surgehub.resources import Resources
from surgehub.returns.receipt import misplaced_as
from surgehub.returns.result import Coverage
from surgehub.warehouse.db import ensure_warehouse, get_engine
from surgehub.warehouse.register import read_register
from tests.hostile.corpus import DAY

if TYPE_CHECKING:
    from pathlib import Path

CONTACTS = {"email": {"public_base_url": "https://surgehub.example.nhs.uk"}}


@pytest.fixture
def landing(surgehub_home: Path) -> Path:
    settings = load_settings()
    ensure_landing(settings.landing_dir)
    ensure_warehouse(get_engine(settings.warehouse_url))
    return settings.landing_dir


def manchester_return(**edit: str) -> bytes:
    rows = sample.locality_rows("14L", [DAY], random.Random(3))
    for r in rows:
        r.update(edit)
    return sample.to_csv(rows)


def drop(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    then = time.time() - 60  # complete: a manual run takes it at once
    os.utime(path, (then, then))
    return path


def manual_run() -> dict[str, object]:
    resources = Resources.from_env()
    return tasks.ingest_files(tasks.files_from_context({}, resources), resources)


def test_a_manchester_file_in_boltons_folder_says_whose_it_looks_like_and_where_to_move_it(
    landing: Path,
) -> None:
    drop(landing / "00T", "manchester-24nov.csv", manchester_return())
    result = manual_run()
    [entry] = result["submissions"]  # type: ignore[misc]
    assert entry["status"] == "rejected"
    settings = load_settings().overridden(CONTACTS)
    engine = get_engine(settings.warehouse_url)
    [mail] = receipt_mails(engine, [entry["submission_id"]], settings)
    assert "bolton" in mail.recipient  # the folder's locality hears back
    assert "looks like Manchester (14L)'s return" in mail.subject
    assert "manchester-24nov.csv" in mail.subject
    assert "THIS LOOKS LIKE MANCHESTER (14L)'S RETURN, not Bolton's" in mail.text
    assert "put it in Manchester's folder, landing/14L/" in mail.text
    assert "landing/00T/rejected/" in mail.text
    assert "R05 (" not in mail.text  # not repeated on every row: folded into the one notice
    assert "it does not look like Bolton's return" in mail.text
    assert "failed on 3 rows for the same reason" in mail.text
    assert "landing/14L/" in mail.html
    assert (landing / "00T" / "rejected" / "manchester-24nov.csv").exists()


def test_a_bolton_file_with_one_wrong_hub_is_not_called_misplaced(landing: Path) -> None:
    view = read_register(get_engine(load_settings().warehouse_url)).latest()
    bolton = sorted(h.hub_code for h in view.hubs_of("00T"))
    own = Coverage(hubs=(*bolton, "14L-H1"))
    assert misplaced_as(own, "00T", view) is None
    theirs = Coverage(hubs=("14L-H1", "14L-H2", bolton[0]))
    found = misplaced_as(theirs, "00T", view)
    assert found is not None
    assert (found.code, found.hubs, found.named) == ("14L", ("14L-H1", "14L-H2"), 3)
    assert misplaced_as(Coverage(hubs=("ZZZ-H1",)), "00T", view) is None


def test_a_file_in_the_landing_root_is_reported_in_the_ingest_log(
    landing: Path, caplog: pytest.LogCaptureFixture
) -> None:
    drop(landing, "bolton 24 nov.csv", manchester_return())
    with caplog.at_level(logging.WARNING, logger="surgehub.orchestration.tasks"):
        result = manual_run()
    assert result["submissions"] == []
    [line] = [r.getMessage() for r in caplog.records if "landing root" in r.getMessage()]
    assert "1 entry in the landing root" in line
    assert "bolton 24 nov.csv" in line
    assert "move each return into its locality's folder" in line
    assert (landing / "bolton 24 nov.csv").exists()  # never taken: whose it is cannot be known


def test_the_upload_page_says_whose_a_misplaced_upload_looks_like(surgehub_home: Path) -> None:
    from fastapi.testclient import TestClient

    from tests.support.api import app_for, settings_for, token_for

    settings, engine = settings_for(surgehub_home)
    bolton = token_for(engine, "00T")
    with TestClient(app_for(settings)) as client:
        answer = client.post(
            "/", data={"token": bolton}, files={"file": ("manchester.csv", manchester_return(), "text/csv")}
        )
        assert answer.status_code == 422
        assert "This looks like Manchester (14L)'s return" in answer.text
        assert "Manchester&#39;s own submission token" in answer.text
        own = client.post(
            "/",
            data={"token": bolton},
            files={"file": ("bolton.csv", manchester_return(appts_offered="0"), "text/csv")},
        )
        assert "This looks like" in own.text  # still Manchester's hubs
        fine = client.post(
            "/",
            data={"token": token_for(engine, "14L")},
            files={"file": ("m.csv", manchester_return(), "text/csv")},
        )
        assert fine.status_code == 200
        assert "This looks like" not in fine.text
