"""The explain page (``/explain/{code}/{day}``) as people use it: who may see it, what it says, and what a
hostile address gets (real SMTP for the sign-in code, SQLite, the fixed timeline)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from surgehub.accounts import Role, add_account
from surgehub.ingest import Channel, IncomingReturn, ingest_returns
from surgehub.lineage import explain
from surgehub.resources import Resources
from tests.support.api import app_for, settings_for
from tests.support.returns import DAY, valid_return
from tests.support.signin import sign_in
from tests.support.timeline import TIMELINE_NOW

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy import Engine

    from surgehub.config import Settings
    from surgehub.mail.server import LoopbackSmtpServer

pytestmark = pytest.mark.smtp

LEAD, OTHER_LEAD, ADMIN, BOARD = "lead@nhs.net", "bury@nhs.net", "dt@nhs.net", "member@nhs.net"
FILE_NAME = "manchester-24-nov.csv"
PAGE = f"/explain/14L/{DAY.isoformat()}"


@pytest.fixture
def site(
    surgehub_home: Path, smtp_server: LoopbackSmtpServer
) -> Iterator[tuple[TestClient, Engine, Path, Settings]]:
    settings, engine = settings_for(surgehub_home)
    add = {"display_name": None, "actor": "test", "at": TIMELINE_NOW}
    add_account(engine, LEAD, roles={Role.SUBMITTER}, locality="14L", **add)
    add_account(engine, OTHER_LEAD, roles={Role.SUBMITTER}, locality="00V", **add)
    add_account(engine, ADMIN, roles={Role.DATA_TEAM}, locality=None, **add)
    add_account(engine, BOARD, roles={Role.BOARD}, locality=None, **add)
    path = surgehub_home / FILE_NAME
    path.write_bytes(valid_return("14L"))
    item = IncomingReturn(path=path, locality="14L", channel=Channel.CLI, received_at=TIMELINE_NOW)
    [outcome] = ingest_returns([item], Resources.of(settings, engine=engine))
    assert outcome.error is None
    with TestClient(app_for(settings), base_url="https://testserver") as client:
        yield client, engine, smtp_server.outbox, settings


def test_a_board_member_reads_the_status_the_rule_and_the_file_behind_a_locality_day(
    site: tuple[TestClient, Engine, Path, Settings],
) -> None:
    client, engine, outbox, settings = site
    sign_in(client, outbox, BOARD)
    page = client.get(PAGE)
    assert page.status_code == 200
    found = explain(engine, settings, "14L", DAY, TIMELINE_NOW)  # the page renders this value, no other
    words = found.status.replace("_", " ").lower()
    assert f"Why Manchester was {words} on {DAY:%A %-d %B %Y}" in page.text
    assert found.rule in page.text
    assert found.rule.startswith("§5")
    assert FILE_NAME in page.text
    current = found.hubs[0].current
    assert current is not None
    assert current["sha256"] in page.text
    assert current["archive_path"] in page.text
    assert [h.hub_code for h in found.hubs] == ["14L-H1", "14L-H2", "14L-H3"]
    for hub in found.hubs:
        assert f"({hub.hub_code})</h3>" in page.text
    for parameter in found.parameters:
        assert f"<td>{parameter['weight']}</td><td>{parameter['points']}</td>" in page.text


def test_the_board_page_links_each_locality_to_its_explain_page(
    site: tuple[TestClient, Engine, Path, Settings],
) -> None:
    client, _engine, outbox, _settings = site
    sign_in(client, outbox, ADMIN)
    board = client.get("/board", params={"date": DAY.isoformat()})
    links = re.findall(r'href="(/explain/\w{3}/[\d-]+)"', board.text)
    assert len(links) == 10
    assert PAGE in links
    assert client.get(PAGE).status_code == 200


def test_as_of_a_time_before_the_return_arrived_the_page_shows_no_return(
    site: tuple[TestClient, Engine, Path, Settings],
) -> None:
    client, _engine, outbox, _settings = site
    sign_in(client, outbox, ADMIN)
    before = client.get(PAGE, params={"as_of": "2026-11-24T12:00"})
    assert before.status_code == 200
    assert FILE_NAME not in before.text
    assert "No return for this day." in before.text
    assert "as of Tue 24 Nov 2026 12:00" in before.text
    digest = client.get(PAGE, params={"digest": "board:2026-11-26T07:30"})
    assert digest.status_code == 200
    assert "as the digest board:2026-11-26T07:30 showed it" in digest.text
    assert FILE_NAME in digest.text


def test_a_submitter_sees_their_own_locality_only(site: tuple[TestClient, Engine, Path, Settings]) -> None:
    client, _engine, outbox, _settings = site
    sign_in(client, outbox, LEAD)
    assert client.get(PAGE).status_code == 200
    other = client.get(f"/explain/00V/{DAY.isoformat()}")
    assert other.status_code == 404
    assert "There is no such page" in other.text


def test_another_localitys_submitter_gets_no_such_page(
    site: tuple[TestClient, Engine, Path, Settings],
) -> None:
    client, _engine, outbox, _settings = site
    sign_in(client, outbox, OTHER_LEAD)
    page = client.get(PAGE)
    assert page.status_code == 404
    assert FILE_NAME not in page.text


def test_not_signed_in_the_page_sends_you_to_sign_in(site: tuple[TestClient, Engine, Path, Settings]) -> None:
    client, *_ = site
    answer = client.get(PAGE, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("/sign-in")


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/explain/XXX/2026-11-24", {}, 404),  # not a locality
        ("/explain/%3Cscript%3E/2026-11-24", {}, 404),
        ("/explain/" + "1" * 5000 + "/2026-11-24", {}, 404),
        ("/explain/14L/2020-01-01", {}, 404),  # outside every season
        ("/explain/14L/2026-02-30", {}, 400),
        ("/explain/14L/%3Cscript%3Ealert(1)%3C%2Fscript%3E", {}, 404),  # %2F: no such route
        ("/explain/14L/" + "9" * 5000, {}, 400),
        ("/explain/14L/..%2F..%2Fetc%2Fpasswd", {}, 404),
        ("/explain/14L/%3Cscript%3E", {}, 400),
        ("/explain/14L/2026-11-24", {"as_of": "yesterday<script>"}, 400),
        ("/explain/14L/2026-11-24", {"as_of": "9" * 5000}, 400),
        ("/explain/14L/2026-11-24", {"digest": "board:<b>"}, 400),
        ("/explain/14L/2026-11-24", {"digest": "board:2026-11-26T07:30", "as_of": "2026-11-26"}, 400),
    ],
)
def test_hostile_addresses_get_a_clean_refusal_never_an_error(
    site: tuple[TestClient, Engine, Path, Settings], path: str, params: dict[str, str], status: int
) -> None:
    client, _engine, outbox, _settings = site
    sign_in(client, outbox, BOARD)
    answer = client.get(path, params=params)
    assert answer.status_code == status
    assert "<script>" not in answer.text
    assert "<b>" not in answer.text
    if status == 400:
        assert "There is a problem" in answer.text


def test_the_digests_link_is_this_page(site: tuple[TestClient, Engine, Path, Settings]) -> None:
    client, _engine, outbox, settings = site
    link = settings.email.explain_url("14l", DAY)  # what each locality row of the HTML digest links to
    assert link.startswith(settings.email.public_base_url)
    sign_in(client, outbox, BOARD)
    answer = client.get(link.removeprefix(settings.email.public_base_url))
    assert answer.status_code == 200
    assert FILE_NAME in answer.text
