"""`surgehub digest --send` against a real SMTP server on loopback: MIME structure, send-once, outage and retry."""

from __future__ import annotations

import csv
import io
from email.utils import parseaddr
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from surgehub.cli import cli
from surgehub.mail.compose import CONTENT_ID_DOMAIN
from surgehub.mail.server import LoopbackSmtpServer
from surgehub.warehouse.db import get_engine
from surgehub.warehouse.tables import email_log
from tests.support.digest_timeline import timeline_settings
from tests.support.timeline import PREVIOUS_BOARD_AT

if TYPE_CHECKING:
    from collections.abc import Iterator
    from email.message import EmailMessage
    from pathlib import Path

pytestmark = pytest.mark.smtp

BOARD = "pcsb-board@gm-surgehub.example.nhs.uk"
OPERATIONS = "gm-primary-care-ops@gm-surgehub.example.nhs.uk"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory):
    # A warehouse of its own: these tests write the email log.
    return timeline_settings(tmp_path_factory.getbasetemp() / "digest-smtp-timeline")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackSmtpServer]:
    with LoopbackSmtpServer(tmp_path_factory.mktemp("outbox")) as running:
        yield running


@pytest.fixture
def env(settings, server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SURGEHUB_HOME", str(settings.home))
    monkeypatch.delenv("SURGEHUB_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("SURGEHUB_CONFIG", raising=False)
    sender = parseaddr(settings.email.sender)[1]
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", server.connection_json(sender))
    server.handler.refuse = False


def send(out: Path, *extra: str):
    args = ["digest", "--send", "--retries", "0", "--out", str(out), *extra]
    return CliRunner().invoke(cli, args)


def received(server: LoopbackSmtpServer, period_key: str) -> list[EmailMessage]:
    return [m for m in server.messages() if m["X-Surgehub-Period"] == period_key]


def log_rows(settings, period_key: str) -> list:
    with get_engine(settings.warehouse_url).connect() as conn:
        return conn.execute(select(email_log).where(email_log.c.period_key == period_key)).all()


def test_board_digest_arrives_as_text_html_inline_charts_and_csv(
    env, server, settings, tmp_path: Path
) -> None:
    result = send(tmp_path / "first", "--as-of", "2026-11-26T07:30")
    assert result.exit_code == 0, result.output + result.stderr
    assert "sent to 1 recipient(s)" in result.output
    [message] = received(server, "board:2026-11-26T07:30")
    assert message["X-Envelope-To"] == BOARD
    [row] = log_rows(settings, "board:2026-11-26T07:30")
    assert message["Message-ID"].strip() == row.message_id  # made for this send, kept in the email log
    assert message["Message-ID"].strip().endswith("@gm-surgehub.example.nhs.uk>")  # the From address's domain
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert "gm-primary-care-ops@gm-surgehub.example.nhs.uk" in message["Reply-To"]
    assert message["Subject"] == "GM surge hubs: board digest Thu 26 Nov 2026 07:30"
    assert message.get_content_type() == "multipart/mixed"

    alternative, attachment = message.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, related = alternative.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert "1. PERIOD AND RETURNS" in plain.get_content()
    assert related.get_content_type() == "multipart/related"
    html, *images = related.get_payload()
    assert html.get_content_type() == "text/html"
    body = html.get_content()
    assert len(body.encode("utf-8")) < 100_000
    assert {image.get_content_type() for image in images} == {"image/png"}
    cids = {image["Content-ID"].strip("<>") for image in images}
    # RFC 2392: a Content-ID (and the cid: URL naming it) is an addr-spec, local@domain.
    charts = ("utilisation-trend", "plan-delivery", "source-mix")  # issue 19: the plan chart
    assert cids == {f"{name}@{CONTENT_ID_DOMAIN}" for name in charts}
    for image in images:
        assert f'src="cid:{image["Content-ID"].strip("<>")}"' in body
        assert image.get_content().startswith(b"\x89PNG")
        assert image["Content-Description"]

    assert attachment.get_filename() == "surgehub-board-2026-11-26-0730.csv"
    content = attachment.get_content()
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content.lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert {r["sub_icb_code"] for r in rows} >= {"00T", "02H", "GM"}
    assert [r.status for r in log_rows(settings, "board:2026-11-26T07:30")] == ["sent"]


def test_a_rerun_never_sends_what_the_log_holds(env, server, settings, tmp_path: Path) -> None:
    send(tmp_path / "once", "--as-of", "2026-11-26T07:30")
    before = len(server.messages())
    again = send(tmp_path / "again", "--as-of", "2026-11-26T09:15")  # a late re-run of the same slot
    assert again.exit_code == 0, again.output + again.stderr
    assert "1 already had it" in again.output
    assert len(server.messages()) == before
    assert len(received(server, "board:2026-11-26T07:30")) == 1
    assert (tmp_path / "again" / "message.eml").exists()  # still written for looking at


def test_an_smtp_outage_is_recorded_as_failed_and_the_digest_goes_on_the_next_run(
    env, server, settings, tmp_path: Path
) -> None:
    period = "daily:2026-11-25T13:45"
    server.handler.refuse = True
    failed = send(tmp_path / "outage", "--kind", "daily", "--as-of", "2026-11-25T13:45")
    assert failed.exit_code == 1
    assert "Recorded as failed in the email log" in failed.stderr
    assert received(server, period) == []
    [row] = log_rows(settings, period)
    assert (row.status, row.attempts, row.recipient) == ("failed", 1, OPERATIONS)
    assert "421" in row.last_error
    first_id = row.message_id

    server.handler.refuse = False
    retried = send(tmp_path / "retry", "--kind", "daily", "--as-of", "2026-11-25T13:50")
    assert retried.exit_code == 0, retried.output + retried.stderr
    [message] = received(server, period)
    [row] = log_rows(settings, period)
    assert message["Message-ID"].strip() == row.message_id == first_id  # the retry is the same message
    assert (row.status, row.attempts) == ("sent", 2)


def test_retries_within_one_run_deliver_once_the_server_is_back(
    env, server, settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from surgehub.cli import digest as digest_cli

    period = "daily:2026-11-24T13:45"
    server.handler.refuse = True

    def back_after_wait(seconds: float) -> None:
        server.handler.refuse = False  # the outage ends while we wait

    monkeypatch.setattr(digest_cli.time, "sleep", back_after_wait)
    args = ["digest", "--send", "--kind", "daily", "--as-of", "2026-11-24T13:45", "--out", str(tmp_path)]
    result = CliRunner().invoke(cli, [*args, "--retries", "2", "--retry-wait", "1"])
    assert result.exit_code == 0, result.output + result.stderr
    assert "retrying in 1s" in result.stderr
    assert len(received(server, period)) == 1
    [row] = log_rows(settings, period)
    assert (row.status, row.attempts) == ("sent", 2)


def test_the_airflow_task_body_sends_each_digest_once(env, server, settings) -> None:
    from surgehub.orchestration.tasks import send_digest
    from surgehub.resources import Resources

    first = send_digest("board", PREVIOUS_BOARD_AT, Resources.of(settings))
    assert first == {"period": "board:2026-11-23T07:30", "sent": 1, "already_sent": 0}
    second = send_digest("board", PREVIOUS_BOARD_AT, Resources.of(settings))
    assert second == {"period": "board:2026-11-23T07:30", "sent": 0, "already_sent": 1}
    assert len(received(server, "board:2026-11-23T07:30")) == 1
