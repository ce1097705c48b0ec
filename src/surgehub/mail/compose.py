"""Builds MIME messages: text and HTML alternatives, inline CID images with alt text, attachments.

Every message says it is automatic (``Auto-Submitted: auto-generated``, RFC 3834, and
``X-Auto-Response-Suppress: All`` for Exchange), so out-of-office replies do not come back; carries a
``Reply-To`` (``email.reply_to``, the data team) when one is configured; and a Message-ID made afresh
for each message logged (``email.utils.make_msgid`` on ``email.message_id_domain``). The Message-ID
is unique per send and kept in the email log with the message: a retry after a crash resends the
logged bytes, so the same Message-ID (decision 0056).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from datetime import datetime

#: The domain of inline images' Content-IDs (RFC 2392): they only need to be unique within a message.
CONTENT_ID_DOMAIN = "surgehub.gm.nhs.invalid"

#: RFC 3834 §5: a message sent by a program, not by a person; nobody should answer it automatically.
AUTO_SUBMITTED = "auto-generated"
#: Exchange and Outlook: suppress every automatic reply (out of office, delivery and read receipts).
AUTO_RESPONSE_SUPPRESS = "All"


@dataclass(frozen=True)
class InlineImage:
    cid: str  # the image's name (e.g. "utilisation-trend"); also its file name
    png: bytes
    alt: str

    @property
    def content_id(self) -> str:
        """Its Content-ID as an RFC 2392 addr-spec; the HTML refers to it as src="cid:<content_id>"."""
        return f"{self.cid}@{CONTENT_ID_DOMAIN}"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str = "text"
    subtype: str = "csv"
    #: The charset of a text attachment (the CSV exports are UTF-8); ignored for other types.
    charset: str = "utf-8"


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
    #: Where replies go (``email.reply_to``); no Reply-To header when empty.
    reply_to: str = ""
    #: The right-hand side of the Message-ID (``email.message_id_domain``); the From domain when empty.
    message_id_domain: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """The email log's send-once key: a message is logged, and sent, once per key."""
        return (self.kind, self.period_key, self.recipient)


def sender_domain(sender: str) -> str:
    """The domain of a From address (``surgehub@gm.example.nhs.uk`` → ``gm.example.nhs.uk``)."""
    address = parseaddr(sender)[1] or sender
    domain = address.rpartition("@")[2].strip().strip(">").lower()
    return domain or "localhost"


def new_message_id(mail: Mail) -> str:
    """A Message-ID no other message has (RFC 5322 §3.6.4), on the configured domain or the From's."""
    return make_msgid(idstring=mail.kind, domain=mail.message_id_domain or sender_domain(mail.sender))


def build_message(mail: Mail, *, date: datetime, message_id: str | None = None) -> EmailMessage:
    """multipart/mixed( multipart/alternative( text, multipart/related( html, images ) ), attachments ).

    ``date`` is the message's Date header: when it is sent (or built, for a saved copy).
    ``message_id``: the one logged for it (``surgehub.mail.send``); a new one when not given.
    """
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = mail.recipient
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message["Subject"] = mail.subject
    message["Message-ID"] = message_id or new_message_id(mail)
    message["Date"] = format_datetime(date)
    message["Auto-Submitted"] = AUTO_SUBMITTED
    message["X-Auto-Response-Suppress"] = AUTO_RESPONSE_SUPPRESS
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
            params={"charset": attachment.charset} if attachment.maintype == "text" else {},
        )
    return message


def as_sent(message: EmailMessage) -> bytes:
    """The message's bytes as they go over SMTP (CRLF line ends): what is sent, logged and archived."""
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
