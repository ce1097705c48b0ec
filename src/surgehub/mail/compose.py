"""Builds MIME messages: text and HTML alternatives, inline CID images with alt text, attachments, a stable Message-ID."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from datetime import datetime

MESSAGE_ID_DOMAIN = "surgehub.gm.nhs.invalid"


@dataclass(frozen=True)
class InlineImage:
    cid: str  # the image's name (e.g. "utilisation-trend"); also its file name
    png: bytes
    alt: str

    @property
    def content_id(self) -> str:
        """Its Content-ID as an RFC 2392 addr-spec; the HTML refers to it as src="cid:<content_id>"."""
        return f"{self.cid}@{MESSAGE_ID_DOMAIN}"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str = "text"
    subtype: str = "csv"


@dataclass(frozen=True)
class Mail:
    """One message to one recipient, identified by (kind, period_key, recipient)."""

    kind: str
    period_key: str
    recipient: str
    sender: str
    subject: str
    text: str
    html: str | None = None
    images: tuple[InlineImage, ...] = field(default=())
    attachments: tuple[Attachment, ...] = field(default=())

    @property
    def message_id(self) -> str:
        return stable_message_id(self.kind, self.period_key, self.recipient)


def stable_message_id(kind: str, period_key: str, recipient: str) -> str:
    """The same message (kind, period, recipient) always has the same Message-ID, so a resend is recognisable."""
    token = hashlib.sha256(f"{kind}\x1f{period_key}\x1f{recipient.lower()}".encode()).hexdigest()[:32]
    return f"<{kind}.{token}@{MESSAGE_ID_DOMAIN}>"


def build_message(mail: Mail, *, date: datetime) -> EmailMessage:
    """multipart/mixed( multipart/alternative( text, multipart/related( html, images ) ), attachments ).

    ``date`` is the message's Date header: when it is sent (or built, for a saved copy).
    """
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(date)
    message["X-Surgehub-Kind"] = mail.kind
    message["X-Surgehub-Period"] = mail.period_key
    message.set_content(mail.text, subtype="plain", charset="utf-8")
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html", charset="utf-8")
        if mail.images:
            html_part = cast("list[EmailMessage]", message.get_payload())[-1]
            for image in mail.images:
                html_part.add_related(
                    image.png,
                    maintype="image",
                    subtype="png",
                    cid=f"<{image.content_id}>",
                    filename=f"{image.cid}.png",
                    disposition="inline",
                )
                # alt text lives in the HTML <img alt>; Content-Description helps clients that list parts
                cast("list[EmailMessage]", html_part.get_payload())[-1]["Content-Description"] = image.alt
    for attachment in mail.attachments:
        message.add_attachment(
            attachment.content,
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            filename=attachment.filename,
        )
    return message
