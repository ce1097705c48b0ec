"""Chasing missing returns: a reminder at 09:30 and a chaser at the 11:00 deadline on each working day.

On working day W the hub-days due are those of the activity days whose deadline falls on W (on a
Monday: Friday, Saturday and Sunday). Each locality with any of them still outstanding (no accepted
version received by the run time) gets one email to its contacts, naming every hub and day it owes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, select_autoescape

from surgehub import clock, reference
from surgehub.accounts.recipients import locality_recipients
from surgehub.mail.compose import Mail
from surgehub.timeliness import deadline_for, is_working_day, next_working_day

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from surgehub.config import Settings


@dataclass(frozen=True)
class Owed:
    hub_code: str
    hub_name: str
    activity_date: date


def days_due_on(working_day: date, settings: Settings) -> list[date]:
    """The activity days whose deadline is on ``working_day`` (empty on a non-working day)."""
    if not is_working_day(working_day, settings):
        return []
    days = []
    candidate = working_day - timedelta(days=1)
    while next_working_day(candidate, settings) == working_day:
        if settings.season.start <= candidate <= settings.season.end:
            days.append(candidate)
        candidate -= timedelta(days=1)
    return sorted(days)


def outstanding(
    engine: Engine, working_day: date, as_of: datetime, settings: Settings
) -> dict[str, list[Owed]]:
    """Per locality, the hub-days due on ``working_day`` with no accepted version by ``as_of``, for the
    hubs active then in the register as it stands at ``as_of`` (a backdated hub-day is not owed)."""
    from surgehub.rag import compute_rag
    from surgehub.warehouse.register import read_register

    register = read_register(engine)
    names = register.as_of(as_of).hub_names()
    owed: dict[str, list[Owed]] = defaultdict(list)
    for day in days_due_on(working_day, settings):
        day_rag = compute_rag(engine, day, as_of, settings, register=register)
        for locality in day_rag.localities:
            for hub_day in locality.hubs:
                if hub_day.row is None and hub_day.owed:
                    owed[locality.sub_icb_code].append(
                        Owed(hub_day.hub_code, names.get(hub_day.hub_code, ""), day)
                    )
    return dict(owed)


_env = Environment(
    loader=PackageLoader("surgehub", "templates"),
    autoescape=select_autoescape(["html", "j2.html", "html.j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def chase_mails(engine: Engine, run_at: datetime, settings: Settings) -> tuple[str, list[Mail]]:
    """The reminder (before the deadline) or chaser (from the deadline) emails for a run at ``run_at``."""
    working_day = clock.london_day(run_at)
    if not is_working_day(working_day, settings):
        return "none", []
    due = days_due_on(working_day, settings)
    if not due:
        return "none", []
    deadline = deadline_for(due[0], settings)
    kind = "reminder" if run_at < deadline else "chaser"
    mails: list[Mail] = []
    for code, owed in outstanding(engine, working_day, run_at, settings).items():
        locality = reference.locality(code)
        context = {
            "kind": kind,
            "locality": locality,
            "owed": owed,
            "deadline": clock.to_london(deadline),
            "close": clock.to_london(deadline).replace(
                hour=settings.timeliness.close.hour, minute=settings.timeliness.close.minute
            ),
            "as_of": clock.to_london(run_at),
        }
        subject = (
            f"Reminder: surge hub return due by {context['deadline']:%H:%M} today — {locality.name}"
            if kind == "reminder"
            else f"Overdue: surge hub return missed the {context['deadline']:%H:%M} deadline — {locality.name}"
        )
        text = _env.get_template("chase.txt.j2").render(**context)
        html = _env.get_template("chase.html.j2").render(subject=subject, **context)
        for recipient in locality_recipients(engine, settings, code):
            mails.append(
                Mail(
                    kind=kind,
                    period_key=f"{kind}:{working_day.isoformat()}:{code}",
                    recipient=recipient,
                    sender=settings.email.sender,
                    reply_to=settings.email.reply_to,
                    message_id_domain=settings.email.message_id_domain,
                    subject=subject,
                    text=text,
                    html=html,
                )
            )
    return kind, mails
