"""Signing in in Debian's Chromium against a real `surgehub serve`, with the code read from the real
loopback SMTP server: a submitter signs in, sends a return without a token, and signs out. Every new
page has no WCAG 2.2 AA violation (axe-core) on a phone (390 px) and a desktop (1280 px).

Screenshots are kept in test-artifacts/signin/ (git-ignored).
"""

from __future__ import annotations

import os
import re
import time
from typing import TYPE_CHECKING, Any

import pytest
import requests
import yaml

from surgehub.accounts import Role, add_account
from surgehub.clock import FixedClock
from surgehub.config import PROJECT_ROOT, load_settings
from surgehub.mail.server import LoopbackSmtpServer, smtp_connection_json
from surgehub.orchestration.live import free_port
from surgehub.orchestration.tasks import send_digest
from surgehub.resources import Resources
from surgehub.warehouse.db import ensure_warehouse, get_engine
from tests.support.browser import axe_violations
from tests.support.returns import valid_return
from tests.support.signin import latest_code, serving
from tests.support.timeline import BOARD_AT, TIMELINE_NOW

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = [pytest.mark.browser, pytest.mark.smtp]

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "signin"
LEAD = "lead@nhs.net"
ADMIN = "dt@nhs.net"
BOARD = "member@nhs.net"
WIDTHS = (390, 1280)


class Site:
    def __init__(self, url: str, outbox: Path) -> None:
        self.url, self.outbox = url, outbox


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`surgehub serve` on loopback (plain http: the documented cookie exception), mail to a loopback server."""
    home = (tmp_path_factory.mktemp("signin") / "var").resolve()
    home.mkdir()
    port = free_port()
    config = home / "surgehub.yaml"
    base = yaml.safe_load((PROJECT_ROOT / "config" / "surgehub.yaml").read_text())
    base["email"]["public_base_url"] = f"http://127.0.0.1:{port}"
    config.write_text(yaml.safe_dump(base))
    smtp = LoopbackSmtpServer(home / "outbox").start()
    env = {
        **os.environ,
        "SURGEHUB_HOME": str(home),
        "SURGEHUB_CONFIG": str(config),
        "SURGEHUB_NOW": TIMELINE_NOW.isoformat(),
        "AIRFLOW_CONN_SMTP_DEFAULT": smtp_connection_json("127.0.0.1", smtp.port, "surgehub@localhost"),
    }
    for name in (
        "SURGEHUB_WAREHOUSE_URL",
        "SURGEHUB_LANDING_DIR",
        "SURGEHUB_ARCHIVE_DIR",
        "SURGEHUB_REDIS_URL",
    ):
        env.pop(name, None)
    engine = ensure_warehouse(get_engine(load_settings(env).warehouse_url))
    add_account(
        engine, LEAD, roles={Role.SUBMITTER}, locality="14L", display_name=None, actor="test", at=TIMELINE_NOW
    )
    add_account(
        engine, ADMIN, roles={Role.DATA_TEAM}, locality=None, display_name=None, actor="test", at=TIMELINE_NOW
    )
    add_account(
        engine, BOARD, roles={Role.BOARD}, locality=None, display_name=None, actor="test", at=TIMELINE_NOW
    )
    with pytest.MonkeyPatch.context() as patch:  # a board digest sent, for real, before the meeting
        patch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", env["AIRFLOW_CONN_SMTP_DEFAULT"])
        send_digest("board", BOARD_AT, Resources.of(load_settings(env), clock=FixedClock(BOARD_AT)))
    try:
        with serving(home, port, env) as url:
            yield Site(url, smtp.outbox)
    finally:
        smtp.stop()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def accessible_at_each_width(page: Any, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert axe_violations(page, best_practice=True) == [], (name, width)
        wide = page.evaluate(
            "w => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w"
            " && !e.closest('.table-wrap table')).map(e => e.tagName + '.' + e.className + ' ' + e.id)",
            width,
        )
        assert wide == [], (name, width)  # nothing wider than the screen but a table in its scrolling region
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
        shot(page, f"{name}-{width}")


def wait_for_code(outbox: Path, email: str, seen: int = 0) -> str:
    """The newest code mailed to ``email`` once there are more than ``seen`` (sent after the answer)."""
    from tests.support.signin import code_mails

    deadline = time.monotonic() + 60
    while len(code_mails(outbox, email)) <= seen:
        assert time.monotonic() < deadline, "no sign-in code arrived"
        time.sleep(0.2)
    return latest_code(outbox, email)


def test_a_submitter_signs_in_by_code_sends_a_return_and_signs_out(
    site: Site, browser: Any, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(site.url + "/")
    page.get_by_role("link", name="Sign in").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    accessible_at_each_width(page, "01-sign-in")

    page.get_by_role("button", name="Email me a code").click()  # nothing entered
    assert "Enter an email address in the correct format" in page.get_by_role("alert").inner_text()
    accessible_at_each_width(page, "02-sign-in-error")

    page.get_by_label("Email address").fill(LEAD)
    page.get_by_role("button", name="Email me a code").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Check your email"
    accessible_at_each_width(page, "03-code")
    code = wait_for_code(site.outbox, LEAD)

    page.get_by_label("Sign-in code").fill("000000" if code != "000000" else "111111")
    page.get_by_role("button", name="Sign in").click()
    assert "The code is not right" in page.get_by_role("alert").inner_text()
    accessible_at_each_width(page, "04-code-error")

    page.get_by_label("Sign-in code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    assert f"Signed in as {LEAD}" in page.locator("header").inner_text()
    assert page.locator("#token").count() == 0  # no token to paste
    cookie = next(c for c in context.cookies() if c["name"] == "surgehub_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"
    accessible_at_each_width(page, "05-signed-in")

    path = tmp_path / "manchester-24-nov.csv"
    path.write_bytes(valid_return("14L"))
    page.get_by_label("Return file").set_input_files(str(path))
    page.get_by_role("button", name="Send return").click()
    assert "Return accepted" in page.get_by_role("status").inner_text()
    assert "manchester-24-nov.csv" in page.locator("main").inner_text()
    accessible_at_each_width(page, "06-sent")

    page.get_by_role("button", name="Sign out").click()
    assert "You have signed out" in page.get_by_role("status").inner_text()
    assert "Signed in as" not in page.content()
    page.goto(site.url + "/")
    assert "Signed in as" not in page.content()
    assert page.locator("#token").count() == 1
    context.close()


def sign_in_as(page: Any, site: Site, email: str) -> None:
    from tests.support.signin import code_mails

    seen = len(code_mails(site.outbox, email))
    page.goto(site.url + "/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a code").click()
    page.get_by_label("Sign-in code").fill(wait_for_code(site.outbox, email, seen))
    page.get_by_role("button", name="Sign in").click()
    assert f"Signed in as {email}" in page.locator("header").inner_text()


def test_a_submitter_makes_a_token_and_the_data_team_revokes_it_and_sees_it_in_the_audit(
    site: Site, browser: Any
) -> None:
    lead = browser.new_context(viewport={"width": 1280, "height": 900})
    page = lead.new_page()
    sign_in_as(page, site, LEAD)
    page.get_by_role("link", name="Tokens for scripts").click()
    accessible_at_each_width(page, "07-tokens")
    page.get_by_label("What it is for (optional)").fill("nightly export")
    page.get_by_label("30 days").check()
    page.get_by_role("button", name="Make a token").click()
    token = page.get_by_label(re.compile("^Token ")).input_value()
    assert token.startswith("sh_")
    accessible_at_each_width(page, "08-token-made")
    prefix = token.split("_")[1]
    lead.close()

    admin = browser.new_context(viewport={"width": 1280, "height": 900})
    page = admin.new_page()
    sign_in_as(page, site, ADMIN)
    page.get_by_role("link", name="Accounts, tokens and audit").click()
    accessible_at_each_width(page, "09-admin")
    page.get_by_role("button", name=f"Revoke token {prefix}").click()
    assert f"Token {prefix} revoked" in page.get_by_role("status").inner_text()
    audit = page.get_by_role("region", name=re.compile("^Audit"))
    assert re.search(rf"{ADMIN}\s+token.revoke\s+token:{prefix}", audit.inner_text())
    assert re.search(rf"{LEAD}\s+token.create\s+token:{prefix}", audit.inner_text())
    accessible_at_each_width(page, "10-revoked")
    page.get_by_role("link", name="RAG status").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("RAG status for ")
    accessible_at_each_width(page, "11-board")
    admin.close()
    answer = requests.get(
        f"{site.url}/api/v1/returns", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert answer.status_code == 401


def test_a_board_member_follows_a_locality_to_why_it_has_its_status(site: Site, browser: Any) -> None:
    member = browser.new_context(viewport={"width": 1280, "height": 900})
    page = member.new_page()
    sign_in_as(page, site, BOARD)
    page.get_by_role("link", name="RAG status").click()
    page.get_by_role("link", name=re.compile(r"^Manchester \(14L\)")).click()
    assert page.url.endswith("/explain/14L/2026-11-24")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Why Manchester was ")
    assert "§5" in page.locator("dl.summary").first.inner_text()
    assert page.get_by_role("heading", name="Manchester North Surge Hub (14L-H1)").count() == 1
    accessible_at_each_width(page, "12-explain")
    page.get_by_label("Time (UK time)").fill("not a time")
    page.get_by_role("button", name="Show").click()
    assert "Enter a time like 2026-11-26T07:30" in page.get_by_role("alert").inner_text()
    accessible_at_each_width(page, "13-explain-error")
    page.get_by_label("Time (UK time)").fill("2026-11-24T12:00")
    page.get_by_role("button", name="Show").click()
    assert "as of Tue 24 Nov 2026 12:00" in page.locator("main").inner_text()
    member.close()


def test_the_data_team_adds_a_hub_and_sees_it_in_the_register_and_the_audit(site: Site, browser: Any) -> None:
    admin = browser.new_context(viewport={"width": 1280, "height": 900})
    page = admin.new_page()
    sign_in_as(page, site, ADMIN)
    page.get_by_role("link", name="Accounts, tokens and audit").click()
    page.get_by_role("link", name="Hub register: add, rename or close a hub").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Hub register"
    accessible_at_each_width(page, "14-hubs")
    form = page.locator("form", has=page.get_by_role("button", name="Add the hub"))
    form.get_by_label("Hub code").fill("not a code")
    form.get_by_role("button", name="Add the hub").click()
    alert = page.get_by_role("alert").inner_text()
    assert "Enter the hub's name" in alert
    assert "Enter the first active day as a date" in alert
    accessible_at_each_width(page, "15-hubs-error")
    form = page.locator("form", has=page.get_by_role("button", name="Add the hub"))
    form.get_by_label("Locality").select_option("01W")
    form.get_by_label("Hub code").fill("01W-H2")
    form.get_by_label("Name").fill("Stockport East Surge Hub")
    form.get_by_label("First active day").fill("2026-11-23")
    form.get_by_label("Last active day").fill("2027-03-31")
    form.get_by_label("Why (optional)").fill("opened late")
    form.get_by_role("button", name="Add the hub").click()
    assert "Saved. 01W-H2: Stockport East Surge Hub" in page.get_by_role("status").inner_text()
    register = page.get_by_role("region", name=re.compile("^Hubs"))
    assert re.search(
        r"01W\s+01W-H2\s+Stockport East Surge Hub\s+2026-11-23\s+2027-03-31", register.inner_text()
    )
    changes = page.get_by_role("region", name="Latest register changes")
    assert re.search(rf"{ADMIN}\s+hub.add\s+hub:01W-H2", changes.inner_text())
    accessible_at_each_width(page, "16-hub-added")
    page.get_by_role("link", name="Back to accounts, tokens and audit").click()
    audit = page.get_by_role("region", name=re.compile("^Audit"))
    assert re.search(rf"{ADMIN}\s+hub.add\s+hub:01W-H2", audit.inner_text())
    admin.close()


def test_a_board_member_opens_a_past_digest_and_the_data_team_sends_it_to_a_new_member(
    site: Site, browser: Any
) -> None:
    member = browser.new_context(viewport={"width": 1280, "height": 900})
    page = member.new_page()
    sign_in_as(page, site, BOARD)
    page.get_by_role("link", name="Digests as sent").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Digests as sent"
    accessible_at_each_width(page, "17-digests")
    page.get_by_label("Search").fill("2026-12-25")
    page.get_by_role("button", name="Search").click()
    assert "No digest matches" in page.locator("main").inner_text()
    page.get_by_label("Search").fill("26 Nov")
    page.get_by_label("Kind").select_option("board")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=re.compile("board digest")).click()
    assert page.url.endswith("/digests/board:2026-11-26T07:30")
    assert page.get_by_role("button", name="Send a copy").count() == 0  # the board reads only
    accessible_at_each_width(page, "18-digest")
    page.get_by_role("link", name="Open the email as it was mailed").click()
    assert "Thu 26 Nov 2026" in page.locator("body").inner_text()
    assert page.evaluate("document.images.length") >= 1  # the charts, inlined as data: URIs
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    member.close()

    admin = browser.new_context(viewport={"width": 1280, "height": 900})
    page = admin.new_page()
    sign_in_as(page, site, ADMIN)
    page.goto(site.url + "/digests/board:2026-11-26T07:30")
    page.get_by_role("button", name="Send a copy").click()  # nothing entered
    assert "Enter an email address in the correct format" in page.get_by_role("alert").inner_text()
    accessible_at_each_width(page, "19-resend-error")
    page.get_by_label("Email address").fill("new.member@nhs.net")
    page.get_by_role("button", name="Send a copy").click()
    assert "A copy was sent" in page.get_by_role("status").inner_text()
    accessible_at_each_width(page, "20-resent")
    page.get_by_role("link", name="Accounts, tokens and audit").click()
    audit = page.get_by_role("region", name=re.compile("^Audit"))
    assert re.search(rf"{ADMIN}\s+digest.resend\s+digest:board:2026-11-26T07:30", audit.inner_text())
    admin.close()


def test_the_data_team_sees_every_localitys_returns(site: Site, browser: Any) -> None:
    admin = browser.new_context(viewport={"width": 1280, "height": 900})
    page = admin.new_page()
    sign_in_as(page, site, ADMIN)
    page.get_by_role("link", name="Every locality").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Every locality's returns"
    assert page.get_by_role("region", name="Localities").locator("tbody tr").count() == 10
    accessible_at_each_width(page, "21-localities")
    page.get_by_role("link", name="Manchester (14L)").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Manchester (14L)"
    assert page.get_by_role("heading", name="Hub-days Manchester still owes").count() == 1
    accessible_at_each_width(page, "22-locality")
    admin.close()
