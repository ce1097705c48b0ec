"""Receipt emails: one per submission to each of the locality's contacts, built from the stored outcome."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.engine import Engine

from surgehub import reference
from surgehub.config import Settings
from surgehub.mail.compose import Mail
from surgehub.warehouse.tables import submission


def receipt_mails(engine: Engine, submission_ids: Sequence[int], settings: Settings) -> list[Mail]:
    """The receipt messages for these submissions (their outcome, errors and warnings as stored)."""
    from surgehub.returns.receipt import render_receipt
    from surgehub.returns.validate import Finding, ValidationResult

    if not submission_ids:
        return []
    with engine.connect() as conn:
        rows = conn.execute(
            select(submission).where(submission.c.submission_id.in_(list(submission_ids)))
        ).all()
    mails: list[Mail] = []
    for row in sorted(rows, key=lambda r: r.submission_id):
        result = ValidationResult(
            status="rejected" if row.outcome == "rejected" else "accepted",
            spec_version=row.spec_version,
            rows=row.data_rows,
            errors=[Finding(**e) for e in row.errors or []],
            warnings=[Finding(**w) for w in row.warnings or []],
            frame=None,
            r16_failed=bool(row.quarantined),
        )
        locality = reference.locality_by_code(row.sub_icb_code)
        subject, text, html = render_receipt(
            result,
            locality_code=row.sub_icb_code,
            locality_name=locality.name if locality else row.sub_icb_code,
            received_at=row.received_at,
            submission_id=row.submission_id,
            duplicate=row.outcome == "duplicate",
        )
        for recipient in settings.locality_contacts(row.sub_icb_code):
            mails.append(
                Mail(
                    kind="receipt",
                    period_key=f"submission:{row.submission_id}",
                    recipient=recipient,
                    sender=settings.email["from"],
                    subject=subject,
                    text=text,
                    html=html,
                )
            )
    return mails
