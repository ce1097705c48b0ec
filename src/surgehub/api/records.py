"""The small records the Submission API's modules share: an answer, a submission's state and outcome.

The enums are `StrEnum`s, so they are their strings in JSON and SQL (``State.QUEUED == "queued"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """What the API answered when it received an upload (the `api_submission.outcome` column)."""

    ACCEPTED = "accepted"  # valid: queued in landing, or a duplicate of bytes already accepted
    REJECTED = "rejected"  # invalid: recorded and archived through the ingest at once
    ERROR = "error"  # accepted, but it could not be handed to landing: nothing was kept


class State(StrEnum):
    """Where a submission stands now (worked out on each read, never stored)."""

    QUEUED = "queued"  # accepted, waiting in the landing zone
    LOADED = "loaded"  # in the warehouse
    REJECTED = "rejected"
    ERROR = "error"  # could not be handed over; nothing was kept


@dataclass(frozen=True, kw_only=True)
class Answer:
    """An HTTP status and the JSON body for a submission (or ``{"error": …}``)."""

    status_code: int
    body: dict[str, Any]


def iso(instant: datetime | None) -> str | None:
    """An instant as the API writes it: ISO 8601 in UTC with a ``Z``."""
    return None if instant is None else instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
