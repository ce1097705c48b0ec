"""The sign-in code email: built and sent off the request path, only to an active account.

``deliver_code`` runs after the page has answered (a background task): it looks the address up, and
sends the code only when an active account has it, so the page's answer, and the work done before
it, are the same for every address. The message is logged in the email log (kind ``signin``) but
never archived: the archive keeps messages as sent, and a code is a secret, kept only as a hash.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from surgehub.accounts import get_account
from surgehub.clock import to_london
from surgehub.mail.compose import Mail, build_message, new_message_id
from surgehub.warehouse import email_log

if TYPE_CHECKING:
    from surgehub.accounts.codes import Issued
    from surgehub.config import EmailConfig
    from surgehub.resources import Resources

log = logging.getLogger(__name__)


def code_mail(email: str, issued: Issued, *, email_config: EmailConfig) -> Mail:
    base_url = email_config.public_base_url
    until = to_london(issued.expires_at).strftime("%H:%M")
    text = (
        f"Your sign-in code for GM surge hubs is {issued.code}\n\n"
        f"Enter it on the sign-in page. It works once, until {until} (UK time), 10 minutes from when "
        "you asked for it.\n\n"
        "If you did not ask to sign in, you can ignore this email: nobody can sign in without the code. "
        "Never share it: the GM primary care data team will never ask you for it.\n\n"
        f"{base_url}/sign-in\n"
    )
    return Mail(
        kind="signin",
        period_key=f"signin:{issued.code_id}",
        recipient=email,
        sender=email_config.sender,
        subject="Your GM surge hubs sign-in code",
        text=text,
        reply_to=email_config.reply_to,
        message_id_domain=email_config.message_id_domain,
    )


def deliver_code(resources: Resources, email: str, issued: Issued) -> bool:
    """Send the code to ``email`` if an active account has it; True when sent. Never raises: the
    person can ask for another code, and a failure is logged (email log and the process log)."""
    from surgehub.mail.compose import as_sent
    from surgehub.mail.send import deliver

    try:
        account = get_account(resources.engine, email)
        if account is None or not account.active:
            return False
        settings = resources.settings
        mail = code_mail(email, issued, email_config=settings.email)
        message_id = new_message_id(mail)
        message = as_sent(build_message(mail, date=resources.clock.now(), message_id=message_id))
        try:
            deliver(
                message,
                sender=mail.sender,
                recipient=email,
                smtp_conn_id=settings.email.smtp_conn_id,
                timeout=settings.email.smtp_timeout_seconds,
            )
        except Exception as exc:
            _log(resources, mail, message_id, "failed", f"{type(exc).__name__}: {exc}")
            log.error("sign-in code to %s not sent: %s", email, exc)
            return False
        _log(resources, mail, message_id, "sent", None)  # no MIME: the code is not archived
        return True
    except Exception:
        log.exception("sign-in code to %s not sent", email)
        return False


def _log(resources: Resources, mail: Mail, message_id: str, status: str, error: str | None) -> None:
    email_log.record_attempt(
        resources.engine,
        kind=mail.kind,
        period_key=mail.period_key,
        recipient=mail.recipient,
        message_id=message_id,
        subject=mail.subject,
        status=status,
        error=error,
        now=resources.clock.now(),
    )
