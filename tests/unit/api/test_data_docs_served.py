"""The GX Data Docs behind the sign-in: the data team only, and only files inside the site (real SMTP
codes, SQLite, the real Data Docs build)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from surgehub.accounts import Role, add_account
from surgehub.gx.store import site_dir
from tests.support.api import app_for, settings_for
from tests.support.signin import sign_in
from tests.support.timeline import TIMELINE_NOW

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy import Engine

    from surgehub.mail.server import LoopbackSmtpServer

pytestmark = pytest.mark.smtp

ADMIN, BOARD, LEAD = "dt@nhs.net", "member@nhs.net", "lead@nhs.net"


@pytest.fixture
def site(
    surgehub_home: Path, smtp_server: LoopbackSmtpServer
) -> Iterator[tuple[TestClient, Engine, Path, Path]]:
    settings, engine = settings_for(surgehub_home)
    add = {"display_name": None, "actor": "test", "at": TIMELINE_NOW}
    add_account(engine, ADMIN, roles={Role.DATA_TEAM}, locality=None, **add)
    add_account(engine, BOARD, roles={Role.BOARD}, locality=None, **add)
    add_account(engine, LEAD, roles={Role.SUBMITTER}, locality="14L", **add)
    with TestClient(app_for(settings), base_url="https://testserver") as client:
        yield client, engine, smtp_server.outbox, settings.home


def test_nobody_signed_in_is_sent_to_sign_in(site: tuple[TestClient, Engine, Path, Path]) -> None:
    client, *_ = site
    for path in ("/data-docs/", "/data-docs/surgehub.html", "/data-docs/index.html"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].endswith("/sign-in")


@pytest.mark.parametrize("who", [BOARD, LEAD])
def test_a_board_member_or_a_submitter_finds_no_such_page(
    site: tuple[TestClient, Engine, Path, Path], who: str
) -> None:
    client, _engine, outbox, home = site
    site_dir(home).mkdir(parents=True)
    (site_dir(home) / "surgehub.html").write_text("<p>docs</p>")
    sign_in(client, outbox, who)
    answer = client.get("/data-docs/surgehub.html")
    assert answer.status_code == 404
    assert "<p>docs</p>" not in answer.text


def test_the_data_team_opens_the_real_data_docs_and_no_script_may_run(
    site: tuple[TestClient, Engine, Path, Path],
) -> None:
    from surgehub.gx.docs import build

    client, engine, outbox, home = site
    sign_in(client, outbox, ADMIN)
    entry = client.get("/data-docs/", follow_redirects=False)
    assert entry.status_code == 303
    assert entry.headers["location"].endswith("/data-docs/surgehub.html")
    before = client.get("/data-docs/surgehub.html")
    assert before.status_code == 404
    assert "surgehub gx-docs build" in before.text

    build(home, engine=engine)
    page = client.get("/data-docs/surgehub.html")
    assert page.status_code == 200, page.text[:500]
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert (site_dir(home) / "surgehub.html").read_text() == page.text
    assert client.get("/data-docs/index.html").status_code == 200  # GX's own index, served too


def test_only_regular_files_inside_the_site_are_served(
    site: tuple[TestClient, Engine, Path, Path], tmp_path: Path
) -> None:
    client, _engine, outbox, home = site
    docs = site_dir(home)
    (docs / "static").mkdir(parents=True)
    (docs / "surgehub.html").write_text("<p>docs</p>")
    secret = tmp_path / "outside.html"
    secret.write_text("<p>not for the web</p>")
    os.symlink(secret, docs / "linked.html")
    (docs / "notes.txt").write_text("unknown kind")
    (docs / "folder.html").mkdir()
    sign_in(client, outbox, ADMIN)
    assert client.get("/data-docs/surgehub.html").status_code == 200
    for path in (
        "/data-docs/linked.html",  # a link leading out of the site
        "/data-docs/../../config/surgehub.yaml",
        "/data-docs/%2e%2e/%2e%2e/warehouse.sqlite",
        "/data-docs/..%2f..%2fwarehouse.html",
        "/data-docs/static/%00.html",
        "/data-docs/notes.txt",  # a suffix the site never holds
        "/data-docs/folder.html",
        "/data-docs/missing.html",
        "/data-docs/" + "a/" * 300 + "x.html",
        "/data-docs/%5c..%5cx.html",
    ):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code in {404, 303}, (path, answer.status_code)
        assert "not for the web" not in answer.text
        assert answer.status_code != 303 or "/data-docs/" not in answer.headers["location"]
