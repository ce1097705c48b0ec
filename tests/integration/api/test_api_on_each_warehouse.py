"""The Submission API on SQLite and on PostgreSQL alike: the same contract, states and exactly-once loading;
and the explain and hub-register pages (issue 19) read and write either warehouse the same way.

The PostgreSQL case needs the server at 127.0.0.1:5432 (required when CI=true, skipped loudly elsewhere).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from surgehub import clock
from surgehub.accounts import Role, add_account
from surgehub.api.tokens import create_token
from surgehub.config import load_settings
from surgehub.ingest import Channel, IncomingReturn, ingest_returns
from surgehub.orchestration import tasks
from surgehub.resources import Resources
from surgehub.warehouse import tables
from surgehub.warehouse.audit import events
from tests.support.api import app_for
from tests.support.returns import rejected_return, valid_return
from tests.support.signin import csrf_of, sign_in

if TYPE_CHECKING:
    from pathlib import Path

    from surgehub.mail.server import LoopbackSmtpServer


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


@pytest.mark.smtp
def test_the_explain_and_register_pages_on_each_warehouse(
    warehouse: Engine, surgehub_home: Path, smtp_server: LoopbackSmtpServer
) -> None:
    settings = load_settings()
    analyst = "analyst@nhs.net"
    add_account(
        warehouse,
        analyst,
        roles={Role.DATA_TEAM},
        locality=None,
        display_name=None,
        actor="test",
        at=clock.now(),
    )
    path = surgehub_home / "manchester-24-nov.csv"
    path.write_bytes(valid_return("14L"))
    item = IncomingReturn(path=path, locality="14L", channel=Channel.CLI, received_at=clock.now())
    [outcome] = ingest_returns([item], Resources.of(settings, engine=warehouse))
    assert outcome.error is None
    with TestClient(app_for(settings), base_url="https://testserver") as client:
        sign_in(client, smtp_server.outbox, analyst)
        explained = client.get("/explain/14L/2026-11-24")
        assert explained.status_code == 200
        assert "manchester-24-nov.csv" in explained.text
        assert "Decided by" in explained.text
        csrf = csrf_of(client.get("/admin/hubs").text)
        new = {
            "sub_icb_code": "01W",
            "hub_code": "01W-H2",
            "name": "Stockport East",
            "active_from": "2026-11-23",
        }
        added = client.post("/admin/hubs/add", data={"csrf_token": csrf, **new, "active_to": "2027-03-31"})
        assert added.status_code == 200
        assert "Saved. 01W-H2: Stockport East, active 2026-11-23 to 2027-03-31." in added.text
    assert [(e.action, e.actor) for e in events(warehouse, action_prefix="hub.")] == [("hub.add", analyst)]
