"""What every `surgehub` command shares: exit codes, one way to fail, the resources, and option parsing.

Exit codes (README, interfaces.md): 0 success, 1 the work found a problem (e.g. a rejected return),
2 usage or configuration error. Errors go to stderr in plain words, prefixed with the command.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from surgehub import clock

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine

    from surgehub.resources import Resources


class ExitCode(IntEnum):
    OK = 0
    PROBLEM = 1  # the work found a problem: a rejected return, a failed check
    USAGE = 2  # usage or configuration error (also: nothing could be acknowledged)


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> NoReturn:
    """Print ``surgehub <command>: message`` on stderr and exit with ``code``."""
    context = click.get_current_context(silent=True)
    prefix = context.command_path if context is not None else "surgehub"
    click.echo(f"{prefix}: {message}", err=True)
    raise SystemExit(int(code))


def resources() -> Resources:
    """This invocation's settings, engine and clock, built once (a configuration error exits 2)."""
    from surgehub.config import ConfigError
    from surgehub.resources import Resources

    context = click.get_current_context()
    root = context.find_root()
    if not isinstance(root.obj, Resources):
        try:
            root.obj = Resources.from_env()
        except ConfigError as exc:
            fail(f"configuration error: {exc}")
    return root.obj


def warehouse(*, read_only: bool = False) -> Engine:
    """The warehouse engine; a warehouse that cannot be used exits 2 with one line saying why.

    A command that writes gets a warehouse migrated to head (created if it is new). A ``read_only``
    command never creates or migrates one: it says what to run instead (`surgehub db upgrade`).
    """
    from surgehub.warehouse import db

    found = resources()
    shown = found.engine.url.render_as_string(hide_password=True)
    try:
        return db.check_ready(found.engine) if read_only else found.warehouse()
    except db.WarehouseNotReady as exc:
        fail(str(exc))
    except Exception as exc:
        fail(f"the warehouse {shown} is not usable: {db.one_line(exc)}")


def actor(by: str | None = None) -> str:
    """Who is making a change from the command line: ``by`` if given, else the operating-system user."""
    import getpass

    if by and by.strip():
        return by.strip()[:320]
    try:
        return f"os:{getpass.getuser()}"
    except Exception:  # no user name in this environment
        return "os:unknown"


def instant(option: str, text: str | None) -> datetime:
    """An ``--as-of``/``--received-at`` value (no offset: Europe/London); now when not given."""
    if text is None:
        return resources().clock.now()
    try:
        return clock.parse_instant(text)
    except ValueError:
        fail(f"{option} {text!r} is not an ISO 8601 time (e.g. 2026-11-25T09:00)")


def locality(text: str) -> str:
    """A known locality code, normalised (unknown: a usage error naming the known codes)."""
    from surgehub import reference

    found = reference.locality_by_code(text)
    if found is None:
        known = ", ".join(loc.sub_icb_code for loc in reference.localities())
        fail(f"unknown locality {text!r}; use one of {known}")
    return found.sub_icb_code


# -- options several commands share, written once ---------------------------------------------------

_Command = TypeVar("_Command", bound=Callable[..., Any])


def return_file_options(command: _Command) -> _Command:
    """FILE, --locality CODE and --received-at ISO8601: a return as a channel would hand it over."""
    command = click.option(
        "--received-at",
        "received_at",
        metavar="ISO8601",
        default=None,
        help="Receipt time (default now; a time without an offset is Europe/London).",
    )(command)
    command = click.option(
        "--locality",
        "locality_code",
        required=True,
        metavar="CODE",
        help="The submitting locality's sub-ICB code.",
    )(command)
    return click.argument("file", type=click.Path(dir_okay=False, path_type=Path))(command)


def json_option(what: str = "one JSON object") -> Callable[[_Command], _Command]:
    """--json: print ``what`` on stdout instead of lines for people."""
    return click.option("--json", "as_json", is_flag=True, help=f"Print {what} on stdout.")


def as_of_option(help_text: str) -> Callable[[_Command], _Command]:
    """--as-of ISO8601 (default now; a time without an offset is Europe/London)."""
    return click.option("--as-of", "as_of_text", metavar="ISO8601", default=None, help=help_text)
