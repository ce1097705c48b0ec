"""What a locality has sent, on every channel, and the state of each return it sent over HTTP.

A return's state is worked out on each read, never stored, from the warehouse and the landing zone:
the warehouse submission whose locality and bytes match and whose receipt time is the API's (the
ingest keeps the API's receipt, see ``api_receipt_for``) or whose file name is the landing name is
"this one" (``loaded``, or ``rejected`` if the ingest judged otherwise); failing that, if the landing
file has gone and the same bytes were accepted from the locality, it was loaded as a duplicate of
those; otherwise it is still ``queued``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from surgehub.api.records import Outcome, State, iso
from surgehub.ingest import Channel
from surgehub.returns.result import ValidationResult
from surgehub.warehouse import submissions, uploads

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine, Row

#: What an API submission id looks like; anything else is not one (404, never an error).
API_ID = re.compile(r"^api-[0-9a-f]{16}$")


#: A warehouse submission id: ASCII digits, no sign, no leading zero, fewer than 19 (a 64-bit integer).
WAREHOUSE_ID = re.compile(r"[1-9][0-9]{0,17}", re.ASCII)


class Reader:
    """Reads a locality's submissions back, each in the JSON shape of the API's answers."""

    def __init__(self, *, engine: Engine, landing_dir: Path) -> None:
        self.engine = engine
        self.landing_dir = landing_dir

    def describe(self, row: Row[Any], warehouse: list[Row[Any]] | None = None) -> dict[str, Any]:
        """The JSON of an API submission: the ``validate`` JSON plus id, state and receipt.

        ``warehouse`` is the locality's submissions of the same bytes (read here when not given).
        """
        if warehouse is None:
            warehouse = submissions.submissions_of_bytes(self.engine, row.sub_icb_code, {row.sha256})
        state, behind = self._state(row, warehouse)
        body = dict(row.validation)
        if state == State.REJECTED and row.outcome == Outcome.ACCEPTED and behind is not None:
            # The pipeline's verdict differs from the answer given (e.g. a later receipt time): say so.
            body.update(stored_validation(behind), status="rejected")
        body.update(
            submission_id=row.api_submission_id,
            state=str(state),
            duplicate=bool(row.duplicate) or _loaded_as_a_duplicate(row, state, behind),
            locality=row.sub_icb_code,
            channel=Channel.API,
            file_name=row.file_name,
            received_at=iso(row.received_at),
            size_bytes=int(row.size_bytes),
            warehouse_submission_id=None if behind is None else int(behind.submission_id),
        )
        return body

    def _state(self, row: Row[Any], warehouse: list[Row[Any]]) -> tuple[State, Row[Any] | None]:
        """The state of an API submission and the warehouse submission behind it (or None)."""
        if row.outcome in (Outcome.REJECTED, Outcome.ERROR):
            linked = next((w for w in warehouse if w.submission_id == row.warehouse_submission_id), None)
            return State(row.outcome), linked
        same = [w for w in warehouse if w.sha256 == row.sha256]
        if row.warehouse_submission_id is not None:
            linked = next((w for w in same if w.submission_id == row.warehouse_submission_id), None)
            return State.LOADED, linked
        own = next((w for w in same if _is_this_receipt(row, w)), None)
        if own is not None:
            return (State.LOADED if own.outcome == "accepted" else State.REJECTED), own
        waiting = (
            row.landing_name is not None and (self.landing_dir / row.sub_icb_code / row.landing_name).exists()
        )
        accepted = next((w for w in same if w.outcome == "accepted"), None)
        if accepted is not None and not waiting:
            return State.LOADED, accepted  # loaded as a duplicate of the same bytes, accepted before
        return State.QUEUED, None

    def get(self, locality: str, submission_id: str) -> dict[str, Any] | None:
        """One submission of ``locality`` (an API id, or a warehouse submission number); None otherwise."""
        # ASCII only: str.isdigit() and \d also take "²" or "١", which int() reads or refuses.
        if not submission_id.isascii():
            return None
        if API_ID.fullmatch(submission_id):
            row = uploads.upload_of(self.engine, locality, submission_id)
            return None if row is None else self.describe(row)
        if WAREHOUSE_ID.fullmatch(submission_id):
            found = submissions.submission_of(self.engine, locality, int(submission_id))
            if found is None:
                return None
            # An upload's warehouse number answers as the upload: one reference, the api-… id.
            api_id = uploads.api_ids_of(self.engine, [found]).get(int(found.submission_id))
            upload = None if api_id is None else uploads.upload_of(self.engine, locality, api_id)
            return describe_warehouse(found) if upload is None else self.describe(upload)
        return None

    def submissions_of(self, locality: str, limit: int = 100) -> list[dict[str, Any]]:
        """The locality's submissions on every channel, newest first (API ones with their state)."""
        api_rows = uploads.uploads_of(self.engine, locality, limit)
        others = submissions.submissions_of(self.engine, locality, limit)
        warehouse = submissions.submissions_of_bytes(self.engine, locality, {r.sha256 for r in api_rows})
        items = [(r.received_at, 1, self.describe(r, warehouse)) for r in api_rows]
        shown = {i[2]["warehouse_submission_id"] for i in items if not i[2]["duplicate"]}
        items += [(w.received_at, 0, describe_warehouse(w)) for w in others if w.submission_id not in shown]
        items.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [item[2] for item in items[:limit]]


def _is_this_receipt(row: Row[Any], submission: Row[Any]) -> bool:
    """Whether a warehouse submission (of the same bytes) is the ingest of this API upload."""
    return submission.received_at == row.received_at or bool(
        row.landing_name and submission.file_name == row.landing_name
    )


def _loaded_as_a_duplicate(row: Row[Any], state: State, behind: Row[Any] | None) -> bool:
    """Whether a handed-over upload was loaded as a duplicate of an earlier submission of its bytes."""
    return (
        state == State.LOADED
        and behind is not None
        and bool(row.landing_name)
        and not _is_this_receipt(row, behind)
    )


def stored_validation(row: Row[Any]) -> dict[str, Any]:
    """A warehouse submission's outcome in the ``validate`` JSON shape (totals, not_checked, capped too)."""
    return ValidationResult.from_stored(
        outcome=row.outcome,
        spec_version=row.spec_version,
        rows=row.data_rows,
        errors=row.errors,
        warnings=row.warnings,
        totals=row.totals,
        not_checked=row.not_checked,
        coverage=row.coverage,
        quarantined=bool(row.quarantined),
    ).to_json_dict()


def describe_warehouse(row: Row[Any]) -> dict[str, Any]:
    """A warehouse submission (any channel) in the same JSON shape as an API submission."""
    state = {"accepted": State.LOADED, "rejected": State.REJECTED}.get(row.outcome, row.outcome)
    return {
        **stored_validation(row),
        "status": row.outcome,
        "submission_id": str(row.submission_id),
        "state": str(state),
        "duplicate": False,
        "locality": row.sub_icb_code,
        "channel": row.channel,
        "file_name": row.file_name,
        "received_at": iso(row.received_at),
        "size_bytes": int(row.size_bytes),
        "warehouse_submission_id": int(row.submission_id),
    }
