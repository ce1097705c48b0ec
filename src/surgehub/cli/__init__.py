"""The `surgehub` command line: one group whose subcommands live beside the code they drive.

Subcommands are imported only when used, so `surgehub --help` stays fast (no pandas, no GX).
Exit codes for every command: 0 success, 1 the work found a problem (a rejected return),
2 usage or configuration error.
"""

from __future__ import annotations

import importlib

import click

#: name -> "module:attribute" of a click command. Each area registers its commands here.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("surgehub.cli.returns:validate", "Check one return against the specification"),
    "ingest": ("surgehub.commands_warehouse:ingest", "Validate a return and load it into the warehouse"),
    "rag": ("surgehub.commands_warehouse:rag", "RAG status of every locality for one activity date"),
    "db": ("surgehub.commands_warehouse:db", "Warehouse schema migrations"),
    "backfill": ("surgehub.commands_warehouse:backfill", "Replay archived returns in order of receipt"),
    "digest": ("surgehub.digest.commands:digest", "Build (and optionally send) the board or daily digest"),
    "mailserver": ("surgehub.commands_ops:mailserver", "Run the loopback SMTP server that keeps .eml files"),
    "health": ("surgehub.commands_ops:health", "Check the warehouse, migrations and landing zone"),
    "backup": ("surgehub.commands_ops:backup_cmd", "Back up the warehouse and the archive into a folder"),
    "restore": ("surgehub.commands_ops:restore_cmd", "Restore a backup into an empty warehouse and archive"),
    "serve": ("surgehub.api.commands:serve", "Serve the Submission API and the upload page"),
    "token": ("surgehub.api.commands:token", "Create, list and revoke localities' submission tokens"),
    "submit": ("surgehub.submit:submit", "Send a return to the Submission API"),
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

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """surgehub: intake, validation, warehouse, RAG and digests for the GM winter surge hubs.

    Exit codes: 0 success, 1 a problem found in the work (e.g. a rejected return), 2 usage or
    configuration error. The warehouse is SURGEHUB_WAREHOUSE_URL (default: SQLite under var/).
    """


def main() -> None:
    cli(prog_name="surgehub")


if __name__ == "__main__":
    main()
