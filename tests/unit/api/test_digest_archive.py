"""The digest archive (issue 17): board members open past digests as they were sent; the data team
re-sends one to a chosen address, audited, and the scheduled send stays exactly once (real SMTP)."""

from __future__ import annotations

import email
import email.policy
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from surgehub.accounts import Role, add_account
from surgehub.clock import FixedClock
from surgehub.digest.verify import csv_of
from surgehub.orchestration.tasks import send_digest
from surgehub.resources import Resources
from surgehub.warehouse.audit import events
from surgehub.warehouse.email_log import archived_messages
from surgehub.warehouse.tables import email_log
from tests.support.api import app_for, settings_for
from tests.support.signin import csrf_of, sign_in
from tests.support.timeline import BOARD_AT, TIMELINE_NOW

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy import Engine

    from surgehub.config import Settings
    from surgehub.mail.server import LoopbackSmtpServer

pytestmark = pytest.mark.smtp

LEAD, ADMIN, BOARD, NEW = "lead@nhs.net", "dt@nhs.net", "member@nhs.net", "new.member@nhs.net"
KEY = "board:2026-11-26T07:30"


class Site:
    def __init__(self, client: TestClient, engine: Engine, settings: Settings, outbox: Path) -> None:
        self.client, self.engine, self.settings, self.outbox = client, engine, settings, outbox

    def received(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for p in sorted(self.outbox.glob("*.eml"))
        ]


@pytest.fixture
def site(surgehub_home: Path, smtp_server: LoopbackSmtpServer) -> Iterator[Site]:
    settings, engine = settings_for(surgehub_home)
    add = {"display_name": None, "actor": "test", "at": TIMELINE_NOW}
    add_account(engine, LEAD, roles={Role.SUBMITTER}, locality="14L", **add)
    add_account(engine, ADMIN, roles={Role.DATA_TEAM}, locality=None, **add)
    add_account(engine, BOARD, roles={Role.BOARD}, locality=None, **add)
    sent = send_digest(
        "board", BOARD_AT, Resources.of(settings, clock=FixedClock(BOARD_AT))
    )  # the scheduled send, for real
    assert sent["sent"] >= 2  # the configured list and the board account
    with TestClient(app_for(settings), base_url="https://testserver") as client:
        yield Site(client, engine, settings, smtp_server.outbox)


def test_a_board_member_finds_a_past_digest_and_opens_it_as_it_was_sent(site: Site) -> None:
    client = site.client
    assert client.get("/digests", follow_redirects=False).headers["location"].endswith("/sign-in")
    sign_in(client, site.outbox, BOARD)
    listing = client.get("/digests")
    assert listing.status_code == 200
    assert f'href="/digests/{KEY}"' in listing.text
    assert f'href="/digests/{KEY}"' in client.get("/digests", params={"q": "2026-11-26"}).text
    assert f'href="/digests/{KEY}"' not in client.get("/digests", params={"q": "2026-12-25"}).text
    assert f'href="/digests/{KEY}"' not in client.get("/digests", params={"kind": "daily"}).text

    [first, *_] = archived_messages(site.engine, KEY)
    one = client.get(f"/digests/{KEY}")
    assert one.status_code == 200
    assert first.sha256 in one.text
    assert "Thu 26 Nov 2026, 07:30" in one.text  # when it went, UK time
    assert "Send a copy" not in one.text  # the board reads; only the data team re-sends
    assert BOARD not in one.text.replace(f"Signed in as {BOARD}", "")  # recipients: data team only

    html = client.get(f"/digests/{KEY}/email.html")
    assert html.status_code == 200
    assert "sandbox" in html.headers["content-security-policy"]
    assert "script-src" not in html.headers["content-security-policy"]  # default-src 'none' covers it
    assert 'src="cid:' not in html.text
    assert 'src="data:image/png;base64,' in html.text
    assert "/explain/14L/" in html.text  # its rows still lead to why each status

    csv = client.get(f"/digests/{KEY}/csv")
    assert csv.content == csv_of(first.mime)
    assert "attachment" in csv.headers["content-disposition"]
    assert ":" not in csv.headers["content-disposition"].split("filename=")[1]
    assert client.get(f"/digests/{KEY}/eml").content == first.mime


@pytest.mark.parametrize(
    "key",
    ["board:2026-11-23T07:30", "daily:2026-11-26T07:30", "notakey", "board:" + "9" * 60, "..%2F..%2Fetc"],
)
def test_a_digest_that_was_not_sent_is_not_found(site: Site, key: str) -> None:
    sign_in(site.client, site.outbox, BOARD)
    assert site.client.get(f"/digests/{key}").status_code == 404
    assert site.client.get(f"/digests/{key}/email.html").status_code == 404


def test_a_submitter_gets_no_digest(site: Site) -> None:
    sign_in(site.client, site.outbox, LEAD)
    assert site.client.get("/digests").status_code == 404
    assert site.client.get(f"/digests/{KEY}/csv").status_code == 404


def test_the_data_team_resends_a_digest_as_sent_audited_and_the_schedule_stays_once(site: Site) -> None:
    client = site.client
    sign_in(client, site.outbox, ADMIN)
    page = client.get(f"/digests/{KEY}")
    assert "Send a copy" in page.text
    before = len(site.received())

    refused = client.post(f"/digests/{KEY}/resend", data={"to": NEW})  # no CSRF token
    assert refused.status_code == 403
    wrong = client.post(
        f"/digests/{KEY}/resend", data={"csrf_token": csrf_of(page.text), "to": "not an address"}
    )
    assert wrong.status_code == 400
    assert "Enter an email address in the correct format" in wrong.text
    assert len(site.received()) == before

    done = client.post(
        f"/digests/{KEY}/resend", data={"csrf_token": csrf_of(page.text), "to": f" {NEW.upper()} "}
    )
    assert done.status_code == 200  # followed the redirect to the digest's page
    assert "A copy was sent" in done.text
    [resent] = site.received()[before:]
    assert resent["X-Envelope-To"] == NEW  # the envelope went to the chosen address only
    assert resent["Resent-To"] == NEW
    assert resent["Resent-From"] == site.settings.email.sender
    [first, *_] = archived_messages(site.engine, KEY)
    original = email.message_from_bytes(first.mime, policy=email.policy.default)
    assert resent["Message-ID"] == original["Message-ID"]  # the message itself untouched
    assert csv_of(resent.as_bytes()) == csv_of(first.mime)

    [event] = [e for e in events(site.engine, action_prefix="digest.")]
    assert (event.actor, event.action, event.subject, event.detail["to"]) == (
        ADMIN,
        "digest.resend",
        f"digest:{KEY}",
        NEW,
    )
    assert event.detail["sha256_as_sent"] == first.sha256
    with site.engine.connect() as conn:
        kinds = conn.execute(
            select(email_log.c.kind, email_log.c.status).where(email_log.c.recipient == NEW)
        ).all()
    assert [tuple(k) for k in kinds] == [("resend", "sent")]

    again = send_digest(
        "board", BOARD_AT, Resources.of(site.settings, clock=FixedClock(BOARD_AT))
    )  # the schedule re-runs
    assert again["sent"] == 0
    assert len(site.received()) == before + 1


def test_the_board_cannot_resend(site: Site) -> None:
    sign_in(site.client, site.outbox, BOARD)
    page = site.client.get(f"/digests/{KEY}")
    answer = site.client.post(f"/digests/{KEY}/resend", data={"csrf_token": csrf_of(page.text), "to": NEW})
    assert answer.status_code == 404
    assert events(site.engine, action_prefix="digest.") == []


def test_a_resend_is_refused_to_a_disabled_account_and_sends_a_non_ascii_sender_encoded(site: Site) -> None:
    from surgehub.accounts import disable_account
    from surgehub.digest.resend import ResendError, resend_digest, with_resent_block

    disable_account(site.engine, BOARD, actor="test", at=TIMELINE_NOW)
    with pytest.raises(ResendError, match="disabled account"):
        resend_digest(site.engine, site.settings, FixedClock(BOARD_AT), KEY, BOARD, actor=ADMIN)
    [first, *_] = archived_messages(site.engine, KEY)
    resent = with_resent_block(
        first.mime, sender="GM Surge Hub – Monitor <hub@gm.nhs.uk>", to=NEW, at=BOARD_AT, message_id="<x@gm>"
    )
    block, rest = resent.split(b"\r\n", 4)[:4], resent.split(b"\r\n", 4)[4]
    assert rest == first.mime  # the message as sent, untouched, after the block
    assert all(line.isascii() for line in block)
    parsed = email.message_from_bytes(resent, policy=email.policy.default)
    assert str(parsed["Resent-From"]) == "GM Surge Hub – Monitor <hub@gm.nhs.uk>"  # RFC 2047, read back
