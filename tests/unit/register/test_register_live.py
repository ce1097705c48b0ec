"""A register change is picked up by a running API process, its "still owes" list and the next ingest
run, without a restart (issue 19): nothing caches the register."""

from __future__ import annotations

import random
from datetime import date
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

from surgehub import clock, sample
from surgehub.api.limits import Limits
from surgehub.register import Hub
from surgehub.warehouse.register import add_hub
from tests.support.api import app_for, settings_for, token_for

if TYPE_CHECKING:
    from pathlib import Path

NEW_HUB = Hub("14L-H4", "14L", "Manchester East Surge Hub", date(2026, 11, 24), date(2027, 3, 31))


def _new_hub_return(seed: int) -> bytes:
    return sample.to_csv([sample.hub_day_row("14L-H4", date(2026, 11, 24), random.Random(seed), hub=NEW_HUB)])


def test_a_running_api_judges_the_first_return_after_a_register_change_with_it(surgehub_home: Path) -> None:
    settings, engine = settings_for(surgehub_home)
    headers = {"Authorization": f"Bearer {token_for(engine, '14L')}"}
    with TestClient(app_for(settings, Limits(uploads_per_window=100))) as client:
        before = client.post(
            "/api/v1/returns", headers=headers, files={"file": ("a.csv", _new_hub_return(1), "text/csv")}
        )
        assert before.status_code == 422
        assert any(e["rule"] == "R06" for e in before.json()["errors"])
        owed = client.get("/api/v1/returns", headers=headers).json()["outstanding"]
        assert "14L-H4" not in {o["hub_code"] for o in owed}

        add_hub(engine, NEW_HUB, actor="ops", at=clock.now())  # committed while the app runs

        owed = client.get("/api/v1/returns", headers=headers).json()["outstanding"]
        assert {"hub_code": "14L-H4", "activity_date": "2026-11-24"}.items() <= next(
            o for o in owed if o["hub_code"] == "14L-H4"
        ).items()
        after = client.post(
            "/api/v1/returns", headers=headers, files={"file": ("b.csv", _new_hub_return(2), "text/csv")}
        )
        assert after.status_code == 201, after.json()
