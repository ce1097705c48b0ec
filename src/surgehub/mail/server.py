"""A real SMTP server on loopback (aiosmtpd) that keeps every message it accepts as an .eml file.

Used by `make demo`, `make up` and the tests in place of the production relay: the system talks real
SMTP to it, and what a recipient would have received can be read back from the outbox folder.
"""

from __future__ import annotations

import hashlib
import re
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import TYPE_CHECKING

from aiosmtpd.controller import Controller

if TYPE_CHECKING:
    from pathlib import Path

    from aiosmtpd.smtp import SMTP, Envelope, Session

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class OutboxHandler:
    """Writes each accepted message to ``outbox/<seq>-<message-id-hash>.eml``, envelope recipients added."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox
        self.outbox.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.refuse = False  # tests flip this to simulate an outage that answers 421

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            return "421 Service not available, try again later"
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8")
        message = message_from_bytes(content, policy=policy.default)
        message_id = str(message.get("Message-ID", ""))
        digest = hashlib.sha256(message_id.encode() + content).hexdigest()[:12]
        with self._lock:
            seq = len(list(self.outbox.glob("*.eml"))) + 1
            name = f"{seq:05d}-{_SAFE.sub('_', str(message.get('X-Surgehub-Kind', 'mail')))}-{digest}.eml"
            envelope_header = f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n".encode()
            (self.outbox / name).write_bytes(envelope_header + content)
        return "250 Message accepted for delivery"


class LoopbackSmtpServer:
    """An SMTP server on 127.0.0.1 that stores messages in an outbox folder; start/stop or use as context."""

    def __init__(self, outbox: Path, port: int = 0, host: str = "127.0.0.1") -> None:
        self.handler = OutboxHandler(outbox)
        self.host = host
        self._requested_port = port
        self._controller: Controller | None = None

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("server not started")
        return self._controller.server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    @property
    def outbox(self) -> Path:
        return self.handler.outbox

    def start(self) -> LoopbackSmtpServer:
        port = self._requested_port or _free_port(self.host)
        self._controller = Controller(self.handler, hostname=self.host, port=port, ready_timeout=10)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> LoopbackSmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def messages(self) -> list[EmailMessage]:
        """Every message received so far, oldest first."""
        return [read_eml(path) for path in sorted(self.outbox.glob("*.eml"))]

    def connection_json(self, from_email: str) -> str:
        """The Airflow SMTP connection (JSON form) that points at this server."""
        return smtp_connection_json(self.host, self.port, from_email)


def smtp_connection_json(host: str, port: int, from_email: str) -> str:
    """Airflow connection JSON for a plain-SMTP server (no SSL, no STARTTLS: the URI form can't say false)."""
    import json

    return json.dumps(
        {
            "conn_type": "smtp",
            "host": host,
            "port": port,
            "extra": {"from_email": from_email, "disable_ssl": True, "disable_tls": True, "timeout": 10},
        }
    )


def read_eml(path: Path) -> EmailMessage:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
