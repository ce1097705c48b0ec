"""Sends each message once through the Airflow SMTP connection and records it in the warehouse email log.

The log is keyed on (kind, period_key, recipient): a retry or re-run finds the message already
logged as sent and does not send it again. A failed attempt is logged as failed and re-raised, so the
task retries with backoff and the failure is never silent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.engine import Engine

from surgehub import clock
from surgehub.mail.compose import Mail, build_message
from surgehub.warehouse.db import writer
from surgehub.warehouse.tables import email_log

log = logging.getLogger(__name__)

SendResult = Literal["sent", "already_sent"]


@dataclass(frozen=True)
class Delivery:
    mail: Mail
    result: SendResult


class MailDeliveryError(RuntimeError):
    """The SMTP server did not take the message; it is logged as failed and will be retried."""


def already_sent(engine: Engine, kind: str, period_key: str, recipient: str) -> bool:
    with engine.connect() as conn:
        status = conn.execute(
            select(email_log.c.status).where(
                email_log.c.kind == kind,
                email_log.c.period_key == period_key,
                email_log.c.recipient == recipient,
            )
        ).scalar_one_or_none()
    return status == "sent"


def _record(engine: Engine, mail: Mail, status: str, error: str | None) -> None:
    now = clock.now()
    key = (
        (email_log.c.kind == mail.kind)
        & (email_log.c.period_key == mail.period_key)
        & (email_log.c.recipient == mail.recipient)
    )
    # A writer transaction (SQLite: BEGIN IMMEDIATE): it waits its turn behind a committing load
    # instead of failing on a read-to-write upgrade, after the message has already gone.
    with writer(engine).begin() as conn:
        row = conn.execute(select(email_log.c.email_id, email_log.c.attempts).where(key)).one_or_none()
        values = {
            "status": status,
            "last_error": error,
            "sent_at": now if status == "sent" else None,
            "subject": mail.subject,
        }
        if row is None:
            conn.execute(
                email_log.insert().values(
                    kind=mail.kind,
                    period_key=mail.period_key,
                    recipient=mail.recipient,
                    message_id=mail.message_id,
                    attempts=1,
                    created_at=now,
                    **values,
                )
            )
        else:
            conn.execute(email_log.update().where(key).values(attempts=row.attempts + 1, **values))


def send_once(engine: Engine, mail: Mail, *, smtp_conn_id: str = "smtp_default") -> SendResult:
    """Send ``mail`` unless the log already holds it as sent; log the outcome either way."""
    if already_sent(engine, mail.kind, mail.period_key, mail.recipient):
        log.info("not sending %s %s to %s again: already sent", mail.kind, mail.period_key, mail.recipient)
        return "already_sent"
    message = build_message(mail)
    try:
        _deliver(message, mail, smtp_conn_id)
    except Exception as exc:  # any SMTP or connection failure: log it, then let the caller retry
        _record(engine, mail, "failed", f"{type(exc).__name__}: {exc}")
        raise MailDeliveryError(f"could not send {mail.kind} to {mail.recipient}: {exc}") from exc
    _record(engine, mail, "sent", None)
    return "sent"


def send_all(engine: Engine, mails: list[Mail], *, smtp_conn_id: str = "smtp_default") -> list[Delivery]:
    """Send every message once; try them all before raising, so one bad address never holds up the rest."""
    deliveries: list[Delivery] = []
    failures: list[str] = []
    for mail in mails:
        try:
            deliveries.append(Delivery(mail, send_once(engine, mail, smtp_conn_id=smtp_conn_id)))
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
    from email.utils import parseaddr

    return parseaddr(sender)[1] or sender
