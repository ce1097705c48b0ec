"""`surgehub hubs add|rename|close|list`, `surgehub plan set|list` and `surgehub audit`: the hub register
and the commissioned plan as data, every change recorded with who made it and when (audit_event).

A change is seen by the next return received, digest or RAG run in every running process (nothing
caches the register). A hub may be added with past active dates (backdated, decision 0044): days
whose deadline had passed before it was recorded are not owed by the locality.
"""

from __future__ import annotations

import getpass
import json
from datetime import date
from typing import TYPE_CHECKING, Any

import click

from surgehub.cli import common
from surgehub.cli.common import ExitCode, fail
from surgehub.clock import to_london

if TYPE_CHECKING:
    from collections.abc import Callable

    from surgehub.register import DayKind


def _actor(by: str | None) -> str:
    """Who is making the change: --by, else the operating-system user (the admin page: the account)."""
    if by and by.strip():
        return by.strip()[:320]
    try:
        return f"os:{getpass.getuser()}"
    except Exception:  # no user name in this environment
        return "os:unknown"


def _day(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not a date (YYYY-MM-DD)")


def _by_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--by", "by", metavar="NAME", default=None, help="Who is making the change (default: your user name)."
    )(command)


def _note_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--note", default=None, metavar="TEXT", help="Why (kept with the change).")(command)


def _apply(change: Callable[[], Any]) -> Any:
    from surgehub.warehouse.register import RegisterError

    try:
        return change()
    except RegisterError as exc:
        fail(str(exc))


# -- hubs -------------------------------------------------------------------------------------------


@click.group("hubs")
def hubs() -> None:
    """The hub register: list it, add, rename or close a hub (each change audited)."""


@hubs.command("list")
@common.as_of_option("The register as it stood then (default now).")
@common.json_option("the register as JSON")
def hubs_list(as_of_text: str | None, as_json: bool) -> None:
    """Every hub in the register (as of a time), with its dates and when it was recorded."""
    from surgehub.warehouse.register import read_register

    at = common.instant("--as-of", as_of_text)
    view = read_register(common.warehouse(read_only=True)).as_of(at)
    facts = view.hub_facts
    if as_json:
        click.echo(
            json.dumps(
                {
                    "as_of": at.isoformat(),
                    "hubs": [
                        {
                            "hub_code": f.hub.hub_code,
                            "sub_icb_code": f.hub.sub_icb_code,
                            "hub_name": f.hub.name,
                            "active_from": f.hub.active_from.isoformat(),
                            "active_to": f.hub.active_to.isoformat(),
                            "change": str(f.change),
                            "recorded_at": f.recorded_at.isoformat(),
                            "recorded_by": f.recorded_by,
                        }
                        for f in facts
                    ],
                },
                ensure_ascii=False,
            )
        )
        return
    click.echo(f"{'hub':<9} {'loc':<4} {'active':<23} {'recorded':<17} name")
    for f in facts:
        h = f.hub
        recorded = "as shipped" if f.change == "seed" else f"{to_london(f.recorded_at):%Y-%m-%d %H:%M}"
        click.echo(
            f"{h.hub_code:<9} {h.sub_icb_code:<4} {h.active_from} to {h.active_to} {recorded:<17} {h.name}"
        )


@hubs.command("add")
@click.argument("hub_code")
@click.option("--locality", "locality_code", required=True, metavar="CODE", help="The hub's locality.")
@click.option("--name", required=True, help="The hub's name as the board reads it.")
@click.option(
    "--from", "active_from", required=True, metavar="YYYY-MM-DD", help="First active day (may be past)."
)
@click.option("--to", "active_to", required=True, metavar="YYYY-MM-DD", help="Last active day.")
@_note_option
@_by_option
def hubs_add(
    hub_code: str,
    locality_code: str,
    name: str,
    active_from: str,
    active_to: str,
    note: str | None,
    by: str | None,
) -> None:
    """Add HUB_CODE to the register. A past --from backdates it: days whose deadline had passed
    before now are not owed (never late or "no return"); returns for them are still taken. The dates
    lie within one configured season."""
    from surgehub.register import Hub
    from surgehub.warehouse import register

    code = common.locality(locality_code)
    hub = Hub(hub_code, code, name.strip(), _day("--from", active_from), _day("--to", active_to))
    resources = common.resources()
    at, seasons = resources.clock.now(), resources.settings.seasons
    engine = common.warehouse()
    fact = _apply(lambda: register.add_hub(engine, hub, actor=_actor(by), at=at, note=note, seasons=seasons))
    click.echo(
        f"added {fact.hub.hub_code} ({fact.hub.name}), active {fact.hub.active_from} to {fact.hub.active_to}"
    )


@hubs.command("rename")
@click.argument("hub_code")
@click.argument("name")
@_note_option
@_by_option
def hubs_rename(hub_code: str, name: str, note: str | None, by: str | None) -> None:
    """Give HUB_CODE a new NAME (its returns and dates are unchanged)."""
    from surgehub.warehouse import register

    at = common.resources().clock.now()
    engine = common.warehouse()
    fact = _apply(lambda: register.rename_hub(engine, hub_code, name, actor=_actor(by), at=at, note=note))
    click.echo(f"renamed {fact.hub.hub_code}: {fact.hub.name}")


@hubs.command("close")
@click.argument("hub_code")
@click.option("--last-day", required=True, metavar="YYYY-MM-DD", help="The hub's last active day.")
@_note_option
@_by_option
def hubs_close(hub_code: str, last_day: str, note: str | None, by: str | None) -> None:
    """Set HUB_CODE's last active day (earlier to close it, later to extend it), within its season."""
    from surgehub.warehouse import register

    day = _day("--last-day", last_day)
    resources = common.resources()
    at, seasons = resources.clock.now(), resources.settings.seasons
    engine = common.warehouse()
    fact = _apply(
        lambda: register.close_hub(engine, hub_code, day, actor=_actor(by), at=at, note=note, seasons=seasons)
    )
    click.echo(f"{fact.hub.hub_code} is active {fact.hub.active_from} to {fact.hub.active_to}")


# -- the commissioned plan ----------------------------------------------------------------------------


def _per_day(option: str, text: str) -> dict[DayKind, int]:
    """``mon=7,tue=7,...,sun=4[,bank_holiday=4]`` or one number for every weekday ("7")."""
    from surgehub.register import WEEKDAYS, DayKind

    text = text.strip()
    if text.isdigit():
        return dict.fromkeys(WEEKDAYS, int(text))
    found: dict[DayKind, int] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        name = name.strip().lower()
        name = "bank_holiday" if name in {"bh", "bank_holiday", "bank-holiday"} else name
        try:
            found[DayKind(name)] = int(value)
        except ValueError:
            fail(f"{option}: {part.strip()!r} is not DAY=COUNT (days: mon … sun, bank_holiday)")
    return found


@click.group("plan")
def plan() -> None:
    """The commissioned plan: what each hub is funded to offer per weekday (each change audited)."""


@plan.command("set")
@click.argument("hub_code")
@click.option("--from", "valid_from", required=True, metavar="YYYY-MM-DD", help="First day the plan applies.")
@click.option("--to", "valid_to", required=True, metavar="YYYY-MM-DD", help="Last day the plan applies.")
@click.option(
    "--sessions", required=True, metavar="mon=7,...,sun=4[,bank_holiday=N]", help="Sessions per day."
)
@click.option("--appointments", required=True, metavar="mon=130,...", help="Appointments offered per day.")
@_by_option
def plan_set(
    hub_code: str, valid_from: str, valid_to: str, sessions: str, appointments: str, by: str | None
) -> None:
    """Set HUB_CODE's commissioned plan for a date range (over any earlier plan on those days). Every
    weekday is needed; a bank holiday takes bank_holiday if given, else Sunday's."""
    from surgehub.register import Offer
    from surgehub.warehouse import register

    per_session, per_appt = _per_day("--sessions", sessions), _per_day("--appointments", appointments)
    if set(per_session) != set(per_appt):
        fail("--sessions and --appointments must name the same days")
    offers: dict[DayKind, Offer] = {k: Offer(per_session[k], per_appt[k]) for k in per_session}
    first, last = _day("--from", valid_from), _day("--to", valid_to)
    at = common.resources().clock.now()
    engine = common.warehouse()
    plan_input = register.PlanInput(hub_code=hub_code, valid_from=first, valid_to=last, offers=offers)
    fact = _apply(lambda: register.set_plan(engine, plan_input, actor=_actor(by), at=at))
    click.echo(f"commissioned plan set for {fact.hub_code}, {fact.valid_from} to {fact.valid_to}")


@plan.command("list")
@common.as_of_option("The plan as it stood then (default now).")
@common.json_option("the plan as JSON")
def plan_list(as_of_text: str | None, as_json: bool) -> None:
    """Every commissioned plan in force (as of a time): per hub and range, sessions/appointments a day."""
    from surgehub.register import DayKind
    from surgehub.warehouse.register import read_register

    at = common.instant("--as-of", as_of_text)
    plans = read_register(common.warehouse(read_only=True)).as_of(at).plans
    rows = [
        {
            "hub_code": p.hub_code,
            "valid_from": p.valid_from.isoformat(),
            "valid_to": p.valid_to.isoformat(),
            "sessions": {k.value: p.offer(k).sessions for k in DayKind},
            "appointments": {k.value: p.offer(k).appointments for k in DayKind},
            "recorded_at": p.recorded_at.isoformat(),
            "recorded_by": p.recorded_by,
        }
        for p in plans
    ]
    if as_json:
        click.echo(json.dumps({"as_of": at.isoformat(), "plans": rows}))
        return
    for row in rows:
        per_day = " ".join(f"{k[:3]} {row['sessions'][k]}/{row['appointments'][k]}" for k in row["sessions"])
        click.echo(f"{row['hub_code']:<9} {row['valid_from']} to {row['valid_to']}  {per_day}")
    click.echo("(sessions/appointments offered per day; bank holidays take 'ban', by default Sunday's)")


# -- audit ------------------------------------------------------------------------------------------


@click.command("audit")
@click.option(
    "--since", "since_text", metavar="ISO8601", default=None, help="Only events at or after this time."
)
@click.option(
    "--action", "action", metavar="PREFIX", default=None, help="Only actions starting so (e.g. hub.)."
)
@common.json_option("one JSON object per line")
def audit(since_text: str | None, action: str | None, as_json: bool) -> None:
    """Who changed what and when (append-only), oldest first."""
    from surgehub.warehouse.audit import events

    since = None if since_text is None else common.instant("--since", since_text)
    found = events(common.warehouse(read_only=True), since=since, action_prefix=action)
    for event in found:
        if as_json:
            click.echo(json.dumps(event.to_json_dict(), ensure_ascii=False))
        else:
            click.echo(
                f"{event.occurred_at:%Y-%m-%d %H:%M:%S}Z {event.actor:<20} {event.action:<12} {event.subject}"
            )
    if not found and not as_json:
        click.echo("no audit events")
    raise SystemExit(int(ExitCode.OK))
