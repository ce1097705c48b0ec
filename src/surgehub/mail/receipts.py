"""Receipt emails: one per submission to each of the locality's contacts, built from the stored outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from surgehub import clock, reference
from surgehub.accounts.recipients import recipients_by_locality
from surgehub.mail.compose import Mail
from surgehub.warehouse import uploads
from surgehub.warehouse.tables import submission

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy.engine import Engine

    from surgehub.config import Settings


def receipt_mails(
    engine: Engine,
    submission_ids: Sequence[int],
    settings: Settings,
    duplicates: Sequence[dict[str, Any]] = (),
) -> list[Mail]:
    """The receipt messages for these submissions (their outcome, errors and warnings as stored).

    ``duplicates`` are re-sent files recognised as identical to an accepted one (spec §4): each gets
    its own receipt, keyed on its receipt time, saying nothing was loaded.
    """
    from surgehub.returns.receipt import misplaced_as, render_receipt
    from surgehub.returns.validate import ValidationResult
    from surgehub.warehouse.register import read_register

    wanted = set(submission_ids) | {int(d["submission_id"]) for d in duplicates}
    if not wanted:
        return []
    with engine.connect() as conn:
        rows = conn.execute(select(submission).where(submission.c.submission_id.in_(sorted(wanted)))).all()
    by_id = {row.submission_id: row for row in rows}
    references = uploads.api_ids_of(engine, rows)  # an upload's receipt shows the id it was answered with
    register = read_register(engine)
    jobs: list[tuple[Any, bool, datetime, str]] = [
        (by_id[i], False, by_id[i].received_at, f"submission:{i}")
        for i in sorted(submission_ids)
        if i in by_id
    ]
    for dup in duplicates:
        row = by_id.get(int(dup["submission_id"]))
        if row is not None:
            received = clock.parse_instant(str(dup["received_at"]))
            jobs.append((row, True, received, f"duplicate:{row.submission_id}:{received.isoformat()}"))
    mails: list[Mail] = []
    recipients = recipients_by_locality(engine, settings, {row.sub_icb_code for row, *_ in jobs})
    for row, duplicate, received_at, period_key in jobs:
        result = ValidationResult.from_stored(
            outcome="rejected" if row.outcome == "rejected" else "accepted",
            spec_version=row.spec_version,
            rows=row.data_rows,
            errors=row.errors,
            warnings=row.warnings,
            totals=row.totals,
            not_checked=row.not_checked,
            coverage=row.coverage,
            quarantined=bool(row.quarantined),
        )
        locality = reference.locality_by_code(row.sub_icb_code)
        misplaced = None
        if not result.accepted and not duplicate:  # does it look like another locality's return?
            misplaced = misplaced_as(result.coverage, row.sub_icb_code, register.as_of(row.received_at))
        subject, text, html = render_receipt(
            result,
            locality_code=row.sub_icb_code,
            locality_name=locality.name if locality else row.sub_icb_code,
            received_at=received_at,
            submission_id=references.get(row.submission_id, row.submission_id),
            file_name=row.file_name or "return",
            duplicate=duplicate,
            channel=row.channel,
            misplaced=misplaced,
            settings=settings,
        )
        for recipient in recipients[row.sub_icb_code.strip().upper()]:
            mails.append(
                Mail(
                    kind="receipt",
                    period_key=period_key,
                    recipient=recipient,
                    sender=settings.email.sender,
                    reply_to=settings.email.reply_to,
                    message_id_domain=settings.email.message_id_domain,
                    subject=subject,
                    text=text,
                    html=html,
                )
            )
    return mails
