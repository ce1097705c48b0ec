"""The email log's three states on SQLite and PostgreSQL, against a real SMTP server on loopback: a
refused send is logged failed with its Message-ID and bytes; the retry sends those same bytes and marks
them sent; a third try sends nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from surgehub import clock
from surgehub.config import load_settings
from surgehub.mail.refusals import notice_mails
from surgehub.mail.send import MailDeliveryError, send_once
from surgehub.warehouse import email_log

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from surgehub.mail.server import LoopbackSmtpServer

pytestmark = pytest.mark.smtp


def test_failed_then_sent_with_the_same_bytes_then_never_again(
    warehouse: Engine, smtp_server: LoopbackSmtpServer
) -> None:
    settings = load_settings()
    [mail] = notice_mails([{"locality": "00T", "name": "x", "reason": "link", "key": "states"}], settings)
    kind, period, recipient = mail.key

    def send() -> str:
        return send_once(warehouse, mail, smtp_conn_id=settings.email.smtp_conn_id, clock=clock.SystemClock())

    smtp_server.handler.refuse = True
    with pytest.raises(MailDeliveryError, match="421"):
        send()
    failed = email_log.logged(warehouse, kind, period, recipient)
    assert failed is not None
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.mime is not None
    assert email_log.archived_messages(warehouse, period) == []  # the archive lists sent messages only

    smtp_server.handler.refuse = False
    assert send() == "sent"
    sent = email_log.logged(warehouse, kind, period, recipient)
    assert sent is not None
    assert (sent.status, sent.attempts, sent.message_id, sent.mime) == (
        "sent",
        2,
        failed.message_id,
        failed.mime,
    )
    [delivered] = smtp_server.messages()
    assert str(delivered["Message-ID"]).strip() == failed.message_id

    assert send() == "already_sent"
    assert len(smtp_server.messages()) == 1
    [archived] = email_log.archived_messages(warehouse, period)
    assert archived.mime == failed.mime
