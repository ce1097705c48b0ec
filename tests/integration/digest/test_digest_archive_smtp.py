"""The message archive and verify-digest through a real send on loopback SMTP (issue 19): each digest is
archived whole as sent, verified after the send, and a tampered archive copy fails verification,
alerts the data team and makes `surgehub verify-digest` exit 1 with the diff."""

from __future__ import annotations

import email
import email.policy
from email.utils import parseaddr
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from surgehub.cli import cli
from surgehub.digest.verify import csv_of
from surgehub.mail.server import LoopbackSmtpServer
from surgehub.orchestration.tasks import DigestMismatch, send_digest, verify_sent_digest
from surgehub.resources import Resources
from surgehub.warehouse import email_log
from surgehub.warehouse.audit import events as audit_events
from surgehub.warehouse.db import get_engine
from surgehub.warehouse.tables import email_message
from tests.support.digest_timeline import timeline_settings
from tests.support.timeline import BOARD_AT

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.smtp

KEY = "board:2026-11-26T07:30"
OPERATIONS = "gm-primary-care-ops@gm-surgehub.example.nhs.uk"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory):
    return timeline_settings(tmp_path_factory.getbasetemp() / "digest-archive-timeline")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackSmtpServer]:
    with LoopbackSmtpServer(tmp_path_factory.mktemp("outbox")) as running:
        yield running


@pytest.fixture
def env(settings, server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SURGEHUB_HOME", str(settings.home))
    monkeypatch.delenv("SURGEHUB_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("SURGEHUB_CONFIG", raising=False)
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT", server.connection_json(parseaddr(settings.email.sender)[1])
    )


def test_a_sent_digest_is_archived_verified_and_a_tampered_copy_fails_and_alerts(
    env, server, settings
) -> None:
    resources = Resources.of(settings)
    assert send_digest("board", BOARD_AT, resources)["sent"] == 1
    [archived] = email_log.archived_messages(get_engine(settings.warehouse_url), KEY)
    [delivered] = [m for m in server.messages() if m["X-Surgehub-Period"] == KEY]
    assert archived.message_id == delivered["Message-ID"].strip()  # a long one is folded (RFC 5322 CFWS)
    assert csv_of(archived.mime) == csv_of(delivered.as_bytes())  # the archive holds what went
    assert verify_sent_digest("board", BOARD_AT, resources) == {
        "period": KEY,
        "verified": True,
        "messages": 1,
    }
    ok = CliRunner().invoke(cli, ["verify-digest", KEY])
    assert ok.exit_code == 0, ok.output
    assert "match the digest rebuilt" in ok.output

    parsed = email.message_from_bytes(archived.mime, policy=email.policy.default)
    for part in parsed.walk():
        if part.get_content_type() == "text/csv":  # one figure changed in the CSV as archived
            changed = part.get_payload(decode=True).replace(b",ON_TIME,", b",LATE,", 1)
            part.set_content(changed, maintype="text", subtype="csv", filename=part.get_filename())
    tampered = parsed.as_bytes()
    with get_engine(settings.warehouse_url).begin() as connection:
        connection.execute(
            update(email_message).where(email_message.c.email_id == archived.email_id).values(mime=tampered)
        )
    with pytest.raises(DigestMismatch, match=KEY):
        verify_sent_digest("board", BOARD_AT, resources)
    alerts = [m for m in server.messages() if m["X-Surgehub-Period"] == f"verify:{KEY}"]
    assert [parseaddr(m["To"])[1] for m in alerts] == [OPERATIONS]
    assert "does not match its rebuild" in alerts[0]["Subject"]
    bad = CliRunner().invoke(cli, ["verify-digest", KEY])
    assert bad.exit_code == 1
    assert "rebuilt as of the cut-off" in bad.output
    missing = CliRunner().invoke(cli, ["verify-digest", "board:2026-11-19T07:30"])
    assert missing.exit_code == 2
    assert "no sent message of board:2026-11-19T07:30" in missing.output


def test_resend_digest_sends_it_as_sent_to_one_address_and_refuses_what_is_not_there(
    env, server, settings
) -> None:
    send_digest("board", BOARD_AT, Resources.of(settings))  # sent once, whichever test runs first
    before = len(server.messages())
    done = CliRunner().invoke(cli, ["resend-digest", KEY, "--to", "New.Member@nhs.net", "--by", "jo@nhs.net"])
    assert done.exit_code == 0, done.output
    assert "sent to new.member@nhs.net" in done.output
    [resent] = server.messages()[before:]
    assert resent["Resent-To"] == "new.member@nhs.net"
    assert resent["X-Surgehub-Period"] == KEY  # the message as sent, under its resent block
    events = [e for e in audit_events(get_engine(settings.warehouse_url)) if e.action == "digest.resend"]
    assert [(e.actor, e.detail["to"]) for e in events][-1:] == [("jo@nhs.net", "new.member@nhs.net")]
    for args in (["board:2026-11-19T07:30", "--to", "a@nhs.net"], [KEY, "--to", "not an address"]):
        refused = CliRunner().invoke(cli, ["resend-digest", *args])
        assert refused.exit_code == 2, refused.output
    assert len(server.messages()) == before + 1
