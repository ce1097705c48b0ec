"""One SMTP session for a task's receipts (``surgehub.mail.send.Relay``), against a real loopback server.

In a burst the ingest task sends hundreds of receipts; opening the Airflow connection and a new SMTP
session for each was most of a receipt's sending time. The relay keeps one session, opens a new one
when the server has closed it, and never sends a message twice on its own.
"""

from __future__ import annotations

import smtplib
from email.utils import parseaddr
from typing import TYPE_CHECKING

import pytest

from surgehub.mail.send import Relay
from surgehub.mail.server import LoopbackSmtpServer, OutboxHandler

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from aiosmtpd.smtp import SMTP, Envelope, Session

pytestmark = pytest.mark.smtp

CONN = "smtp_default"  # AIRFLOW_CONN_SMTP_DEFAULT, set by the smtp_port fixture


class PeerRecorder(OutboxHandler):
    """The outbox handler, also noting the client's address and port (one per SMTP session)."""

    def __init__(self, outbox: Path) -> None:
        super().__init__(outbox)
        self.peers: list[object] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if answer.startswith("250"):
            self.peers.append(session.peer)
        return answer


def serve(outbox: Path, port: int) -> LoopbackSmtpServer:
    server = LoopbackSmtpServer(outbox, port=port)
    server.handler = PeerRecorder(outbox)
    return server.start()


@pytest.fixture
def recording(surgehub_home: Path, smtp_port: int) -> Iterator[LoopbackSmtpServer]:
    server = serve(surgehub_home / "outbox-smtp", smtp_port)
    try:
        yield server
    finally:
        server.stop()


def message(n: int) -> bytes:
    return f"Subject: receipt {n}\r\nMessage-ID: <{n}@surgehub.test>\r\n\r\nreceipt {n}\r\n".encode()


def peers(server: LoopbackSmtpServer) -> list[object]:
    assert isinstance(server.handler, PeerRecorder)
    return server.handler.peers


def test_several_messages_go_through_one_session(recording: LoopbackSmtpServer) -> None:
    with Relay(CONN, timeout=5) as relay:
        for n in range(4):
            relay.send(message(n), sender="surgehub@example.nhs.uk", recipient=f"r{n}@example.nhs.uk")
    assert relay.sessions == 1
    assert len(set(map(str, peers(recording)))) == 1
    received = recording.messages()
    assert [str(m["Subject"]) for m in received] == [f"receipt {n}" for n in range(4)]
    assert [parseaddr(str(m["X-Envelope-To"]))[1] for m in received] == [
        f"r{n}@example.nhs.uk" for n in range(4)
    ]


def test_a_session_the_server_closed_is_opened_again_before_the_next_message(
    surgehub_home: Path, smtp_port: int
) -> None:
    first = serve(surgehub_home / "outbox-smtp", smtp_port)
    relay = Relay(CONN, timeout=5)
    try:
        relay.send(message(1), sender="surgehub@example.nhs.uk", recipient="a@example.nhs.uk")
    finally:
        first.stop()  # the server goes away with the session open (a restart, an idle timeout)
    second = serve(surgehub_home / "outbox-smtp", smtp_port)
    try:
        relay.send(message(2), sender="surgehub@example.nhs.uk", recipient="b@example.nhs.uk")
        relay.close()
        assert relay.sessions == 2
        assert [str(m["Subject"]) for m in second.messages()] == ["receipt 1", "receipt 2"]
        assert len(peers(second)) == 1  # the second message, on a new session; the first not resent
    finally:
        second.stop()


def test_a_refused_message_is_raised_and_not_sent_again(recording: LoopbackSmtpServer) -> None:
    assert isinstance(recording.handler, PeerRecorder)
    with Relay(CONN, timeout=5) as relay:
        recording.handler.refuse = True
        with pytest.raises(smtplib.SMTPException):
            relay.send(message(1), sender="surgehub@example.nhs.uk", recipient="a@example.nhs.uk")
        recording.handler.refuse = False
        relay.send(message(2), sender="surgehub@example.nhs.uk", recipient="b@example.nhs.uk")
    assert [str(m["Subject"]) for m in recording.messages()] == ["receipt 2"]


def test_closing_a_relay_that_never_sent_opens_nothing(smtp_port: int) -> None:
    relay = Relay(CONN, timeout=1)  # nothing listens on smtp_port: opening would fail
    relay.close()
    assert relay.sessions == 0
