"""The hub register on the data team's admin page (``/admin/hubs``): add, rename and close a hub as the
``surgehub hubs`` command does, audited under the person's address; errors in the error summary; the
form's CSRF token; data team only (real SMTP for the sign-in code, SQLite, the fixed timeline)."""

from __future__ import annotations

import html
from datetime import date
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from surgehub.accounts import Role, add_account
from surgehub.warehouse.audit import events
from surgehub.warehouse.register import read_register
from tests.support.api import app_for, settings_for
from tests.support.signin import csrf_of, sign_in
from tests.support.timeline import TIMELINE_NOW

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy import Engine

    from surgehub.mail.server import LoopbackSmtpServer

pytestmark = pytest.mark.smtp

LEAD, ADMIN, BOARD = "lead@nhs.net", "dt@nhs.net", "member@nhs.net"
NEW = {
    "sub_icb_code": "01W",
    "hub_code": "01w-h2",
    "name": "Stockport East Surge Hub",
    "active_from": "2026-11-23",
    "active_to": "2027-03-31",
    "note": "opened late",
}


@pytest.fixture
def site(surgehub_home: Path, smtp_server: LoopbackSmtpServer) -> Iterator[tuple[TestClient, Engine, Path]]:
    settings, engine = settings_for(surgehub_home)
    add = {"display_name": None, "actor": "test", "at": TIMELINE_NOW}
    add_account(engine, LEAD, roles={Role.SUBMITTER}, locality="14L", **add)
    add_account(engine, ADMIN, roles={Role.DATA_TEAM}, locality=None, **add)
    add_account(engine, BOARD, roles={Role.BOARD}, locality=None, **add)
    with TestClient(app_for(settings), base_url="https://testserver") as client:
        yield client, engine, smtp_server.outbox


def hub_events(engine: Engine) -> list[tuple[str, str, str]]:
    return [(e.action, e.subject, e.actor) for e in events(engine, action_prefix="hub.")]


def test_the_data_team_adds_a_hub_and_sees_it_listed_and_audited_under_their_address(
    site: tuple[TestClient, Engine, Path],
) -> None:
    client, engine, outbox = site
    sign_in(client, outbox, ADMIN)
    admin = client.get("/admin")
    assert 'href="/admin/hubs"' in admin.text
    page = client.get("/admin/hubs")
    assert page.status_code == 200
    assert (
        '<td class="num">01W-H1</td><td>Stockport Surge Hub</td><td class="num">2026-11-01</td><td class="num">2027-03-31</td>'
        in page.text
    )
    added = client.post(
        "/admin/hubs/add", data={"csrf_token": csrf_of(page.text), **NEW}, follow_redirects=False
    )
    assert added.status_code == 303
    assert added.headers["location"] == "/admin/hubs?changed=01W-H2"
    shown = client.get(added.headers["location"])
    assert "Saved. 01W-H2: Stockport East Surge Hub, active 2026-11-23 to 2027-03-31." in shown.text
    assert (
        '<td>01W</td><td class="num">01W-H2</td><td>Stockport East Surge Hub</td><td class="num">2026-11-23</td><td class="num">2027-03-31</td>'
        in shown.text
    )
    assert f"<td>{ADMIN}</td><td>hub.add</td><td>hub:01W-H2</td>" in shown.text
    assert hub_events(engine) == [("hub.add", "hub:01W-H2", ADMIN)]
    [event] = events(engine, action_prefix="hub.")
    assert event.detail["note"] == "opened late"
    fact = read_register(engine).as_of(TIMELINE_NOW).hub_fact("01W-H2")
    assert fact is not None
    assert (fact.recorded_by, fact.recorded_at, fact.hub.active_from) == (
        ADMIN,
        TIMELINE_NOW,
        date(2026, 11, 23),
    )


def test_the_data_team_renames_and_closes_a_hub_each_audited(site: tuple[TestClient, Engine, Path]) -> None:
    client, engine, outbox = site
    sign_in(client, outbox, ADMIN)
    csrf = csrf_of(client.get("/admin/hubs").text)
    renamed = client.post(
        "/admin/hubs/rename", data={"csrf_token": csrf, "hub_code": "01D-H2", "name": "Heywood Surge Hub"}
    )
    assert renamed.status_code == 200  # after the redirect
    assert "Saved. 01D-H2: Heywood Surge Hub" in renamed.text
    closed = client.post(
        "/admin/hubs/close", data={"csrf_token": csrf, "hub_code": "01D-H2", "active_to": "2026-12-31"}
    )
    assert "Saved. 01D-H2: Heywood Surge Hub, active 2026-11-01 to 2026-12-31." in closed.text
    assert hub_events(engine) == [("hub.rename", "hub:01D-H2", ADMIN), ("hub.close", "hub:01D-H2", ADMIN)]
    hub = read_register(engine).as_of(TIMELINE_NOW).hub("01D-H2")
    assert hub is not None
    assert (hub.name, hub.active_to) == ("Heywood Surge Hub", date(2026, 12, 31))


@pytest.mark.parametrize(
    ("path", "edit", "field", "message"),
    [
        ("add", {"hub_code": "STOCKPORT"}, "add-hub_code", "is not of the form 01W-H1"),
        ("add", {"hub_code": "14L-H9"}, "add-hub_code", "is not of the form 01W-H1"),  # another locality's
        ("add", {"hub_code": "01W-H1"}, "add-hub_code", "Hub 01W-H1 is already in the register"),
        ("add", {"sub_icb_code": "99Z", "hub_code": "99Z-H1"}, "add-sub_icb_code", "Unknown locality 99Z"),
        ("add", {"active_from": "2026-10-01"}, "add-active_from", "2026-10-01 is outside the surge season"),
        ("add", {"active_to": "2027-04-30"}, "add-active_to", "2027-04-30 is outside the surge season"),
        (
            "add",
            {"active_to": "2026-11-02"},
            "add-active_to",
            "The hub would close (2026-11-02) before it opens",
        ),
        ("add", {"active_from": "1 Dec"}, "add-active_from", "Enter the first active day as a date"),
        ("add", {"name": "  "}, "add-name", "Enter the hub's name"),
        ("add", {"name": "x" * 201}, "add-name", "The hub's name is longer than 200 characters"),
        ("add", {"note": "x" * 501}, "add-note", "The note is longer than 500 characters"),
        ("rename", {"hub_code": "01W-H1", "name": "y" * 300}, "rename-name", "longer than 200 characters"),
        (
            "add",
            {"name": "<script>alert(1)</script>", "hub_code": "<b>x</b>"},
            "add-hub_code",
            "is not of the form",
        ),
        (
            "rename",
            {"hub_code": "01W-H9", "name": "x"},
            "rename-hub_code",
            "Hub 01W-H9 is not in the register",
        ),
        ("rename", {"hub_code": "01W-H1", "name": "Stockport Surge Hub"}, "rename-name", "already reads so"),
        (
            "close",
            {"hub_code": "01W-H1", "active_to": "2027-06-30"},
            "close-active_to",
            "outside the surge season",
        ),
        (
            "close",
            {"hub_code": "01W-H1", "active_to": "soon"},
            "close-active_to",
            "Enter the hub's last day as a date",
        ),
    ],
)
def test_a_change_that_cannot_be_made_is_shown_in_the_error_summary_and_changes_nothing(
    site: tuple[TestClient, Engine, Path], path: str, edit: dict[str, str], field: str, message: str
) -> None:
    client, engine, outbox = site
    sign_in(client, outbox, ADMIN)
    csrf = csrf_of(client.get("/admin/hubs").text)
    before = read_register(engine).as_of(TIMELINE_NOW).hub_facts
    answer = client.post(f"/admin/hubs/{path}", data={"csrf_token": csrf, **NEW, **edit})
    assert answer.status_code == 400
    summary = html.unescape(answer.text.split('<div class="error-summary"')[1].split("</div>")[0])
    assert f'href="#{field}"' in summary
    assert message in summary
    assert f'id="{field}"' in answer.text
    assert "<script>" not in answer.text
    assert "<b>" not in answer.text
    assert read_register(engine).as_of(TIMELINE_NOW).hub_facts == before
    assert hub_events(engine) == []


def test_a_change_needs_the_form_from_the_page(site: tuple[TestClient, Engine, Path]) -> None:
    client, engine, outbox = site
    sign_in(client, outbox, ADMIN)
    for path in ("add", "rename", "close"):
        answer = client.post(
            f"/admin/hubs/{path}", data={**NEW, "hub_code": "01W-H1", "csrf_token": "forged"}
        )
        assert answer.status_code == 403
        assert "The form had expired" in answer.text
    assert hub_events(engine) == []


@pytest.mark.parametrize("who", [LEAD, BOARD])
def test_the_register_page_is_not_there_for_anyone_else(
    site: tuple[TestClient, Engine, Path], who: str
) -> None:
    client, engine, outbox = site
    assert (
        client.get("/admin/hubs", follow_redirects=False).status_code == 303
    )  # not signed in: sign in first
    sign_in(client, outbox, who)
    assert client.get("/admin/hubs").status_code == 404
    csrf = csrf_of(client.get("/").text)
    for path in ("add", "rename", "close"):
        assert client.post(f"/admin/hubs/{path}", data={"csrf_token": csrf, **NEW}).status_code == 404
    assert hub_events(engine) == []
    assert read_register(engine).as_of(TIMELINE_NOW).hub("01W-H2") is None
