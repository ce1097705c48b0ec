"""`surgehub mailserver`, `health`, `backup` and `restore`: running and safeguarding a deployment."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

import click

from surgehub.cli import common
from surgehub.cli.common import ExitCode, fail


@click.command()
@click.option("--port", type=int, default=8025, show_default=True, help="Port on 127.0.0.1.")
@click.option(
    "--outbox",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the .eml files (default: the data folder's mail/).",
)
def mailserver(port: int, outbox: Path | None) -> None:
    """Run a real SMTP server on 127.0.0.1 that keeps every message as an .eml file (until Ctrl-C)."""
    from surgehub.mail.server import LoopbackSmtpServer

    settings = common.resources().settings
    server = LoopbackSmtpServer(outbox or settings.outbox_dir, port=port)
    try:
        server.start()
    except OSError as exc:
        fail(f"cannot listen on 127.0.0.1:{port}: {exc}")
    click.echo(f"SMTP server on 127.0.0.1:{server.port}, keeping messages in {server.outbox}", err=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@click.command()
@common.json_option()
def health(as_json: bool) -> None:
    """Check the warehouse is reachable and migrated, the landing zone writable; show last ingest and digest.

    Exits 0 when every check passes, 1 when any fails.
    """
    from surgehub.health import check_health

    result = check_health(common.resources())
    if as_json:
        click.echo(json.dumps(result.to_json_dict(), indent=2))
    else:
        for name, check in result.checks.items():
            click.echo(f"{'ok  ' if check['ok'] else 'FAIL'}  {name:<10} {check['detail']}")
    sys.exit(ExitCode.OK if result.ok else ExitCode.PROBLEM)


@click.command("backup")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="New, empty folder.",
)
def backup_cmd(out_dir: Path) -> None:
    """Back up the warehouse (pg_dump, or SQLite's backup API) and the archive into a new folder."""
    from surgehub.backup import BackupError, backup

    resources = common.resources()
    try:
        manifest = backup(out_dir, resources)
    except BackupError as exc:
        fail(str(exc), ExitCode.PROBLEM)
    click.echo(f"backup written to {out_dir}: " + ", ".join(f"{k} {v}" for k, v in manifest.counts.items()))


@click.command("restore")
@click.argument("backup_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_cmd(backup_dir: Path) -> None:
    """Restore a backup into the configured warehouse and archive folder, which must both be empty."""
    from surgehub.backup import BackupError, restore

    resources = common.resources()
    try:
        counts = restore(backup_dir, resources)
    except BackupError as exc:
        fail(str(exc), ExitCode.PROBLEM)
    click.echo("restored: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
