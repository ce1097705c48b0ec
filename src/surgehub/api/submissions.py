"""Returns received over HTTP: validate at once, hand accepted files to the landing zone, say their state.

One validation path (``validate_return``, the same as every channel) and one loader (``ingest_returns``):

- **Rejected**: handed to ``ingest_returns`` at once with channel ``api`` and the request's arrival
  time, so the rejection is recorded and the file archived (or quarantined, R16) exactly as on the
  other channels. State ``rejected``.
- **Accepted**: nothing is loaded here. The API records the receipt (``api_submission``: locality,
  arrival time, sha256, the submitter's file name) and then writes the file atomically (hidden
  temporary name, then rename) into ``landing/<code>/`` under a name the system makes,
  ``api-<16 hex>.csv|xlsx``. The ingest DAG loads it from there, once: the warehouse is the only
  writer of versions. State ``queued`` until the warehouse holds the submission, then ``loaded``.
- **Duplicate** (the same bytes already accepted from the locality, or already queued here): the
  answer is accepted and marked duplicate, nothing new goes to landing (spec §4).

A return's state is worked out on each read, never stored, from the warehouse: the submission whose
locality and bytes match and whose receipt time is the API's (once the ingest uses the API's receipt,
see ``api_receipt_for``) or whose file name is the landing name (until then).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import tempfile
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from surgehub import clock, reference
from surgehub.config import Settings
from surgehub.files import write_atomically
from surgehub.warehouse import history, tables
from surgehub.warehouse.db import writer

log = logging.getLogger(__name__)

#: What an API submission id looks like; anything else is not one (404, never an error).
API_ID = re.compile(r"^api-[0-9a-f]{16}$")
#: What a landing file handed over by the API is called (system-made: the submitter's name never is).
LANDING_NAME = re.compile(r"^api-[0-9a-f]{16}\.(csv|xlsx)$")

ZIP_MAGIC = b"PK\x03\x04"


def new_api_id() -> str:
    return f"api-{secrets.token_hex(8)}"


def iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.isoformat().replace("+00:00", "Z")


def display_name(name: str | None) -> str:
    """The submitter's file name as shown back to them: its last path part, printable, at most 255."""
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return (cleaned or "return")[:255]


@dataclass
class Answer:
    """An HTTP status and the JSON body for a submission."""

    status_code: int
    body: dict[str, Any]


class Receiver:
    """Receives returns for one process. A lock makes the duplicate check and the hand-off one step."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self._handoff = threading.Lock()

    # -- receiving ---------------------------------------------------------------------------------

    def receive(
        self, *, locality: str, token_id: int, data: bytes, file_name: str | None, received_at: datetime
    ) -> Answer:
        """Validate ``data`` as a return from ``locality`` received at ``received_at``, and act on it."""
        from surgehub.returns.validate import validate_return

        name = display_name(file_name)
        sha256 = hashlib.sha256(data).hexdigest()

        def judged() -> dict[str, Any] | Answer:
            """The validation JSON of an accepted return, or the answer to a rejected one (recorded)."""
            validation = validate_return(
                data,
                locality=locality,
                received_at=received_at,
                settings=self.settings,
                history=history.history_lookup(self.engine, received_at),
            )
            if not validation.accepted:
                return self._reject(locality, token_id, data, name, sha256, received_at)
            return validation.to_json_dict()

        body: dict[str, Any] = {}
        if self._duplicate_of(locality, sha256) is None:  # validate outside the lock: it takes the time
            outcome = judged()
            if isinstance(outcome, Answer):
                return outcome
            body = outcome
        with self._handoff:
            original = self._duplicate_of(locality, sha256)
            api_id = new_api_id()
            if original is None and not body:  # the earlier copy vanished (an error): judge it after all
                outcome = judged()
                if isinstance(outcome, Answer):
                    return outcome
                body = outcome
            duplicate = original is not None
            if duplicate:
                body = {**original, "status": "accepted", "errors": []}
            extension = "xlsx" if data[:4] == ZIP_MAGIC else "csv"
            landing_name = None if duplicate else f"{api_id}.{extension}"
            row = self._record(
                api_id=api_id,
                locality=locality,
                token_id=token_id,
                received_at=received_at,
                sha256=sha256,
                name=name,
                landing_name=landing_name,
                size=len(data),
                outcome="accepted",
                duplicate=duplicate,
                validation=body,
            )
            if duplicate:
                return Answer(201, self.describe(row))
            try:
                self._hand_off(locality, landing_name, data)
            except OSError as exc:
                log.exception("could not hand %s to the landing zone", api_id)
                self._set_outcome(api_id, "error")
                return Answer(
                    503,
                    {
                        "error": f"the return could not be queued ({type(exc).__name__}); "
                        "nothing was kept: please send it again"
                    },
                )
        return Answer(201, self.describe(row))

    def _reject(
        self, locality: str, token_id: int, data: bytes, name: str, sha256: str, received_at: datetime
    ) -> Answer:
        """Record and archive a rejected return through the one ingest path (channel ``api``)."""
        from surgehub.ingest import Channel, IncomingReturn, ingest_returns
        from surgehub.resources import Resources

        scratch = self.settings.home / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=scratch) as folder:
            path = Path(folder) / "return"
            path.write_bytes(data)
            item = IncomingReturn(
                path=path, locality=locality, channel=Channel.API, received_at=received_at, file_name=name
            )
            [outcome] = ingest_returns([item], Resources.of(self.settings, engine=self.engine))
        api_id = new_api_id()
        if outcome.status == "error":
            log.error("rejected return from %s not recorded: %s", locality, outcome.error)
            return Answer(
                503, {"error": "the return could not be recorded; nothing was kept: please send it again"}
            )
        body = outcome.validation.to_json_dict()
        row = self._record(
            api_id=api_id,
            locality=locality,
            token_id=token_id,
            received_at=received_at,
            sha256=sha256,
            name=name,
            landing_name=None,
            size=len(data),
            outcome=outcome.status,
            duplicate=outcome.duplicate,
            validation=body,
            warehouse_submission_id=outcome.submission_id,
        )
        answer = self.describe(row)
        return Answer(201 if outcome.status == "accepted" else 422, answer)

    def _duplicate_of(self, locality: str, sha256: str) -> dict[str, Any] | None:
        """The validate JSON of the same bytes already accepted from the locality (queued or loaded).

        A queued copy counts only while its file waits in landing. The ingest commits before it moves
        a file away, so looking at landing first and the warehouse second cannot miss a copy that is
        between the two.
        """
        s = tables.submission
        a = tables.api_submission
        with self.engine.connect() as connection:
            candidates = connection.execute(
                select(a.c.validation, a.c.landing_name)
                .where(
                    a.c.sub_icb_code == locality,
                    a.c.sha256 == sha256,
                    a.c.outcome == "accepted",
                    a.c.duplicate.is_(False),
                    a.c.landing_name.is_not(None),
                )
                .order_by(a.c.received_at)
            ).all()
        folder = self.settings.landing_dir / locality
        queued = next((c for c in candidates if (folder / c.landing_name).exists()), None)
        if queued is not None:
            v = queued.validation
            return {
                "spec_version": v.get("spec_version"),
                "rows": v.get("rows"),
                "warnings": v.get("warnings", []),
            }
        with self.engine.connect() as connection:
            loaded = connection.execute(
                select(s.c.spec_version, s.c.data_rows, s.c.warnings)
                .where(s.c.sub_icb_code == locality, s.c.sha256 == sha256, s.c.outcome == "accepted")
                .order_by(s.c.received_at, s.c.arrival_seq)
                .limit(1)
            ).first()
        if loaded is None:
            return None
        return {
            "spec_version": loaded.spec_version,
            "rows": loaded.data_rows,
            "warnings": loaded.warnings or [],
        }

    def _record(
        self,
        *,
        api_id: str,
        locality: str,
        token_id: int,
        received_at: datetime,
        sha256: str,
        name: str,
        landing_name: str | None,
        size: int,
        outcome: str,
        duplicate: bool,
        validation: dict[str, Any],
        warehouse_submission_id: int | None = None,
    ) -> Any:
        values = {
            "api_submission_id": api_id,
            "sub_icb_code": locality,
            "token_id": token_id,
            "received_at": received_at,
            "sha256": sha256,
            "file_name": name,
            "landing_name": landing_name,
            "size_bytes": size,
            "outcome": outcome,
            "duplicate": duplicate,
            "validation": validation,
            "warehouse_submission_id": warehouse_submission_id,
        }
        with writer(self.engine).begin() as connection:
            connection.execute(tables.api_submission.insert().values(**values))
        with self.engine.connect() as connection:
            a = tables.api_submission
            return connection.execute(select(a).where(a.c.api_submission_id == api_id)).one()

    def _set_outcome(self, api_id: str, outcome: str) -> None:
        a = tables.api_submission
        with writer(self.engine).begin() as connection:
            connection.execute(a.update().where(a.c.api_submission_id == api_id).values(outcome=outcome))

    def _hand_off(self, locality: str, landing_name: str, data: bytes) -> Path:
        """Write the file into landing/<code>/ atomically: a hidden .tmp name (the watcher skips it), then rename."""
        folder = self.settings.landing_dir / locality
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / landing_name
        if target.parent != folder or not LANDING_NAME.match(target.name):  # made by us; checked anyway
            raise OSError(f"refusing landing name {landing_name!r}")
        write_atomically(target, data)
        return target

    # -- reading -----------------------------------------------------------------------------------

    def _warehouse_rows(self, locality: str, sha256s: set[str]) -> list[Any]:
        s = tables.submission
        if not sha256s:
            return []
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    select(s)
                    .where(s.c.sub_icb_code == locality, s.c.sha256.in_(sorted(sha256s)))
                    .order_by(s.c.received_at, s.c.arrival_seq)
                )
            )

    def _state(self, row: Any, warehouse: list[Any]) -> tuple[str, Any]:
        """The state of an API submission and the warehouse submission behind it (or None)."""
        if row.outcome in ("rejected", "error"):
            linked = next((w for w in warehouse if w.submission_id == row.warehouse_submission_id), None)
            return row.outcome, linked
        same = [w for w in warehouse if w.sha256 == row.sha256]
        if row.warehouse_submission_id is not None:
            linked = next((w for w in same if w.submission_id == row.warehouse_submission_id), None)
            return "loaded", linked
        own = next(
            (
                w
                for w in same
                if w.received_at == row.received_at or (row.landing_name and w.file_name == row.landing_name)
            ),
            None,
        )
        if own is not None:
            return ("loaded" if own.outcome == "accepted" else "rejected"), own
        waiting = (
            row.landing_name is not None
            and (self.settings.landing_dir / row.sub_icb_code / row.landing_name).exists()
        )
        accepted = next((w for w in same if w.outcome == "accepted"), None)
        if accepted is not None and not waiting:
            return "loaded", accepted  # loaded as a duplicate of the same bytes, accepted before
        return "queued", None

    def describe(self, row: Any, warehouse: list[Any] | None = None) -> dict[str, Any]:
        """The JSON of an API submission: the ``validate`` JSON plus id, state and receipt."""
        if warehouse is None:
            warehouse = self._warehouse_rows(row.sub_icb_code, {row.sha256})
        state, behind = self._state(row, warehouse)
        body = dict(row.validation)
        duplicate = bool(row.duplicate)
        if state == "rejected" and row.outcome == "accepted" and behind is not None:
            # The pipeline's verdict differs from the answer given (e.g. a later receipt time): say so.
            body.update(status="rejected", errors=behind.errors or [], warnings=behind.warnings or [])
        if (
            state == "loaded"
            and behind is not None
            and row.landing_name
            and behind.file_name != row.landing_name
            and behind.received_at != row.received_at
        ):
            duplicate = True
        body.update(
            submission_id=row.api_submission_id,
            state=state,
            duplicate=duplicate,
            locality=row.sub_icb_code,
            channel="api",
            file_name=row.file_name,
            received_at=iso(row.received_at),
            size_bytes=int(row.size_bytes),
            warehouse_submission_id=None if behind is None else int(behind.submission_id),
        )
        return body

    def get(self, locality: str, submission_id: str) -> dict[str, Any] | None:
        """One submission of ``locality`` (an API id, or a warehouse submission number); None otherwise."""
        a = tables.api_submission
        s = tables.submission
        if API_ID.match(submission_id):
            with self.engine.connect() as connection:
                row = connection.execute(
                    select(a).where(a.c.api_submission_id == submission_id, a.c.sub_icb_code == locality)
                ).first()
            return None if row is None else self.describe(row)
        if submission_id.isdigit() and len(submission_id) < 19:
            with self.engine.connect() as connection:
                row = connection.execute(
                    select(s).where(s.c.submission_id == int(submission_id), s.c.sub_icb_code == locality)
                ).first()
            return None if row is None else describe_warehouse(row)
        return None

    def submissions_of(self, locality: str, limit: int = 100) -> list[dict[str, Any]]:
        """The locality's submissions on every channel, newest first (API ones with their state)."""
        a = tables.api_submission
        s = tables.submission
        with self.engine.connect() as connection:
            api_rows = list(
                connection.execute(
                    select(a)
                    .where(a.c.sub_icb_code == locality)
                    .order_by(a.c.received_at.desc(), a.c.api_submission_id)
                    .limit(limit)
                )
            )
            others = list(
                connection.execute(
                    select(s)
                    .where(s.c.sub_icb_code == locality)
                    .order_by(s.c.received_at.desc(), s.c.arrival_seq.desc())
                    .limit(limit)
                )
            )
        warehouse = self._warehouse_rows(locality, {r.sha256 for r in api_rows})
        items = [(r.received_at, 1, self.describe(r, warehouse)) for r in api_rows]
        shown = {i[2]["warehouse_submission_id"] for i in items if not i[2]["duplicate"]}
        items += [(w.received_at, 0, describe_warehouse(w)) for w in others if w.submission_id not in shown]
        items.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [item[2] for item in items[:limit]]


def describe_warehouse(row: Any) -> dict[str, Any]:
    """A warehouse submission (any channel) in the same JSON shape as an API submission."""
    state = {"accepted": "loaded", "rejected": "rejected"}.get(row.outcome, row.outcome)
    return {
        "status": row.outcome,
        "spec_version": row.spec_version,
        "rows": row.data_rows,
        "errors": row.errors or [],
        "warnings": row.warnings or [],
        "submission_id": str(row.submission_id),
        "state": state,
        "duplicate": False,
        "locality": row.sub_icb_code,
        "channel": row.channel,
        "file_name": row.file_name,
        "received_at": iso(row.received_at),
        "size_bytes": int(row.size_bytes),
        "warehouse_submission_id": int(row.submission_id),
    }


# -- what a locality still owes ----------------------------------------------------------------------


def outstanding_hub_days(
    engine: Engine, locality: str, as_of: datetime, settings: Settings
) -> list[dict[str, Any]]:
    """Hub-days of the locality with no accepted version received by ``as_of`` that can still be sent.

    The days from ``revision_window_days`` before today (R07: the oldest day a return may cover) to
    yesterday, inside the season; each with its deadline and timeliness (PENDING or NO_RETURN).
    """
    from surgehub.rag import compute_rag
    from surgehub.timeliness import deadline_for

    today = clock.london_day(as_of)
    first = max(settings.season.start, today - timedelta(days=settings.timeliness.revision_window_days))
    last = min(settings.season.end, today - timedelta(days=1))
    names = {hub.hub_code: hub.name for hub in reference.hubs_of(locality)}
    owed: list[dict[str, Any]] = []
    day: date = first
    while day <= last:
        for hub_day in compute_rag(engine, day, as_of, settings).locality(locality).hubs:
            if hub_day.row is None:
                owed.append(
                    {
                        "activity_date": day.isoformat(),
                        "hub_code": hub_day.hub_code,
                        "hub_name": names.get(hub_day.hub_code, ""),
                        "deadline": iso(deadline_for(day, settings)),
                        "timeliness": str(hub_day.timeliness),
                    }
                )
        day += timedelta(days=1)
    return owed


# -- for the ingest DAG ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiReceipt:
    """What the API recorded on receiving a file it handed to the landing zone."""

    api_submission_id: str
    received_at: datetime
    file_name: str


def api_receipt_for(path: Path, locality: str, engine: Engine) -> ApiReceipt | None:
    """The API's receipt for a landing file it wrote, or None (any other file, or bytes that differ).

    For the ingest task: with it, an API return is ingested with channel ``api`` and the request's
    arrival time (spec §4), not the watcher's first sight of the file. Only a file whose name, folder
    and bytes match a recorded API submission qualifies, so a name copied into a drop folder by hand
    claims no earlier receipt time.
    """
    if not LANDING_NAME.match(path.name):
        return None
    a = tables.api_submission
    with engine.connect() as connection:
        row = connection.execute(
            select(a).where(a.c.landing_name == path.name, a.c.sub_icb_code == locality.upper())
        ).first()
    if row is None or hashlib.sha256(path.read_bytes()).hexdigest() != row.sha256:
        return None
    return ApiReceipt(row.api_submission_id, row.received_at, row.file_name)
