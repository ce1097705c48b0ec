"""A rendered digest as email: its subject and list from the configuration, and one Mail per recipient.

Every recipient gets the same bodies, charts and CSV; each message has its own Message-ID, derived
from (kind, period key, recipient), which is what keeps a re-run from sending anything twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from surgehub.config import ConfigError
from surgehub.digest.model import DigestKind
from surgehub.mail.compose import Attachment, Mail

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Engine

    from surgehub.config import Settings
    from surgehub.digest.model import Period, RenderedDigest

#: The To of a message written for looking at when the list is empty (RFC 5322's empty group).
PREVIEW_RECIPIENT = "undisclosed-recipients:;"


def subject_for(kind: DigestKind, period: Period, settings: Settings) -> str:
    """The subject from ``email.subjects.<kind>`` with ``{period}`` filled in (a default when not set)."""
    default = (
        "GM surge hubs: board digest {period}"
        if kind == DigestKind.BOARD
        else "GM surge hubs: daily summary {period}"
    )
    template = settings.email.subjects.get(kind) or default
    try:
        return template.format(period=period.label)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"email.subjects.{kind} must use only {{period}}: {exc}") from exc


def recipients_for(kind: DigestKind, settings: Settings, engine: Engine | None = None) -> list[str]:
    """``email.board`` for the board digest, ``email.operations`` for the daily summary; with the
    warehouse, also every active board (or data team) account, less disabled accounts
    (``surgehub.accounts.recipients``)."""
    configured = settings.email.board if kind == DigestKind.BOARD else settings.email.operations
    if engine is None:
        return list(configured)
    from surgehub.accounts import Role
    from surgehub.accounts.recipients import mail_list

    return mail_list(engine, configured, Role.BOARD if kind == DigestKind.BOARD else Role.DATA_TEAM)


def _mail(rendered: RenderedDigest, settings: Settings, recipient: str) -> Mail:
    digest = rendered.digest
    return Mail(
        kind=digest.kind,
        period_key=digest.period_key,
        recipient=recipient,
        sender=settings.email.sender,
        reply_to=settings.email.reply_to,
        message_id_domain=settings.email.message_id_domain,
        subject=subject_for(digest.kind, digest.period, settings),
        text=rendered.text,
        html=rendered.html,
        images=rendered.images,
        attachments=(Attachment(digest.csv_filename, rendered.csv, "text", "csv"),),
    )


def digest_mails(
    rendered: RenderedDigest, settings: Settings, recipients: Sequence[str] | None = None
) -> list[Mail]:
    """One message per recipient; identical bodies, a Message-ID each. ``recipients``: as
    ``recipients_for`` with the warehouse chose them; None, the configured list alone (previews)."""
    chosen = recipients_for(rendered.digest.kind, settings) if recipients is None else recipients
    return [_mail(rendered, settings, recipient) for recipient in chosen]


def preview_mail(rendered: RenderedDigest, settings: Settings) -> Mail:
    """The message as a recipient would get it, addressed to nobody: for looking at when the list is empty."""
    return _mail(rendered, settings, PREVIEW_RECIPIENT)
