"""`surgehub explain` (everything behind a locality-day's status), `surgehub verify-digest` (a sent
digest rebuilt as of its cut-off, compared with the archived message; both only read the warehouse) and
`surgehub resend-digest` (a sent digest, as sent, to one more address; audited)."""

from __future__ import annotations

import json
from datetime import date

import click

from surgehub.cli import common
from surgehub.cli.common import ExitCode, fail


@click.command("explain")
@click.option(
    "--locality", "locality_code", required=True, metavar="CODE", help="The locality's sub-ICB code."
)
@click.option("--date", "day_text", required=True, metavar="YYYY-MM-DD", help="The activity date.")
@common.as_of_option("Explain the status as it stood then (default now).")
@click.option(
    "--digest",
    "digest_key",
    metavar="KEY",
    default=None,
    help="As a sent digest showed it (board:2026-11-26T07:30).",
)
@common.json_option()
def explain(
    locality_code: str, day_text: str, as_of_text: str | None, digest_key: str | None, as_json: bool
) -> None:
    """Everything behind one locality-day's status: each hub's current version (submission, file, receipt
    time, SHA-256, archive path) and the versions it displaced, the register and commissioned plan rows
    that applied, each parameter's ratio, band, weight and points, and the rule of §5 that decided it."""
    from surgehub.digest.verify import VerifyError, parse_key
    from surgehub.lineage import explain as explain_day

    code = common.locality(locality_code)
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        fail(f"--date {day_text!r} is not a date (YYYY-MM-DD)")
    if digest_key is not None and as_of_text is not None:
        fail("give --as-of or --digest, not both")
    basis = None
    if digest_key is not None:
        try:
            _, at = parse_key(digest_key)
        except VerifyError as exc:
            fail(str(exc))
        basis = f"as the digest {digest_key} showed it (its cut-off)"
    else:
        at = common.instant("--as-of", as_of_text)
    resources = common.resources()
    found = explain_day(common.warehouse(read_only=True), resources.settings, code, day, at, basis=basis)
    click.echo(json.dumps(found.to_json_dict(), ensure_ascii=False) if as_json else found.to_text())


@click.command("verify-digest")
@click.argument("key")
@common.json_option()
def verify_digest(key: str, as_json: bool) -> None:
    """Rebuild the sent digest KEY (e.g. board:2026-11-26T07:30) as of its cut-off and compare its
    figures (the CSV) with every copy the message archive holds. Exit 0 the same, 1 different (the diff
    is printed), 2 no such sent digest."""
    from surgehub.digest.verify import VerifyError
    from surgehub.digest.verify import verify_digest as verify

    resources = common.resources()
    try:
        found = verify(common.warehouse(read_only=True), resources.settings, key)
    except VerifyError as exc:
        fail(str(exc))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "key": found.key,
                    "matches": found.matches,
                    "messages": found.messages,
                    "mismatched": found.mismatched,
                    "diff": found.diff,
                }
            )
        )
    elif found.matches:
        click.echo(
            f"{key}: the {found.messages} archived message(s) match the digest rebuilt as of its cut-off"
        )
    else:
        click.echo(f"{key}: DIFFERENT for {', '.join(found.mismatched)}", err=True)
        for line in found.diff:
            click.echo(line)
    raise SystemExit(int(ExitCode.OK if found.matches else ExitCode.PROBLEM))


@click.command("resend-digest")
@click.argument("key")
@click.option("--to", "to", required=True, metavar="ADDRESS", help="The one address to send it to.")
@click.option("--by", "by", default=None, metavar="NAME", help="Who is re-sending it (default: the OS user).")
def resend_digest(key: str, to: str, by: str | None) -> None:
    """Send the sent digest KEY (e.g. board:2026-11-26T07:30) again, exactly as it was sent, to one
    address (a new board member, say), marked with RFC 5322 Resent fields. Logged, archived and audited
    as digest.resend; the scheduled send is not affected. Exit 0 sent, 1 the relay refused, 2 no such
    sent digest or not an address."""
    from surgehub.digest.resend import ResendError
    from surgehub.digest.resend import resend_digest as resend
    from surgehub.mail.send import MailDeliveryError

    resources = common.resources()
    try:
        done = resend(
            common.warehouse(), resources.settings, resources.clock, key, to, actor=common.actor(by)
        )
    except ResendError as exc:
        fail(str(exc))
    except MailDeliveryError as exc:
        fail(str(exc), ExitCode.PROBLEM)
    click.echo(f"{key}: sent to {done.to} as {done.message_id} (audited as digest.resend)")
