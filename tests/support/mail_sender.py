"""A sender in its own process, for the crash tests: ``python -m tests.support.mail_sender KEY``.

Sends one notice (kind ``not_taken``, period ``not_taken:KEY``) to Stockport's contact through
``surgehub.mail.send.send_once`` against the warehouse and SMTP connection its environment names, and
prints the result (sent, already_sent). A test arms the ``mail.after_relay`` pause point
(``SURGEHUB_PAUSE_DIR``) to hold it between the relay's acceptance and the mark, and kills it there.
"""

from __future__ import annotations

import sys

from surgehub.mail.refusals import notice_mails
from surgehub.mail.send import send_once
from surgehub.resources import Resources


def main(key: str) -> int:
    resources = Resources.from_env()
    settings = resources.settings
    notice = {"locality": "01W", "name": "return.lnk", "reason": "link", "key": key}
    [mail] = notice_mails([notice], settings)
    result = send_once(
        resources.warehouse(),
        mail,
        smtp_conn_id=settings.email.smtp_conn_id,
        clock=resources.clock,
        timeout=settings.email.smtp_timeout_seconds,
    )
    print(result, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
