"""`surgehub token create|list|revoke` and `surgehub serve`: the Submission API's command line.

Exit codes as every command: 0 success, 1 the work found a problem (``token revoke`` of a token that
does not exist), 2 usage or configuration error.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from typing import Any, NoReturn

import click

from surgehub import clock, reference


def _fail(command: str, message: str, code: int = 2) -> NoReturn:
    click.echo(f"surgehub {command}: {message}", err=True)
    sys.exit(code)


def _engine(command: str) -> Any:
    from surgehub.config import ConfigError, load_settings
    from surgehub.warehouse.db import ensure_warehouse, get_engine

    try:
        settings = load_settings()
    except ConfigError as exc:
        _fail(command, f"configuration error: {exc}")
    try:
        return ensure_warehouse(get_engine(settings.warehouse_url))
    except Exception as exc:
        _fail(command, f"warehouse {settings.warehouse_url!r} is not usable: {exc}")


def _locality(command: str, text: str) -> str:
    code = text.strip().upper()
    if reference.locality_by_code(code) is None:
        known = ", ".join(loc.sub_icb_code for loc in reference.localities())
        _fail(command, f"unknown locality {text!r}; use one of {known}")
    return code


@click.group("token")
def token() -> None:
    """Submission tokens for the API: one locality each, stored only as hashes."""


@token.command("create")
@click.option("--locality", required=True, metavar="CODE", help="The locality's sub-ICB code.")
@click.option("--expires", metavar="ISO8601", default=None, help="Expiry time (no offset = Europe/London).")
@click.option("--expires-in-days", type=click.IntRange(min=1), default=None, help="Expiry, in days from now.")
@click.option("--label", default=None, help="A note for listings (who holds it).")
def token_create(locality: str, expires: str | None, expires_in_days: int | None, label: str | None) -> None:
    """Create a token for a locality and print it ONCE on stdout (only its hash is kept)."""
    from surgehub.api.tokens import create_token

    code = _locality("token create", locality)
    if expires and expires_in_days:
        _fail("token create", "give --expires or --expires-in-days, not both")
    expires_at = None
    if expires:
        try:
            expires_at = clock.parse_instant(expires)
        except ValueError:
            _fail("token create", f"--expires {expires!r} is not an ISO 8601 time (e.g. 2027-03-31T23:59)")
        if expires_at <= clock.now():
            _fail("token create", "--expires is in the past")
    elif expires_in_days:
        expires_at = clock.now() + timedelta(days=expires_in_days)
    secret, info = create_token(_engine("token create"), code, expires_at=expires_at, label=label)
    click.echo(secret)
    until = f", expires {expires_at.isoformat()}" if expires_at else ", no expiry"
    click.echo(f"token {info.prefix} for {code}{until}. It is shown only now: keep it safe.", err=True)


@token.command("list")
@click.option("--locality", default=None, metavar="CODE", help="Only this locality's tokens.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array on stdout.")
def token_list(locality: str | None, as_json: bool) -> None:
    """List tokens (prefix, locality, state, dates): never the tokens themselves."""
    from surgehub.api.tokens import list_tokens

    code = _locality("token list", locality) if locality else None
    now = clock.now()
    found = list_tokens(_engine("token list"), code)
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

    if not revoke_token(_engine("token revoke"), prefix):
        _fail("token revoke", f"no token with prefix {prefix!r} (see `surgehub token list`)", 1)
    click.echo(f"revoked {prefix}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port.")
def serve(host: str, port: int) -> None:
    """Serve the Submission API and the upload page over HTTP (one process; validation stays warm)."""
    import uvicorn

    from surgehub.api.app import create_app
    from surgehub.config import ConfigError

    try:
        app = create_app(warm=True)
    except ConfigError as exc:
        _fail("serve", f"configuration error: {exc}")
    except Exception as exc:
        _fail("serve", f"cannot start: {exc}")
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False, server_header=False)
