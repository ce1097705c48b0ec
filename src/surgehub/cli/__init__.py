"""The `surgehub` command line: one group, one module per command group (`cli/<group>.py`).

Subcommands are imported only when used, so `surgehub --help` stays fast (no pandas, no GX). Each
invocation builds its settings, engine and clock once (`cli.common.resources()`) and passes them down.
Exit codes for every command: 0 success, 1 the work found a problem (a rejected return),
2 usage or configuration error.
"""

from __future__ import annotations

import importlib

import click

#: name -> ("module:attribute" of a click command, its one-line summary for --help).
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("surgehub.cli.returns:validate", "Check one return against the specification"),
    "ingest": ("surgehub.cli.warehouse:ingest", "Validate a return and load it into the warehouse"),
    "rag": ("surgehub.cli.warehouse:rag", "RAG status of every locality for one activity date"),
    "db": ("surgehub.cli.warehouse:db", "Warehouse schema migrations"),
    "backfill": ("surgehub.cli.warehouse:backfill", "Replay archived returns in order of receipt"),
    "digest": ("surgehub.cli.digest:digest", "Build (and optionally send) the board or daily digest"),
    "mailserver": ("surgehub.cli.ops:mailserver", "Run the loopback SMTP server that keeps .eml files"),
    "health": ("surgehub.cli.ops:health", "Check the warehouse, migrations and landing zone"),
    "backup": ("surgehub.cli.ops:backup_cmd", "Back up the warehouse and the archive into a folder"),
    "restore": ("surgehub.cli.ops:restore_cmd", "Restore a backup into an empty warehouse and archive"),
    "serve": ("surgehub.cli.api:serve", "Serve the Submission API and the upload page"),
    "token": ("surgehub.cli.api:token", "Create, list and revoke localities' submission tokens"),
    "submit": ("surgehub.cli.api:submit", "Send a return to the Submission API"),
    "user": ("surgehub.cli.users:user", "People's accounts: add, list or disable (roles, locality)"),
    "hubs": ("surgehub.cli.hubs:hubs", "The hub register: list, add, rename or close a hub"),
    "plan": ("surgehub.cli.hubs:plan", "The commissioned plan per hub: set or list it"),
    "audit": ("surgehub.cli.hubs:audit", "Who changed what and when (the audit trail)"),
    "gx-docs": ("surgehub.cli.gx:gx_docs", "Great Expectations Data Docs from the stored validations"),
    "explain": ("surgehub.cli.explain:explain", "Everything behind one locality-day's status"),
    "verify-digest": (
        "surgehub.cli.explain:verify_digest",
        "Rebuild a sent digest and compare it with the mail",
    ),
    "resend-digest": (
        "surgehub.cli.explain:resend_digest",
        "Send a sent digest again, as sent, to one address (audited)",
    ),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target[0].split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a database error that reaches here is one plain line and exit 2, not a traceback."""
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if not type(exc).__module__.startswith(("sqlalchemy", "psycopg", "sqlite3")):
                raise
            from surgehub.warehouse.db import one_line

            click.echo(f"surgehub: warehouse error: {one_line(exc)}", err=True)
            raise SystemExit(2) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(name="surgehub", cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """surgehub: intake, validation, warehouse, RAG and digests for the GM winter surge hubs.

    Exit codes: 0 success, 1 a problem found in the work (e.g. a rejected return), 2 usage or
    configuration error. The warehouse is SURGEHUB_WAREHOUSE_URL (default: SQLite under var/).
    """


def main() -> None:
    cli(prog_name="surgehub")


if __name__ == "__main__":
    main()
