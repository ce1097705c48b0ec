"""`surgehub digest`: build the board digest or daily summary as of a time, write it out, optionally send it once.

Writes DIR/message.eml (the whole MIME message, as the first recipient gets it) and DIR/digest.html
(the HTML part exactly as sent, images referenced by cid), plus DIR/digest.txt, DIR/digest.csv and
the chart PNGs for looking at by hand. With --send, every recipient on the configured list gets it
through the Airflow SMTP connection once: what the email log holds as sent is never sent again.
Exit codes: 0 done, 1 sending failed (recorded as failed in the email log; run again to retry),
2 usage or configuration error.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from surgehub.cli.common import ExitCode, as_of_option, fail, instant, resources, warehouse
from surgehub.clock import to_london
from surgehub.config import ConfigError
from surgehub.digest.mails import digest_mails, preview_mail, recipients_for
from surgehub.digest.model import DigestKind
from surgehub.digest.render import render_digest
from surgehub.mail.compose import build_message

# The warehouse side (surgehub.digest.build, surgehub.mail.send) pulls in SQLAlchemy and the RAG: it is
# imported when the command runs, so `surgehub digest --help` stays fast.

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine

    from surgehub.clock import Clock
    from surgehub.digest.model import RenderedDigest
    from surgehub.mail.compose import Mail
    from surgehub.mail.send import Delivery


def write_outputs(out: Path, rendered: RenderedDigest, mail: Mail, *, date: datetime) -> Path:
    """Write message.eml (``mail``, dated ``date``), digest.html, digest.txt, digest.csv and the charts;
    returns the .eml path."""
    out.mkdir(parents=True, exist_ok=True)
    eml = out / "message.eml"
    eml.write_bytes(bytes(build_message(mail, date=date)))
    (out / "digest.html").write_text(rendered.html, encoding="utf-8")
    (out / "digest.txt").write_text(rendered.text, encoding="utf-8")
    (out / "digest.csv").write_bytes(rendered.csv)
    for image in rendered.images:
        (out / f"{image.cid}.png").write_bytes(image.png)
    return eml


def send_with_retries(
    engine: Engine,
    mails: list[Mail],
    conn_id: str,
    retries: int,
    wait: float,
    *,
    clock: Clock,
    timeout: float = 10.0,
) -> list[Delivery]:
    """``send_all`` and, on failure, again after a growing wait; what was sent is never sent twice."""
    from surgehub.mail.send import MailDeliveryError, send_all

    attempt = 0
    while True:
        try:
            return send_all(engine, mails, smtp_conn_id=conn_id, clock=clock, timeout=timeout)
        except MailDeliveryError as exc:
            if attempt >= retries:
                raise
            delay = wait * (2**attempt)
            click.echo(f"surgehub digest: sending failed ({exc}); retrying in {delay:g}s", err=True)
            time.sleep(delay)
            attempt += 1


@click.command("digest")
@click.option(
    "--kind",
    type=click.Choice([kind.value for kind in DigestKind]),
    default=DigestKind.BOARD.value,
    show_default=True,
    help="board: the board digest (email.board); daily: the operations summary (email.operations).",
)
@as_of_option(
    "Build the digest that went (or goes) out at this time; no offset means Europe/London. Default now."
)
@click.option(
    "--send", is_flag=True, help="Also send it, once per recipient (never again for the same period)."
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for message.eml, digest.html, digest.txt, digest.csv and the charts.",
)
@click.option(
    "--retries",
    default=2,
    show_default=True,
    type=click.IntRange(0, 10),
    help="Retries after an SMTP failure.",
)
@click.option(
    "--retry-wait",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0, 3600),
    help="Seconds before the first retry; doubled each time.",
)
def digest(kind: str, as_of_text: str | None, send: bool, out: Path, retries: int, retry_wait: float) -> None:
    """Build the board digest or daily operations summary, write it to --out, and with --send send it once."""
    from surgehub.digest.build import build_digest
    from surgehub.mail.send import MailDeliveryError

    as_of = instant("--as-of", as_of_text)
    found = resources()
    settings = found.settings
    engine = warehouse(read_only=not send)
    digest_kind = DigestKind(kind)
    recipients = recipients_for(digest_kind, settings, engine)
    if send and not recipients:
        key = "email.board" if digest_kind == DigestKind.BOARD else "email.operations"
        role = "board" if digest_kind == DigestKind.BOARD else "data_team"
        fail(
            f"nobody to send to: {key} in {settings.config_file or 'the configuration'} lists no one "
            f"and no active account has the {role} role"
        )
    try:
        rendered = render_digest(build_digest(engine, digest_kind, as_of, settings))
        mails = digest_mails(rendered, settings, recipients)
    except ConfigError as exc:
        fail(f"configuration error: {exc}")
    # Nobody on the list: still show exactly what would go out.
    mail = mails[0] if mails else preview_mail(rendered, settings)
    eml = write_outputs(out, rendered, mail, date=found.clock.now())
    built = rendered.digest
    period = built.period
    judged = ", ".join(f"{d:%a %d %b}" for d in period.days) or "none"
    click.echo(
        f"{built.title} {built.period_key}: cut-off {to_london(period.cutoff):%Y-%m-%d %H:%M %Z}; "
        f"days judged: {judged}; pending: {len(period.pending_days)}"
    )
    click.echo(
        f"wrote {eml} and {out / 'digest.html'} ({len(rendered.html.encode('utf-8')):,} bytes of HTML)"
    )
    if not send:
        return
    try:
        deliveries = send_with_retries(
            engine,
            mails,
            settings.email.smtp_conn_id,
            retries,
            retry_wait,
            clock=found.clock,
            timeout=settings.email.smtp_timeout_seconds,
        )
    except MailDeliveryError as exc:
        fail(
            f"could not send {built.period_key}: {exc}. Recorded as failed in the email log; run again.",
            ExitCode.PROBLEM,
        )
    sent = sum(d.result == "sent" for d in deliveries)
    already = sum(d.result == "already_sent" for d in deliveries)
    click.echo(f"sent to {sent} recipient(s); {already} already had it (not sent again)")
