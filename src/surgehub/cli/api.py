"""`surgehub serve`, `surgehub token create|list|revoke` and `surgehub submit`: the Submission API's commands.

Exit codes as every command: 0 success, 1 the work found a problem (``token revoke`` of a token that
does not exist; ``submit`` of a return that was rejected or is too large), 2 usage or configuration
error (for ``submit`` also: the return was not received). FastAPI, uvicorn and requests are imported
only by the command that needs them, so `surgehub --help` stays fast.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click

from surgehub import clock
from surgehub.cli.common import ExitCode, actor, fail, json_option, locality, resources, warehouse

#: A token's life unless told otherwise (issue 17: tokens expire by default).
DEFAULT_TOKEN_DAYS = 180

# -- surgehub token --------------------------------------------------------------------------------


@click.group("token")
def token() -> None:
    """Submission tokens for the API: one locality each, stored only as hashes."""


@token.command("create")
@click.option("--locality", "code", required=True, metavar="CODE", help="The locality's sub-ICB code.")
@click.option("--expires", metavar="ISO8601", default=None, help="Expiry time (no offset = Europe/London).")
@click.option(
    "--expires-in-days",
    type=click.IntRange(min=1),
    default=None,
    help=f"Expiry, in days from now (default {DEFAULT_TOKEN_DAYS}).",
)
@click.option("--no-expiry", is_flag=True, help="A token that never expires (not recommended).")
@click.option("--label", default=None, help="A note for listings (who holds it).")
@click.option("--account", "account_text", default=None, metavar="EMAIL", help="The account it belongs to.")
def token_create(
    code: str,
    expires: str | None,
    expires_in_days: int | None,
    no_expiry: bool,
    label: str | None,
    account_text: str | None,
) -> None:
    """Create a token for a locality and print it ONCE on stdout (only its hash is kept). It expires
    after 180 days unless told otherwise; with --account it stops working when that account is disabled."""
    from surgehub.accounts import get_account, normalise_email
    from surgehub.api.tokens import create_token

    code = locality(code)
    if sum(bool(x) for x in (expires, expires_in_days, no_expiry)) > 1:
        fail("give one of --expires, --expires-in-days and --no-expiry")
    account = normalise_email(account_text) if account_text else None
    if account_text and (account is None or get_account(warehouse(), account) is None):
        fail(f"no account {account_text!r} (see `surgehub user list`)")
    if not (expires or no_expiry):
        expires_in_days = expires_in_days or DEFAULT_TOKEN_DAYS
    now = resources().clock.now()
    expires_at = None
    if expires:
        try:
            expires_at = clock.parse_instant(expires)
        except ValueError:
            fail(f"--expires {expires!r} is not an ISO 8601 time (e.g. 2027-03-31T23:59)")
        if expires_at <= now:
            fail("--expires is in the past")
    elif expires_in_days:
        expires_at = now + timedelta(days=expires_in_days)
    secret, info = create_token(
        warehouse(),
        code,
        now=now,
        expires_at=expires_at,
        label=label,
        account_email=account,
        actor=actor(None),
    )
    click.echo(secret)
    until = f", expires {expires_at.isoformat()}" if expires_at else ", no expiry"
    click.echo(f"token {info.prefix} for {code}{until}. It is shown only now: keep it safe.", err=True)


@token.command("list")
@click.option("--locality", "code", default=None, metavar="CODE", help="Only this locality's tokens.")
@json_option("one JSON array")
def token_list(code: str | None, as_json: bool) -> None:
    """List tokens (prefix, locality, state, dates): never the tokens themselves."""
    from surgehub.api.tokens import list_tokens

    code = locality(code) if code else None
    now = resources().clock.now()
    found = list_tokens(warehouse(read_only=True), code)
    if as_json:
        click.echo(json.dumps([t.to_json_dict(now) for t in found]))
        return
    if not found:
        click.echo("no tokens")
        return
    click.echo(
        f"{'prefix':<10} {'locality':<8} {'state':<8} {'created (UTC)':<20} {'expires (UTC)':<20} label"
    )
    for t in found:
        expires = t.expires_at.strftime("%Y-%m-%d %H:%M") if t.expires_at else "-"
        click.echo(
            f"{t.prefix:<10} {t.sub_icb_code:<8} {t.state(now):<8} {t.created_at:%Y-%m-%d %H:%M}     "
            f"{expires:<20} {t.label or ''}"
        )


@token.command("revoke")
@click.argument("prefix")
def token_revoke(prefix: str) -> None:
    """Revoke the token with PREFIX (as listed; the whole token works too). At once, for good."""
    from surgehub.api.tokens import revoke_token

    if not revoke_token(warehouse(), prefix, now=resources().clock.now(), actor=actor(None)):
        fail(f"no token with prefix {prefix!r} (see `surgehub token list`)")
    click.echo(f"revoked {prefix}")


# -- surgehub serve --------------------------------------------------------------------------------


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port.")
def serve(host: str, port: int) -> None:
    """Serve the Submission API and the upload page over HTTP (one process; validation stays warm).

    At most 32 connections at once (503 beyond); request headers must arrive within 10 s and a body
    keep coming (15 s between chunks, 120 s in all); each return is parsed in a child process with a
    memory and time limit.
    """
    from surgehub.api.app import create_app
    from surgehub.api.limits import Limits
    from surgehub.api.serving import serve_app

    found = resources()
    try:
        app = create_app(resources=found, limits=Limits.from_env(), warm=True)
    except Exception as exc:
        fail(f"cannot start: {exc}")
    serve_app(app, host, port)


# -- surgehub submit -------------------------------------------------------------------------------


@click.command("submit")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--url", required=True, envvar="SURGEHUB_URL", help="The API's address, e.g. https://host:8000."
)
@click.option(
    "--token",
    "secret",
    required=True,
    envvar="SURGEHUB_TOKEN",
    help="Your locality's token (or SURGEHUB_TOKEN).",
)
@click.option(
    "--retries", default=3, show_default=True, type=click.IntRange(0, 10), help="Retries on network errors."
)
@click.option(
    "--timeout", default=60.0, show_default=True, type=click.FloatRange(min=1), help="Seconds per attempt."
)
@json_option("the server's JSON answer")
def submit(file: Path, url: str, secret: str, retries: int, timeout: float, as_json: bool) -> None:
    """Send the return FILE to the Submission API; print the outcome at once.

    Exit codes: 0 accepted, 1 rejected (or over the size limit), 2 not received (bad token, server
    unreachable after retries, usage error).
    """
    from surgehub.api import client

    if not file.is_file():
        fail(f"file not found: {file}")
    if not url.startswith(("http://", "https://")):
        fail(f"--url must start with http:// or https:// (got {url!r})")
    try:
        status, body = client.submit_file(file, url, secret, retries=retries, timeout=timeout)
    except client.SubmitError as exc:
        fail(str(exc), ExitCode(exc.code))
    click.echo(json.dumps(body, ensure_ascii=False) if as_json else client.in_words(body, file.name))
    raise SystemExit(int(ExitCode.OK if status == 201 else ExitCode.PROBLEM))
