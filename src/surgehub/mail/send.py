"""Sends each message once through the Airflow SMTP connection, crash-safe, logged in the warehouse email log.

The log is keyed on (kind, period_key, recipient), and a message goes through three states:

1. **sending**: before anything is sent, the row is written with the message's Message-ID and the
   exact bytes about to go (the message archive), in one transaction;
2. the bytes go to the relay (SMTP steps bounded by ``email.smtp_timeout_seconds``);
3. **sent** once the relay has accepted them; **failed** (with the error) if it did not.

A retry (the task's, the outbox sweep's, a re-run) finds the row: a sent message is never sent again;
one still *sending* or *failed* is sent again as the same bytes, so with the same Message-ID. The only
way a recipient can get a message twice is a crash between the relay's acceptance and the mark, and
then the two copies carry one Message-ID: recognisably the same message (decision 0057).
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any, Literal

from surgehub.mail.compose import Mail, as_sent, build_message, new_message_id
from surgehub.orchestration.pause import pause_point
from surgehub.warehouse import email_log

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Engine

    from surgehub.clock import Clock

log = logging.getLogger(__name__)

SendResult = Literal["sent", "already_sent"]

#: How long one SMTP step may take when the caller does not say (``email.smtp_timeout_seconds``).
DEFAULT_TIMEOUT_S = 10.0

#: The pause point between the relay's acceptance and the mark (tests kill the sender there).
AFTER_RELAY_PAUSE = "mail.after_relay"


@dataclass(frozen=True)
class Delivery:
    mail: Mail
    result: SendResult


class MailDeliveryError(RuntimeError):
    """The SMTP server did not take the message; it is logged as failed and will be retried."""


def send_once(
    engine: Engine,
    mail: Mail,
    *,
    smtp_conn_id: str,
    clock: Clock,
    timeout: float = DEFAULT_TIMEOUT_S,
    relay: Relay | None = None,
) -> SendResult:
    """Send ``mail`` unless the log already holds it as sent: log it as sending, send, mark it sent.

    Through ``relay`` (one SMTP session for several messages) when given; else its own connection."""
    kind, period_key, recipient = mail.key
    logged = email_log.logged(engine, kind, period_key, recipient)
    if logged is not None and logged.status == "sent":
        log.info("not sending %s %s to %s again: already sent", kind, period_key, recipient)
        return "already_sent"
    if logged is not None and logged.mime is not None:
        message_id, mime = logged.message_id, logged.mime  # the retry of an unmarked send: the same bytes
        log.warning(
            "sending %s %s to %s again (was %s) with the same Message-ID %s",
            kind,
            period_key,
            recipient,
            logged.status,
            message_id,
        )
    else:
        message_id = logged.message_id if logged is not None else new_message_id(mail)
        mime = as_sent(build_message(mail, date=clock.now(), message_id=message_id))
    email_log.begin_send(
        engine,
        kind=kind,
        period_key=period_key,
        recipient=recipient,
        message_id=message_id,
        subject=mail.subject,
        mime=mime,
        now=clock.now(),
    )
    try:
        if relay is None:
            _deliver(mime, mail, smtp_conn_id, timeout)
        else:
            relay.send(mime, sender=mail.sender, recipient=mail.recipient)
    except Exception as exc:  # any SMTP or connection failure: log it, then let the caller retry
        error = describe(exc)
        email_log.mark(engine, kind, period_key, recipient, "failed", error, clock.now())
        raise MailDeliveryError(f"could not send {kind} to {recipient}: {error}") from exc
    pause_point(AFTER_RELAY_PAUSE)
    email_log.mark(engine, kind, period_key, recipient, "sent", None, clock.now())
    return "sent"


def send_all(
    engine: Engine,
    mails: Sequence[Mail],
    *,
    smtp_conn_id: str,
    clock: Clock,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> list[Delivery]:
    """Send every message once; try them all before raising, so one bad address never holds up the rest."""
    deliveries: list[Delivery] = []
    failures: list[str] = []
    for mail in mails:
        try:
            result = send_once(engine, mail, smtp_conn_id=smtp_conn_id, clock=clock, timeout=timeout)
            deliveries.append(Delivery(mail, result))
        except MailDeliveryError as exc:
            failures.append(str(exc))
    if failures:
        raise MailDeliveryError("; ".join(failures))
    return deliveries


def deliver(mime: bytes, *, sender: str, recipient: str, smtp_conn_id: str, timeout: float) -> None:
    """Hand these exact bytes to the relay for one recipient (envelope from ``sender``), with no log:
    callers log (``send_once``, sign-in codes, digest re-sends). Raises on any SMTP failure."""
    hook = _bounded_hook(smtp_conn_id, timeout)
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    with hook:
        client = hook._smtp_client  # the hook's authenticated client: we send our own bytes
        if client is None:
            raise MailDeliveryError("the SMTP connection could not be opened")
        client.sendmail(_address(sender), [recipient], _crlf(mime))  # type: ignore[union-attr]


class Relay:
    """One SMTP session for several messages (a task's receipts), each still logged and marked on its
    own by ``send_once``.

    The Airflow connection is looked up and the session opened on the first message, not once per
    message (that was most of a receipt's sending time in a burst). Before each later message the
    session is checked with ``NOOP``; a session the relay has closed (an idle timeout, a limit on
    messages per session) is opened again before anything of the message is sent. A failure while a
    message is being sent is never retried here: it is that message's failure, as with its own
    connection (``send_once`` marks it failed and a retry sends the same bytes).
    """

    def __init__(self, smtp_conn_id: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.smtp_conn_id = smtp_conn_id
        self.timeout = timeout
        self._hook: Any = None
        self._used = False  # a message has gone through the open session
        self.sessions = 0  # how many sessions were opened

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, mime: bytes, *, sender: str, recipient: str) -> None:
        """Hand these exact bytes to the relay for one recipient; raises on any SMTP failure."""
        client = self._session()
        self._used = True
        client.sendmail(_address(sender), [recipient], _crlf(mime))

    def _session(self) -> Any:
        if self._hook is not None and self._used and not self._alive():
            self.close()
        if self._hook is None:
            logging.getLogger("mail.log").setLevel(logging.WARNING)
            hook = _bounded_hook(self.smtp_conn_id, self.timeout)
            hook.__enter__()
            self._hook, self._used = hook, False
            self.sessions += 1
        client = self._hook._smtp_client  # the hook's authenticated client: we send our own bytes
        if client is None:
            raise MailDeliveryError("the SMTP connection could not be opened")
        return client

    def _alive(self) -> bool:
        import smtplib

        try:
            return self._hook._smtp_client.noop()[0] == 250
        except (smtplib.SMTPException, OSError, AttributeError):
            return False

    def close(self) -> None:
        """End the session (QUIT, then close); nothing to do when none is open."""
        hook, self._hook = self._hook, None
        if hook is None:
            return
        try:
            if hook._smtp_client is not None:
                hook._smtp_client.quit()
        except Exception:  # already closed by the relay: nothing to say goodbye to
            log.debug("SMTP session already closed", exc_info=True)
        finally:
            with contextlib.suppress(Exception):
                hook.__exit__(None, None, None)


def _deliver(mime: bytes, mail: Mail, smtp_conn_id: str, timeout: float) -> None:
    deliver(mime, sender=mail.sender, recipient=mail.recipient, smtp_conn_id=smtp_conn_id, timeout=timeout)


def _bounded_hook(smtp_conn_id: str, timeout: float) -> Any:
    """Airflow's SmtpHook with every socket step bounded by ``timeout`` and no reconnect loop.

    The hook's own timeout is a whole number of seconds from the connection (default 30) and it
    reconnects up to ``retry_limit`` (default 5) times, so a relay that accepts and never answers
    would hold the task for minutes. Here the connection's timeout is used only when it is shorter,
    and a failed connect fails the send at once: the task's retries (with backoff) try again.
    """
    # Imported here: the Airflow provider is heavy and only needed when mail actually goes out.
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    class BoundedSmtpHook(SmtpHook):
        def _build_client_kwargs(self, is_async: bool) -> dict[str, Any]:
            kwargs = super()._build_client_kwargs(is_async)
            configured = self.conn.extra_dejson.get("timeout")
            kwargs["timeout"] = min(timeout, float(configured)) if configured else timeout
            return kwargs

        @property
        def smtp_retry_limit(self) -> int:
            return 0

    return BoundedSmtpHook(smtp_conn_id=smtp_conn_id)


def describe(exc: BaseException) -> str:
    """The error and what caused it (the hook's "Unable to connect" hides a timeout or a refusal)."""
    text = f"{type(exc).__name__}: {exc}"
    cause = exc.__cause__ or exc.__context__
    return f"{text} ({type(cause).__name__}: {cause})" if cause is not None else text


def _crlf(mime: bytes) -> bytes:
    return re.sub(rb"\r?\n", b"\r\n", mime)


def _address(sender: str) -> str:
    return parseaddr(sender)[1] or sender
