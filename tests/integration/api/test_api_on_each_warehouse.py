"""The Submission API on SQLite and on PostgreSQL alike: the same contract, states and exactly-once loading.

The PostgreSQL case needs the server at 127.0.0.1:5432 (required when CI=true, skipped loudly elsewhere).
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from surgehub import clock
from surgehub.api.tokens import create_token
from surgehub.config import load_settings
from surgehub.orchestration import tasks
from surgehub.resources import Resources
from surgehub.warehouse import tables
from tests.support.api import app_for
from tests.support.returns import rejected_return, valid_return


def test_api_queues_loads_once_and_rejects(warehouse: Engine) -> None:
    settings = load_settings()
    tokens = {code: create_token(warehouse, code, now=clock.now())[0] for code in ("14L", "00V")}
    with TestClient(app_for(settings)) as client:

        def send(code: str, data: bytes) -> dict:
            response = client.post(
                "/api/v1/returns",
                headers={"Authorization": f"Bearer {tokens[code]}"},
                files={"file": ("r.csv", data)},
            )
            return {"code": response.status_code, **response.json()}

        first = send("14L", valid_return("14L"))
        again = send("14L", valid_return("14L"))
        bury = send("00V", valid_return("00V"))
        bad = send("14L", rejected_return("14L"))
        assert (first["code"], first["state"], first["duplicate"]) == (201, "queued", False)
        assert (again["code"], again["duplicate"]) == (201, True)
        assert (bad["code"], bad["state"]) == (422, "rejected")
        result = tasks.ingest_files(
            tasks.files_from_context({}, Resources.from_env()), Resources.of(settings)
        )
        assert sorted(s["status"] for s in result["submissions"]) == ["accepted", "accepted"]
        with warehouse.connect() as connection:
            versions = connection.execute(
                select(func.count()).select_from(tables.hub_day_version)
            ).scalar_one()
        assert versions == first["rows"] + bury["rows"]
        auth = {"Authorization": f"Bearer {tokens['14L']}"}
        for sent in (first, again):
            assert (
                client.get(f"/api/v1/returns/{sent['submission_id']}", headers=auth).json()["state"]
                == "loaded"
            )
        assert client.get(f"/api/v1/returns/{bury['submission_id']}", headers=auth).status_code == 404
        listing = client.get("/api/v1/returns", headers=auth).json()
        # (all received at the frozen instant: the order of ties is not asserted here)
        assert sorted(s["state"] for s in listing["submissions"]) == ["loaded", "loaded", "rejected"]
