"""`surgehub digest`: build the board digest or daily summary as of a time, write it out, optionally send it once.

Writes DIR/message.eml (the whole MIME message, as the first recipient gets it) and DIR/digest.html
(the HTML part exactly as sent, images referenced by cid), plus DIR/digest.txt, DIR/digest.csv and
the chart PNGs for looking at by hand. With --send, every recipient on the configured list gets it
through the Airflow SMTP connection once: what the email log holds as sent is never sent again.
Exit codes: 0 done, 1 sending failed (recorded as failed in the email log; run again to retry),
2 usage or configuration error.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from surgehub import clock

PREVIEW_RECIPIENT = "undisclosed-recipients:;"


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"surgehub digest: {message}", err=True)
    sys.exit(code)


def _as_of(text: str | None) -> datetime:
    if text is None:
        return clock.now()
    try:
        return clock.parse_instant(text)
    except ValueError:
        _fail(f"--as-of {text!r} is not an ISO 8601 time (e.g. 2026-11-26T07:30)")


def write_outputs(out: Path, digest: Any, mails: list[Any]) -> Path:
    """Write message.eml, digest.html, digest.txt, digest.csv and the charts; returns the .eml path."""
    from surgehub.mail.compose import Attachment, Mail, build_message

    out.mkdir(parents=True, exist_ok=True)
    if mails:
        mail = mails[0]
    else:  # nobody on the list: still show exactly what would go out
        mail = Mail(
            digest.kind,
            digest.period_key,
            PREVIEW_RECIPIENT,
            digest.settings.email.sender,
            digest.subject,
            digest.text,
            digest.html,
            digest.images,
            (Attachment(digest.csv_filename, digest.csv, "text", "csv"),),
        )
    eml = out / "message.eml"
    eml.write_bytes(bytes(build_message(mail, date=clock.now())))
    (out / "digest.html").write_text(digest.html, encoding="utf-8")
    (out / "digest.txt").write_text(digest.text, encoding="utf-8")
    (out / "digest.csv").write_bytes(digest.csv)
    for image in digest.images:
        (out / f"{image.cid}.png").write_bytes(image.png)
    return eml


def send_with_retries(engine: Any, mails: list[Any], conn_id: str, retries: int, wait: float) -> list[Any]:
    """``send_all`` and, on failure, again after a growing wait; what was sent is never sent twice."""
    from surgehub.mail.send import MailDeliveryError, send_all

    attempt = 0
    while True:
        try:
            return send_all(engine, mails, smtp_conn_id=conn_id, clock=clock.SystemClock())
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
    type=click.Choice(["board", "daily"]),
    default="board",
    show_default=True,
    help="board: the board digest (email.board); daily: the operations summary (email.operations).",
)
@click.option(
    "--as-of",
    "as_of_text",
    metavar="ISO8601",
    help="Build the digest that went (or goes) out at this time; no offset means Europe/London. Default now.",
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
    from surgehub.config import ConfigError, load_settings

    as_of = _as_of(as_of_text)
    try:
        settings = load_settings()
    except ConfigError as exc:
        _fail(f"configuration error: {exc}")
    from surgehub.digest.build import build_digest, digest_mails, recipients_for
    from surgehub.warehouse.db import ensure_warehouse, get_engine

    try:
        engine = ensure_warehouse(get_engine(settings.warehouse_url))
    except Exception as exc:
        _fail(f"warehouse {settings.warehouse_url!r} is not usable: {exc}")
    if send and not recipients_for(kind, settings):
        key = "email.board" if kind == "board" else "email.operations"
        _fail(f"{key} lists no recipients in {settings.config_file or 'the configuration'}")
    try:
        built = build_digest(engine, kind, as_of, settings)
        mails = digest_mails(built, settings)
    except ConfigError as exc:
        _fail(f"configuration error: {exc}")
    eml = write_outputs(out, built, mails)
    period = built.period
    judged = ", ".join(f"{d:%a %d %b}" for d in period.days) or "none"
    click.echo(
        f"{built.title} {built.period_key}: cut-off {clock.to_london(period.cutoff):%Y-%m-%d %H:%M %Z}; "
        f"days judged: {judged}; pending: {len(period.pending_days)}"
    )
    click.echo(f"wrote {eml} and {out / 'digest.html'} ({len(built.html.encode('utf-8')):,} bytes of HTML)")
    if not send:
        return
    from surgehub.mail.send import MailDeliveryError

    conn_id = settings.email.smtp_conn_id
    try:
        deliveries = send_with_retries(engine, mails, conn_id, retries, retry_wait)
    except MailDeliveryError as exc:
        _fail(f"could not send {built.period_key}: {exc}. Recorded as failed in the email log; run again.", 1)
    sent = sum(d.result == "sent" for d in deliveries)
    already = sum(d.result == "already_sent" for d in deliveries)
    click.echo(f"sent to {sent} recipient(s); {already} already had it (not sent again)")
