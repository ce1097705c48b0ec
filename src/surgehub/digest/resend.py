"""A sent digest as the archive holds it, for people: read back, shown, and re-sent to one address.

**Re-sending** (issue 17): the data team sends a past board digest or daily summary, exactly as it was
sent, to one chosen address (a new board member, say). The message is the archived bytes of its first
copy with a block of RFC 5322 §3.6.6 *resent* fields put in front — ``Resent-Date``,
``Resent-From``, ``Resent-To``, ``Resent-Message-ID`` — which is what the standard provides for "a
message reintroduced into transport by a user": bodies, charts, CSV, subject and the original
Message-ID are untouched, so what arrives is provably what the board had (its archived SHA-256 is the
same but for the resent block). The envelope goes only to the chosen address.

A re-send is logged in the email log as its own message (kind ``resend``, a key of its own), with its
bytes in the archive, and audited as ``digest.resend`` (who, to whom, both SHA-256s) before it goes to
the relay, so a re-send is never unrecorded; it is marked *sent* or *failed* after. It never touches the digest's own rows, so the scheduled send stays exactly once and its copies stay as
they were; two re-sends are two messages, each audited.
"""

from __future__ import annotations

import email
import email.policy
import functools
import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING

from surgehub.accounts import get_account, normalise_email
from surgehub.digest.verify import VerifyError, csv_of, parse_key
from surgehub.mail.compose import sender_domain
from surgehub.warehouse import email_log
from surgehub.warehouse.audit import record
from surgehub.warehouse.db import writer

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine

    from surgehub.clock import Clock
    from surgehub.config import Settings

KIND = "resend"


class ResendError(ValueError):
    """A re-send that cannot be made; the message says why, in words for people."""


@dataclass(kw_only=True)
class SentCopy:
    """A sent digest as people see it: its first archived copy (every copy has the same bodies)."""

    key: str
    kind: str
    subject: str
    sent_at: datetime | None
    recipients: tuple[str, ...]
    mime: bytes
    sha256: str

    @functools.cached_property
    def csv(self) -> bytes | None:
        return csv_of(self.mime)

    def html(self) -> str | None:
        """The HTML part as mailed, its inline images (``cid:``) made ``data:`` URIs so a browser shows them."""
        import base64

        message = email.message_from_bytes(self.mime, policy=email.policy.default)
        html: str | None = None
        images: dict[str, str] = {}
        for part in message.walk():
            content_type = part.get_content_type()
            if content_type == "text/html" and html is None and not part.get_filename():
                html = part.get_content()
            elif part.get_content_maintype() == "image" and part.get("Content-ID"):
                cid = str(part["Content-ID"]).strip().strip("<>")
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    images[cid] = f"data:{content_type};base64,{base64.b64encode(payload).decode('ascii')}"
        if html is None:
            return None
        for cid, uri in images.items():
            html = html.replace(f'src="cid:{cid}"', f'src="{uri}"')
        return html


def sent_copy(engine: Engine, key: str) -> SentCopy:
    """The digest ``key`` as sent (e.g. ``board:2026-11-26T07:30``); ResendError when none was sent."""
    try:
        kind, _ = parse_key(key)
    except VerifyError as exc:
        raise ResendError(str(exc)) from None
    found = email_log.first_sent_copy(engine, str(kind), key)
    if found is None:
        raise ResendError(f"no {kind} digest {key} was sent (nothing in the message archive)")
    first, recipients = found
    message = email.message_from_bytes(first.mime, policy=email.policy.default)
    return SentCopy(
        key=key,
        kind=str(kind),
        subject=str(message.get("Subject", "")),
        sent_at=first.sent_at,
        recipients=tuple(recipients),
        mime=first.mime,
        sha256=first.sha256,
    )


def with_resent_block(mime: bytes, *, sender: str, to: str, at: datetime, message_id: str) -> bytes:
    """``mime`` with RFC 5322 resent fields in front, written as the SMTP policy writes headers (CRLF,
    folded, a non-ASCII display name RFC 2047-encoded), so the block is as valid as the message."""
    fields = EmailMessage(policy=email.policy.SMTP)
    fields["Resent-Date"] = format_datetime(at)
    fields["Resent-From"] = sender
    fields["Resent-To"] = to
    fields["Resent-Message-ID"] = message_id
    block = fields.as_bytes().split(b"\r\n\r\n", 1)[0] + b"\r\n"
    if b"\r\n" not in mime[:2000]:  # a message kept with bare LF (never by surgehub) keeps its style
        block = block.replace(b"\r\n", b"\n")
    return block + mime


@dataclass(frozen=True, kw_only=True)
class Resent:
    key: str
    to: str
    message_id: str
    email_id: int


def resend_digest(
    engine: Engine, settings: Settings, clock: Clock, key: str, to: str, *, actor: str
) -> Resent:
    """Send the digest ``key`` as sent to ``to``: logged, archived and audited; raises ResendError for
    a bad address or key, and MailDeliveryError when the relay does not take it (logged as failed)."""
    from surgehub.mail.send import MailDeliveryError, deliver, describe

    address = normalise_email(to)
    if address is None:
        raise ResendError(f"{to[:80]!r} is not an email address")
    account = get_account(engine, address)
    if account is not None and not account.active:
        raise ResendError(f"{address} is a disabled account: a disabled account gets no mail")
    copy = sent_copy(engine, key)
    now = clock.now()
    sender = settings.email.sender
    message_id = make_msgid(
        idstring="resend", domain=settings.email.message_id_domain or sender_domain(sender)
    )
    mime = with_resent_block(copy.mime, sender=sender, to=address, at=now, message_id=message_id)
    period_key = f"{key}@{now.isoformat(timespec='microseconds')}"[:100]
    email_id = email_log.begin_send(
        engine,
        kind=KIND,
        period_key=period_key,
        recipient=address,
        message_id=message_id,
        subject=copy.subject,
        mime=mime,
        now=now,
    )
    with writer(engine).begin() as connection:
        record(
            connection,
            occurred_at=now,
            actor=actor,
            action="digest.resend",
            subject=f"digest:{key}",
            detail={
                "to": address,
                "message_id": message_id,
                "sha256_as_sent": copy.sha256,
                "sha256_resent": hashlib.sha256(mime).hexdigest(),
            },
        )
    try:
        deliver(
            mime,
            sender=sender,
            recipient=address,
            smtp_conn_id=settings.email.smtp_conn_id,
            timeout=settings.email.smtp_timeout_seconds,
        )
    except Exception as exc:
        error = describe(exc)
        email_log.mark(engine, KIND, period_key, address, "failed", error, clock.now())
        raise MailDeliveryError(f"could not send {key} to {address}: {error}") from exc
    email_log.mark(engine, KIND, period_key, address, "sent", None, clock.now())
    return Resent(key=key, to=address, message_id=message_id, email_id=email_id)
