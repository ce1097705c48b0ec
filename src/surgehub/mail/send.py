"""Sends each message once through the Airflow SMTP connection and records it in the warehouse email log.

The log is keyed on (kind, period_key, recipient): a retry or re-run finds the message already
logged as sent and does not send it again. A failed attempt is logged as failed and re-raised, so the
task retries with backoff and the failure is never silent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.utils import parseaddr
from typing import TYPE_CHECKING, Literal

from surgehub.mail.compose import Mail, build_message
from surgehub.warehouse import email_log

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy.engine import Engine

    from surgehub.clock import Clock

log = logging.getLogger(__name__)

SendResult = Literal["sent", "already_sent"]


@dataclass(frozen=True)
class Delivery:
    mail: Mail
    result: SendResult


class MailDeliveryError(RuntimeError):
    """The SMTP server did not take the message; it is logged as failed and will be retried."""


def _record(
    engine: Engine, mail: Mail, status: str, error: str | None, now: datetime, mime: bytes | None = None
) -> None:
    email_log.record_attempt(
        engine,
        kind=mail.kind,
        period_key=mail.period_key,
        recipient=mail.recipient,
        message_id=mail.message_id,
        subject=mail.subject,
        status=status,
        error=error,
        now=now,
        mime=mime,
    )


def send_once(engine: Engine, mail: Mail, *, smtp_conn_id: str, clock: Clock) -> SendResult:
    """Send ``mail`` unless the log already holds it as sent; log the outcome either way."""
    if email_log.status_of(engine, mail.kind, mail.period_key, mail.recipient) == "sent":
        log.info("not sending %s %s to %s again: already sent", mail.kind, mail.period_key, mail.recipient)
        return "already_sent"
    message = build_message(mail, date=clock.now())
    try:
        _deliver(message, mail, smtp_conn_id)
    except Exception as exc:  # any SMTP or connection failure: log it, then let the caller retry
        _record(engine, mail, "failed", f"{type(exc).__name__}: {exc}", clock.now())
        raise MailDeliveryError(f"could not send {mail.kind} to {mail.recipient}: {exc}") from exc
    _record(engine, mail, "sent", None, clock.now(), mime=message.as_bytes())  # the archive keeps it as sent
    return "sent"


def send_all(engine: Engine, mails: Sequence[Mail], *, smtp_conn_id: str, clock: Clock) -> list[Delivery]:
    """Send every message once; try them all before raising, so one bad address never holds up the rest."""
    deliveries: list[Delivery] = []
    failures: list[str] = []
    for mail in mails:
        try:
            deliveries.append(Delivery(mail, send_once(engine, mail, smtp_conn_id=smtp_conn_id, clock=clock)))
        except MailDeliveryError as exc:
            failures.append(str(exc))
    if failures:
        raise MailDeliveryError("; ".join(failures))
    return deliveries


def _deliver(message: object, mail: Mail, smtp_conn_id: str) -> None:
    # Imported here: the Airflow provider is heavy and only needed when mail actually goes out.
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    with SmtpHook(smtp_conn_id=smtp_conn_id) as hook:
        client = hook._smtp_client  # the hook's authenticated client: we send our own MIME message
        if client is None:
            raise MailDeliveryError("the SMTP connection could not be opened")
        client.send_message(message, from_addr=_address(mail.sender), to_addrs=[mail.recipient])  # type: ignore[arg-type]


def _address(sender: str) -> str:
    return parseaddr(sender)[1] or sender
