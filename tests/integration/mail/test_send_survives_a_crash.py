"""Sends that survive a crash, and a relay that hangs, against a real SMTP server on loopback.

The sender is a real process (``tests.support.mail_sender``) sending through the real loopback relay
into a real SQLite warehouse. It is held by the ``mail.after_relay`` pause point after the relay has
accepted the message and before the email log marks it sent, and killed there with SIGKILL. Run
again, it sends the message once more with the same Message-ID (the only duplicate the design allows,
and a recognisable one); run a third time, it sends nothing.

A relay that accepts the connection and never answers fails the send within the configured timeout
(``email.smtp_timeout_seconds``), logged as failed, instead of holding the task and its pool slot.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING

import pytest

from surgehub import clock
from surgehub.config import PROJECT_ROOT, load_settings
from surgehub.mail.compose import Mail
from surgehub.mail.send import AFTER_RELAY_PAUSE, MailDeliveryError, send_once
from surgehub.mail.server import smtp_connection_json
from surgehub.warehouse import email_log
from surgehub.warehouse.db import get_engine, upgrade

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from surgehub.mail.server import LoopbackSmtpServer

pytestmark = pytest.mark.smtp

KEY = "crash-1"
PERIOD = f"not_taken:{KEY}"
STOCKPORT = "stockport-gp-board@gm-surgehub.example.nhs.uk"


def _sender(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.mail_sender", KEY],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, process: subprocess.Popen[str], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if process.poll() is not None:
            pytest.fail(
                f"the sender ended ({process.returncode}) before the pause point: {process.stderr.read()}"
            )  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the sender never reached the pause point")
        time.sleep(0.1)


def _ids(server: LoopbackSmtpServer) -> list[str]:
    return [str(m["Message-ID"]).strip() for m in server.messages() if m["X-Surgehub-Period"] == PERIOD]


def test_a_sender_killed_between_the_relays_acceptance_and_the_mark_resends_once_with_the_same_id(
    surgehub_home: Path, smtp_server: LoopbackSmtpServer, tmp_path: Path
) -> None:
    settings = load_settings()
    engine = upgrade(settings.warehouse_url)
    pause_dir = tmp_path / "pause"
    pause_dir.mkdir()
    (pause_dir / AFTER_RELAY_PAUSE).touch()  # armed
    env = {**os.environ, "SURGEHUB_PAUSE_DIR": str(pause_dir)}

    first = _sender(env)
    _wait_for(pause_dir / f"{AFTER_RELAY_PAUSE}.reached", first)
    # The relay has the message; the log says "sending", with the Message-ID it went out with.
    [sent_id] = _ids(smtp_server)
    logged = email_log.logged(engine, "not_taken", PERIOD, STOCKPORT)
    assert logged is not None
    assert (logged.status, logged.message_id, logged.attempts) == ("sending", sent_id, 1)
    assert logged.mime is not None
    assert sent_id.encode() in logged.mime
    first.send_signal(signal.SIGKILL)
    assert first.wait(timeout=30) == -signal.SIGKILL
    assert email_log.status_of(engine, "not_taken", PERIOD, STOCKPORT) == "sending"

    (pause_dir / AFTER_RELAY_PAUSE).unlink()  # disarmed: the retry runs through
    retry = _sender(env)
    out, err = retry.communicate(timeout=120)
    assert retry.returncode == 0, err
    assert out.split() == ["sent"]
    assert _ids(smtp_server) == [sent_id, sent_id], "exactly one resend, recognisably the same message"
    logged = email_log.logged(engine, "not_taken", PERIOD, STOCKPORT)
    assert logged is not None
    assert (logged.status, logged.message_id, logged.attempts) == ("sent", sent_id, 2)
    first_copy, second_copy = (m for m in smtp_server.messages() if m["X-Surgehub-Period"] == PERIOD)
    assert first_copy["Date"] == second_copy["Date"]  # the same bytes, not a new message
    assert first_copy.get_body(("plain",)).get_content() == second_copy.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    again = _sender(env)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert out.split() == ["already_sent"]
    assert _ids(smtp_server) == [sent_id, sent_id], "never again once marked"
    [archived] = email_log.archived_messages(engine, PERIOD)
    assert archived.message_id == sent_id


@pytest.fixture
def hanging_relay(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A socket on loopback that accepts connections and never says a word; its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(connection)  # kept open, never answered

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection_json("127.0.0.1", port, "surgehub@localhost")
    )
    try:
        yield port
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        listener.close()


def test_a_relay_that_never_answers_fails_the_send_within_the_timeout(
    surgehub_home: Path, hanging_relay: int
) -> None:
    settings = load_settings().overridden({"email": {"smtp_timeout_seconds": 1}})
    engine = upgrade(settings.warehouse_url)
    mail = Mail(
        kind="alert",
        period_key="alert:hang",
        recipient="ops@example.nhs.uk",
        sender=settings.email.sender,
        subject="s",
        text="t",
    )
    started = time.monotonic()
    with pytest.raises(MailDeliveryError, match="timed out"):
        send_once(
            engine,
            mail,
            smtp_conn_id=settings.email.smtp_conn_id,
            clock=clock.SystemClock(),
            timeout=settings.email.smtp_timeout_seconds,
        )
    elapsed = time.monotonic() - started
    # one connect and one greeting wait at most, not the connection's 10 s nor the hook's 5 reconnects
    assert elapsed < 4 * settings.email.smtp_timeout_seconds, elapsed
    logged = email_log.logged(get_engine(settings.warehouse_url), "alert", "alert:hang", "ops@example.nhs.uk")
    assert logged is not None
    assert logged.status == "failed"
    assert logged.message_id  # kept: the next try sends the same message
