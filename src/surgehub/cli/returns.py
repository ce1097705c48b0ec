"""`surgehub validate`: check one return against the specification without loading it (interfaces.md)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from surgehub.cli.common import ExitCode, fail, instant, json_option, locality, resources, return_file_options

if TYPE_CHECKING:
    from pathlib import Path

    from surgehub.register import Register
    from surgehub.returns.result import ValidationResult


@click.command("validate")
@return_file_options
@json_option()
def validate(file: Path, locality_code: str, received_at: str | None, as_json: bool) -> None:
    """Check one return FILE against the common specification without loading it.

    Every error is listed (at most 50 a rule, with each rule's total), with its row, spreadsheet row,
    hub and date; the file's name is checked too (R16). Exit codes: 0 accepted, 1 rejected, 2 usage or
    configuration error.
    """
    code = locality(locality_code)
    at = instant("--received-at", received_at)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        fail(f"file not found: {file}")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    settings = resources().settings

    from surgehub.returns.guard import prestart
    from surgehub.returns.validate import validate_return

    prestart()  # the reader's guarded child starts while the validation stack is imported

    result = validate_return(
        data, locality=code, received_at=at, settings=settings, register=_register(), file_name=file.name
    )
    if as_json:
        click.echo(json.dumps(result.to_json_dict(), ensure_ascii=False))
    else:
        click.echo(_for_people(result, file, code))
    raise SystemExit(int(ExitCode.OK if result.accepted else ExitCode.PROBLEM))


def _register() -> Register | None:
    """The warehouse's register when there is a warehouse (judged as it stood at the receipt time);
    otherwise None: the register as shipped, said on stderr."""
    from surgehub.warehouse.db import WarehouseNotReady, check_ready
    from surgehub.warehouse.register import read_register

    try:
        return read_register(check_ready(resources().engine))
    except WarehouseNotReady:
        click.echo("note: no warehouse, so R05 and R06 use the hub register as shipped", err=True)
        return None


def _for_people(result: ValidationResult, file: Path, code: str) -> str:
    """The result as a table a person reads in a terminal (at most 50 findings a rule, then a count)."""
    lines = [
        f"{file.name}: {str(result.status).upper()} "
        f"({result.rows} data row{'s' if result.rows != 1 else ''}, locality {code}, "
        f"spec {result.spec_version})"
    ]
    counts = (
        ("Errors", result.errors, result.error_count),
        ("Warnings", result.warnings, result.warning_count),
    )
    for title, findings, count in counts:
        if not findings:
            continue
        lines += ["", f"{title} ({count}):", f"  {'rule':<5} {'row':>5} {'sheet':>6}  {'column':<22} message"]
        for f in findings:
            row = "-" if f.row is None else str(f.row)
            sheet = "-" if f.spreadsheet_row is None else str(f.spreadsheet_row)
            where = ", ".join(text for text in (f.hub_code, f.activity_date) if text)
            message = f"[{where}] {f.message}" if where else f.message
            lines.append(f"  {f.rule:<5} {row:>5} {sheet:>6}  {f.column or '-':<22} {message}")
    lines += [f"  {item.message}" for item in result.capped]
    if result.not_checked:
        lines += ["", "Not checked (a column they need is missing):"]
        lines += [f"  {item.message}" for item in result.not_checked]
    return "\n".join(lines)
