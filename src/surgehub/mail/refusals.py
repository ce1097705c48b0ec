"""Notices to a locality about something in its landing folder that was not taken as a return (spec §4).

A link or something that is not a regular file (a folder, pipe or device) is never read; the sender is
told why, once per entry (the email log's send-once key is the entry's), and where it went. A file
over the size limit is a submission (rejected, F01) and gets an ordinary receipt instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from surgehub import reference
from surgehub.accounts.recipients import locality_recipients
from surgehub.landing import plain_name
from surgehub.mail.compose import Mail

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Engine

    from surgehub.config import Settings

KIND = "not_taken"

_WHY = {
    "link": (
        "is a link (a shortcut to another file), not a file. Links are never followed or read, so that "
        "nothing outside your folder can be sent by mistake"
    ),
    "not_regular": (
        "is not a file (it is a folder, a pipe or a device). Only files placed directly in your landing "
        "folder are read"
    ),
}


def notice_mails(
    notices: Sequence[dict[str, Any]], settings: Settings, engine: Engine | None = None
) -> list[Mail]:
    """One message per notice ({"locality", "name", "reason", "key", "moved_to"}) to each locality contact."""
    mails: list[Mail] = []
    for notice in notices:
        code = str(notice["locality"])
        locality = reference.locality_by_code(code)
        name = plain_name(str(notice["name"]))
        why = _WHY.get(str(notice["reason"]), "could not be read as a return")
        where = notice.get("moved_to_folder") or "rejected"
        subject = f"Return not taken: {name} ({locality.name if locality else code})"
        text = (
            f"Something placed in the landing folder for {locality.name if locality else code} ({code}) "
            f"was not taken as a return.\n\n"
            f"  Name:   {name}\n"
            f"  Why:    it {why}.\n"
            f"  Where:  moved to the {where}/ folder beside it; nothing was read or loaded.\n\n"
            "What to do: copy the return file itself (CSV or Excel .xlsx) into the landing folder. Write it "
            "under a temporary name and rename it when it is complete, or copy it in one go.\n\n"
            "This message is sent once for each such item. The GM primary care data team can help.\n"
        )
        for recipient in locality_recipients(engine, settings, code):
            mails.append(
                Mail(
                    kind=KIND,
                    period_key=f"{KIND}:{notice['key']}",
                    recipient=recipient,
                    sender=settings.email.sender,
                    reply_to=settings.email.reply_to,
                    message_id_domain=settings.email.message_id_domain,
                    subject=subject,
                    text=text,
                )
            )
    return mails
