"""Alerts that Airflow calls from the triggerer when a run misses its deadline."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)


async def late_run_alert(dag_id: str, **context: Any) -> None:
    """Email the operations list that a run of ``dag_id`` has not finished by its deadline."""
    await asyncio.to_thread(_send_late_run_alert, dag_id, context)


def _send_late_run_alert(dag_id: str, context: dict[str, Any]) -> None:
    from surgehub.mail.compose import Mail
    from surgehub.mail.send import send_all
    from surgehub.resources import Resources

    resources = Resources.from_env()  # an entry point: the triggerer calls this on its own
    settings, engine = resources.settings, resources.engine
    run = context.get("dag_run") or {}
    run_id = run.get("run_id") if isinstance(run, dict) else getattr(run, "run_id", None)
    run_id = run_id or resources.clock.now().isoformat()
    text = (
        f"The {dag_id} run {run_id} has not finished by its deadline.\n"
        "The board or the localities may be waiting for its emails. Check the run in the Airflow UI, "
        "and the DAG's documentation for what to do."
    )
    mails = [
        Mail(
            kind="alert",
            period_key=f"late:{dag_id}:{run_id}",
            recipient=recipient,
            sender=settings.email.sender,
            reply_to=settings.email.reply_to,
            message_id_domain=settings.email.message_id_domain,
            subject=f"[surgehub] {dag_id} is running late",
            text=text,
        )
        for recipient in settings.email.operations
    ]
    send_all(
        engine,
        mails,
        smtp_conn_id=settings.email.smtp_conn_id,
        clock=resources.clock,
        timeout=settings.email.smtp_timeout_seconds,
    )
    log.warning("late run alert sent for %s %s", dag_id, run_id)
