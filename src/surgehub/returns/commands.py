"""`surgehub validate`: check one return against the specification without loading it (interfaces.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from surgehub import clock, reference


def _fail_usage(message: str) -> None:
    click.echo(f"surgehub validate: {message}", err=True)
    sys.exit(2)


@click.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--locality", "locality", required=True, metavar="CODE", help="The submitting locality's sub-ICB code."
)
@click.option(
    "--received-at",
    "received_at",
    metavar="ISO8601",
    default=None,
    help="Receipt time (default now; a time without an offset is Europe/London).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def validate(file: Path, locality: str, received_at: str | None, as_json: bool) -> None:
    """Check one return FILE against the common specification without loading it.

    Exit codes: 0 accepted, 1 rejected, 2 usage or configuration error.
    """
    code = locality.strip().upper()
    if reference.locality_by_code(code) is None:
        known = ", ".join(loc.sub_icb_code for loc in reference.localities())
        _fail_usage(f"unknown locality {locality!r}; use one of {known}")
    if received_at is None:
        instant = clock.now()
    else:
        try:
            instant = clock.parse_instant(received_at)
        except ValueError:
            _fail_usage(f"--received-at {received_at!r} is not an ISO 8601 time (e.g. 2026-11-25T09:00)")
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        _fail_usage(f"file not found: {file}")
    except OSError as exc:
        _fail_usage(f"cannot read {file}: {exc.strerror or exc}")

    from surgehub.config import ConfigError, load_settings
    from surgehub.returns.validate import validate_return

    try:
        settings = load_settings()
    except ConfigError as exc:
        _fail_usage(f"configuration error: {exc}")
    result = validate_return(data, locality=code, received_at=instant, settings=settings)
    if as_json:
        click.echo(json.dumps(result.to_json_dict(), ensure_ascii=False))
    else:
        click.echo(_human(result, file, code))
    sys.exit(0 if result.status == "accepted" else 1)


def _human(result: object, file: Path, locality: str) -> str:
    from surgehub.returns.validate import ValidationResult

    assert isinstance(result, ValidationResult)
    lines = [
        f"{file.name}: {result.status.upper()} "
        f"({result.rows} data row{'s' if result.rows != 1 else ''}, locality {locality}, "
        f"spec {result.spec_version})"
    ]
    for title, findings in (("Errors", result.errors), ("Warnings", result.warnings)):
        if not findings:
            continue
        lines.append("")
        lines.append(f"{title} ({len(findings)}):")
        lines.append(f"  {'rule':<5} {'row':>5}  {'column':<22} message")
        for f in findings:
            row = "-" if f.row is None else str(f.row)
            lines.append(f"  {f.rule:<5} {row:>5}  {f.column or '-':<22} {f.message}")
    return "\n".join(lines)
