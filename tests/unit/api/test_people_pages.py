"""A submitter's own tokens and the data team's admin page, as people use them (real SMTP, SQLite)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from surgehub.accounts import Role, add_account
from surgehub.api.tokens import list_tokens
from surgehub.warehouse.audit import events
from tests.support.api import app_for, settings_for, token_for
from tests.support.returns import valid_return
from tests.support.signin import csrf_of, sign_in
from tests.support.timeline import TIMELINE_NOW

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy import Engine

    from surgehub.mail.server import LoopbackSmtpServer

pytestmark = pytest.mark.smtp

LEAD, ADMIN, BOARD = "lead@nhs.net", "dt@nhs.net", "member@nhs.net"


@pytest.fixture
def site(surgehub_home: Path, smtp_server: LoopbackSmtpServer) -> Iterator[tuple[TestClient, Engine, Path]]:
    settings, engine = settings_for(surgehub_home)
    add = {"display_name": None, "actor": "test", "at": TIMELINE_NOW}
    add_account(engine, LEAD, roles={Role.SUBMITTER}, locality="14L", **add)
    add_account(engine, ADMIN, roles={Role.DATA_TEAM}, locality=None, **add)
    add_account(engine, BOARD, roles={Role.BOARD}, locality=None, **add)
    with TestClient(app_for(settings), base_url="https://testserver") as client:
        yield client, engine, smtp_server.outbox


def test_a_submitter_makes_a_token_sees_it_once_and_a_script_sends_with_it(
    site: tuple[TestClient, Engine, Path],
) -> None:
    client, engine, outbox = site
    sign_in(client, outbox, LEAD)
    page = client.get("/tokens")
    assert page.status_code == 200
    made = client.post(
        "/tokens", data={"csrf_token": csrf_of(page.text), "label": "nightly export", "days": "30"}
    )
    assert made.status_code == 201
    token = re.search(r'id="made-token" readonly value="(sh_[^"]+)"', made.text)
    assert token
    [info] = list_tokens(engine)
    assert (info.account_email, info.sub_icb_code, info.label) == (LEAD, "14L", "nightly export")
    assert info.expires_at is not None
    assert (info.expires_at - TIMELINE_NOW).days == 30
    assert token.group(1) not in client.get("/tokens").text  # shown once only
    sent = client.post(
        "/api/v1/returns",
        headers={"Authorization": f"Bearer {token.group(1)}"},
        files={"file": ("r.csv", valid_return("14L"))},
    )
    assert sent.status_code == 201
    actors = [(e.action, e.actor) for e in events(engine, action_prefix="")]
    assert ("token.create", LEAD) in actors
    assert ("submission.receive", info.prefix) not in actors  # recorded as the token, by prefix
    assert ("submission.receive", f"token:{info.prefix}") in actors


def test_making_a_token_needs_the_form_from_the_page(site: tuple[TestClient, Engine, Path]) -> None:
    client, engine, outbox = site
    sign_in(client, outbox, LEAD)
    assert client.post("/tokens", data={"label": "forged"}).status_code == 403
    assert list_tokens(engine) == []


def test_the_data_team_revokes_a_token_and_sees_it_in_the_audit(
    site: tuple[TestClient, Engine, Path],
) -> None:
    client, engine, outbox = site
    token = token_for(engine, "01W")
    prefix = token.split("_")[1]
    sign_in(client, outbox, ADMIN)
    page = client.get("/admin")
    assert page.status_code == 200
    assert LEAD in page.text
    assert prefix in page.text
    done = client.post("/admin/tokens/revoke", data={"csrf_token": csrf_of(page.text), "prefix": prefix})
    assert done.status_code == 200
    assert f"Token {prefix} revoked" in done.text
    assert re.search(rf"<td>{ADMIN}</td><td>token.revoke</td><td>token:{prefix}</td>", done.text)
    assert client.get("/api/v1/returns", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.parametrize("who", [LEAD, BOARD])
def test_the_admin_page_is_not_there_for_anyone_else(site: tuple[TestClient, Engine, Path], who: str) -> None:
    client, engine, outbox = site
    prefix = token_for(engine, "01W").split("_")[1]
    assert client.get("/admin", follow_redirects=False).status_code == 303  # not signed in: sign in first
    sign_in(client, outbox, who)
    assert client.get("/admin").status_code == 404
    csrf = csrf_of(client.get("/").text)
    assert client.post("/admin/tokens/revoke", data={"csrf_token": csrf, "prefix": prefix}).status_code == 404
    assert list_tokens(engine)[0].revoked_at is None


def test_a_submitter_cannot_revoke_someone_elses_token(site: tuple[TestClient, Engine, Path]) -> None:
    client, engine, outbox = site
    prefix = token_for(engine, "14L").split("_")[1]  # the locality's, but not this person's
    sign_in(client, outbox, LEAD)
    csrf = csrf_of(client.get("/tokens").text)
    assert client.post("/tokens/revoke", data={"csrf_token": csrf, "prefix": prefix}).status_code == 404
    assert list_tokens(engine)[0].revoked_at is None


def test_a_board_member_sees_every_localitys_status_in_words(site: tuple[TestClient, Engine, Path]) -> None:
    client, _engine, outbox = site
    sign_in(client, outbox, BOARD)
    page = client.get("/board")
    assert page.status_code == 200
    assert "RAG status for Tuesday 24 November 2026" in page.text  # yesterday on the test timeline
    rows = re.findall(
        r'<tr><td><a href="/explain/\w{3}/2026-11-24">([^<]+) \((\w{3})\)<span[^<]*</span></a></td>\s*'
        r"<td><strong>([^<]+)</strong>",
        page.text,
    )
    assert [code for _, code, _ in rows] == [
        "00T",
        "00V",
        "01D",
        "14L",
        "00Y",
        "01G",
        "01W",
        "01Y",
        "02A",
        "02H",
    ]
    assert {status for *_, status in rows} <= {"Green", "Amber", "Red", "Closed", "No return", "Pending"}
    other = client.get("/board", params={"date": "2026-11-23"})
    assert "RAG status for Monday 23 November 2026" in other.text
    wrong = client.get("/board", params={"date": "2020-01-01"})
    assert wrong.status_code == 400
    assert "outside the surge season" in wrong.text


def test_the_board_page_is_not_there_for_a_submitter(site: tuple[TestClient, Engine, Path]) -> None:
    client, _engine, outbox = site
    sign_in(client, outbox, LEAD)
    assert client.get("/board").status_code == 404
    assert 'href="/board"' not in client.get("/").text


def test_the_data_team_sees_health_and_every_localitys_returns_as_its_submitters_do(
    site: tuple[TestClient, Engine, Path],
) -> None:
    client, engine, outbox = site
    sent = client.post(
        "/api/v1/returns",
        headers={"Authorization": f"Bearer {token_for(engine, '14L')}"},
        files={"file": ("manchester-24-nov.csv", valid_return("14L"))},
    )
    assert sent.status_code == 201
    reference_id = sent.json()["submission_id"]
    sign_in(client, outbox, ADMIN)
    admin = client.get("/admin")
    assert re.search(r"<td>warehouse</td><td><strong>Passes</strong></td>", admin.text)
    assert "Health: every check passes" in admin.text
    every = client.get("/admin/localities")
    assert every.status_code == 200
    rows = re.findall(r'<a href="/admin/localities/(\w{3})">[^<]+</a></td><td>(\d+)</td>', every.text)
    assert len(rows) == 10
    assert dict(rows)["14L"] == "1"
    assert dict(rows)["01G"] == "0"
    one = client.get("/admin/localities/14l")
    assert "manchester-24-nov.csv" in one.text
    assert "Hub-days Manchester still owes" in one.text
    link = f"/my-returns/{reference_id}?locality=14L"
    assert link in one.text
    assert "manchester-24-nov.csv" in client.get(link).text
    assert client.get(f"/my-returns/{reference_id}?locality=01G").status_code == 404
    assert client.get("/admin/localities/XYZ").status_code == 404


@pytest.mark.parametrize("who", [LEAD, BOARD])
def test_every_localitys_returns_are_for_the_data_team_only(
    site: tuple[TestClient, Engine, Path], who: str
) -> None:
    client, _engine, outbox = site
    sign_in(client, outbox, who)
    assert client.get("/admin/localities").status_code == 404
    assert client.get("/admin/localities/14L").status_code == 404
    assert client.get("/my-returns/x?locality=01G").status_code == 404
