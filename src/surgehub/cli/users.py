"""`surgehub user add|list|disable`: people's accounts (an email address with roles), each change audited.

Exit codes as every command: 0 success, 1 the work found a problem (``disable`` of an account that
does not exist), 2 usage or configuration error (not an address, a submitter without a locality).
"""

from __future__ import annotations

import json

import click

from surgehub.cli import common
from surgehub.cli.common import ExitCode, fail

ROLE_NAMES = ("submitter", "board", "data_team")


@click.group("user")
def user() -> None:
    """People's accounts: an email address with roles (submitter for a locality, board, data_team)."""


@user.command("add")
@click.argument("email")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(ROLE_NAMES),
    help="A role (repeat for several): submitter, board or data_team.",
)
@click.option(
    "--locality", "code", default=None, metavar="CODE", help="The submitter's locality (sub-ICB code)."
)
@click.option("--name", "display_name", default=None, help="The person's name, for listings.")
@click.option("--by", default=None, help="Who is making the change (default: the operating-system user).")
def user_add(
    email: str, roles: tuple[str, ...], code: str | None, display_name: str | None, by: str | None
) -> None:
    """Add EMAIL with these roles, or give an existing account them (and enable it). The person then
    signs in on the upload page with a code sent to EMAIL."""
    from surgehub.accounts import AccountError, Role, add_account

    code = common.locality(code) if code else None
    try:
        account = add_account(
            common.warehouse(),
            email,
            roles={Role(r) for r in roles},
            locality=code,
            display_name=display_name,
            actor=common.actor(by),
            at=common.resources().clock.now(),
        )
    except AccountError as exc:
        fail(str(exc))
    where = f" for {account.locality}" if account.locality else ""
    base = common.resources().settings.email.public_base_url
    click.echo(f"{account.email}: {', '.join(sorted(account.roles))}{where}; signs in at {base}/sign-in")


@user.command("list")
@common.json_option("one JSON array")
def user_list(as_json: bool) -> None:
    """Every account: its roles, locality and state."""
    from surgehub.accounts import list_accounts

    found = list_accounts(common.warehouse(read_only=True))
    if as_json:
        click.echo(json.dumps([a.to_json_dict() for a in found], ensure_ascii=False))
        return
    if not found:
        click.echo("no accounts")
        return
    click.echo(f"{'email':<48} {'state':<9} {'locality':<9} roles")
    for a in found:
        state = "active" if a.active else "disabled"
        click.echo(f"{a.email:<48} {state:<9} {a.locality or '-':<9} {', '.join(sorted(a.roles))}")


@user.command("disable")
@click.argument("email")
@click.option("--by", default=None, help="Who is making the change (default: the operating-system user).")
def user_disable(email: str, by: str | None) -> None:
    """Disable EMAIL: no more sign-in, its sessions end at their next request, its tokens stop working,
    it gets no more mail; where Airflow's metadata database is reachable (the stack's containers), its
    Airflow UI user is deactivated too."""
    from surgehub.accounts import disable_account
    from surgehub.orchestration.airflow_sso import deactivate_airflow_user

    if not disable_account(
        common.warehouse(), email, actor=common.actor(by), at=common.resources().clock.now()
    ):
        fail(f"no account {email!r} (see `surgehub user list`)", ExitCode.PROBLEM)
    address = email.strip().lower()
    click.echo(f"disabled {address}")
    try:
        airflow = deactivate_airflow_user(address)
    except Exception as exc:  # Airflow's database is not surgehub's: say so, the account stays disabled
        click.echo(
            f"could not reach Airflow's metadata database to end {address}'s Airflow UI access: {exc}",
            err=True,
        )
        raise SystemExit(int(ExitCode.PROBLEM)) from None
    if airflow:
        click.echo("its Airflow UI user is deactivated too")
