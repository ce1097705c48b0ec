"""Returns received over HTTP: validate at once, hand accepted files to the landing zone, answer.

One validation path (``validate_return``, the same as every channel) and one loader (``ingest_returns``):

- **Rejected**: handed to ``ingest_returns`` at once with channel ``api`` and the request's arrival
  time, so the rejection is recorded and the file archived (or quarantined, R16) exactly as on the
  other channels. State ``rejected``.
- **Accepted**: nothing is loaded here. The API records the receipt (``api_submission``: locality,
  arrival time, sha256, the submitter's file name) and then writes the file atomically (hidden
  temporary name, then rename) into ``landing/<code>/`` under a name the system makes,
  ``api-<16 hex>.csv|xlsx``. The ingest DAG loads it from there, once: the warehouse is the only
  writer of versions. State ``queued`` until the warehouse holds the submission, then ``loaded``
  (``surgehub.api.states``).
- **Duplicate** (the same bytes already accepted from the locality, or already queued here): the
  answer is accepted and marked duplicate, nothing new goes to landing (spec §4).

``api_receipt_for`` gives the ingest task the API's receipt of a landing file it wrote.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from surgehub.api.joint import Joint
from surgehub.api.records import Answer, Outcome
from surgehub.api.states import Reader
from surgehub.files import write_atomically
from surgehub.identifiers import contains_nhs_number, mask
from surgehub.ingest import Channel, IncomingReturn, ingest_returns
from surgehub.returns.validate import validate_return
from surgehub.warehouse import submissions, uploads
from surgehub.warehouse.history import history_lookup
from surgehub.warehouse.register import read_register

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy import Engine, Row

    from surgehub.register import Register
    from surgehub.resources import Resources
    from surgehub.returns.batch import ValidationBatch

log = logging.getLogger(__name__)

#: What a landing file handed over by the API is called (system-made: the submitter's name never is).
LANDING_NAME = re.compile(r"^api-[0-9a-f]{16}\.(csv|xlsx)$")

ZIP_MAGIC = b"PK\x03\x04"


def new_api_id() -> str:
    return f"api-{secrets.token_hex(8)}"


def display_name(name: str | None) -> str:
    """The submitter's file name as shown back to them: its last path part, printable, at most 255."""
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return (cleaned or "return")[:255]


@dataclass(frozen=True, kw_only=True)
class Arrival:
    """One upload as it arrived: who sent it (from the token), its bytes, name and receipt time."""

    locality: str
    token_id: int | None  # None: sent by a signed-in person
    data: bytes
    name: str  # the submitter's file name (``display_name``): R16 is judged on it; stored and shown masked
    sha256: str
    received_at: datetime
    sent_by: str | None = None  # "account:<email>" or "token:<prefix>"


class Receiver:
    """Receives returns for one process. A lock makes the duplicate check and the hand-off one step."""

    def __init__(self, *, resources: Resources) -> None:
        self.resources = resources
        self.settings = resources.settings
        self.engine = resources.engine
        self.reader = Reader(engine=self.engine, landing_dir=self.settings.landing_dir)
        self._handoff = threading.Lock()
        #: Uploads waiting to be validated at the same moment share one pass (`surgehub.api.joint`).
        self.joint: Joint[Arrival, tuple[ValidationBatch | None, Register]] = Joint(self._judge_together)

    def receive(
        self,
        *,
        locality: str,
        token_id: int | None,
        data: bytes,
        file_name: str | None,
        received_at: datetime,
        sent_by: str | None = None,
    ) -> Answer:
        """Validate ``data`` as a return from ``locality`` received at ``received_at``, and act on it."""
        arrival = Arrival(
            locality=locality,
            token_id=token_id,
            data=data,
            name=display_name(file_name),
            sha256=hashlib.sha256(data).hexdigest(),
            received_at=received_at,
            sent_by=sent_by,
        )
        body: dict[str, Any] | None = None
        # R16 on the file's name comes first of all (spec §4): such a file is judged, never a duplicate.
        if contains_nhs_number(arrival.name) or self._duplicate_of(locality, arrival.sha256) is None:
            # validate outside the lock: it takes time
            verdict = self._judge(arrival)
            if isinstance(verdict, Answer):
                return verdict
            body = verdict
        with self._handoff:
            return self._queue(arrival, body)

    def _judge(self, arrival: Arrival) -> dict[str, Any] | Answer:
        """The validation JSON of an accepted return, or the answer to a rejected one (recorded).

        Judged in one pass with the other uploads waiting at the same moment (``_judge_together``);
        W05 (the warehouse's history as of this receipt) and R16 on the name are this return's own.
        """
        batch, register = self.joint.run(arrival)
        validation = validate_return(
            arrival.data,
            locality=arrival.locality,
            received_at=arrival.received_at,
            settings=self.settings,
            history=history_lookup(self.engine, arrival.received_at),
            batch=batch,
            register=register,
            file_name=arrival.name,
        )
        if validation.r16_failed:
            return self._quarantine_later(arrival, validation.to_json_dict())
        if not validation.accepted:
            return self._reject(arrival)
        return validation.to_json_dict()

    def _judge_together(self, arrivals: Sequence[Arrival]) -> list[tuple[ValidationBatch | None, Register]]:
        """One validation pass over the uploads waiting together (`ValidationBatch`: the same answer
        for each as alone, for the cost of about one), against the register read afresh, after they
        all arrived (a register change applies to the next return). Should the joint pass fail, each
        return is judged alone (no batch), as it would have been without the others."""
        from surgehub.returns.batch import ValidationBatch

        register = read_register(self.engine)
        try:
            batch = ValidationBatch(
                [(a.data, a.locality, a.received_at) for a in arrivals],
                settings=self.settings,
                register=register,
            )
        except Exception:
            log.exception("the joint validation of %d upload(s) failed: each is judged alone", len(arrivals))
            batch = None
        return [(batch, register)] * len(arrivals)

    def _queue(self, arrival: Arrival, body: dict[str, Any] | None) -> Answer:
        """Under the hand-off lock: record an accepted return and hand it to landing, or mark it a duplicate."""
        original = self._duplicate_of(arrival.locality, arrival.sha256)
        if original is not None:
            validation = {**original, "status": "accepted", "errors": []}
        elif body is not None:
            validation = body
        else:  # the earlier copy vanished (an error): judge it after all
            verdict = self._judge(arrival)
            if isinstance(verdict, Answer):
                return verdict
            validation = verdict
        api_id = new_api_id()
        extension = "xlsx" if arrival.data[:4] == ZIP_MAGIC else "csv"
        landing_name = None if original is not None else f"{api_id}.{extension}"
        row = self._record(
            arrival,
            api_id=api_id,
            landing_name=landing_name,
            outcome=Outcome.ACCEPTED,
            duplicate=original is not None,
            validation=validation,
        )
        if landing_name is None:  # a duplicate: nothing new goes to landing
            return Answer(status_code=201, body=self.reader.describe(row))
        try:
            self._hand_off(arrival.locality, landing_name, arrival.data)
        except OSError as exc:
            log.exception("could not hand %s to the landing zone", api_id)
            uploads.set_upload_outcome(self.engine, api_id, Outcome.ERROR)
            return Answer(
                status_code=503,
                body={
                    "error": f"the return could not be queued ({type(exc).__name__}); "
                    "nothing was kept: please send it again"
                },
            )
        return Answer(status_code=201, body=self.reader.describe(row))

    def _quarantine_later(self, arrival: Arrival, validation: dict[str, Any]) -> Answer:
        """A return that appears to hold an NHS number (R16): answered 422 at once, and handed to landing
        for a worker to record and quarantine. The API never holds the quarantine (spec §4: operators
        only), so it writes nothing there; the worker's ingest keeps the API's receipt time."""
        with self._handoff:
            api_id = new_api_id()
            extension = "xlsx" if arrival.data[:4] == ZIP_MAGIC else "csv"
            landing_name = f"{api_id}.{extension}"
            row = self._record(
                arrival,
                api_id=api_id,
                landing_name=landing_name,
                outcome=Outcome.REJECTED,
                duplicate=False,
                validation=validation,
            )
            try:
                self._hand_off(arrival.locality, landing_name, arrival.data)
            except OSError:
                log.exception("could not hand %s to the landing zone", api_id)
                uploads.set_upload_outcome(self.engine, api_id, Outcome.ERROR)
                return Answer(
                    status_code=503,
                    body={
                        "error": "the return could not be recorded; nothing was kept: please send it again"
                    },
                )
        return Answer(status_code=422, body=self.reader.describe(row))

    def _reject(self, arrival: Arrival) -> Answer:
        """Record and archive a rejected return through the one ingest path (channel ``api``)."""
        scratch = self.settings.home / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=scratch) as folder:
            path = Path(folder) / "return"
            path.write_bytes(arrival.data)
            incoming = IncomingReturn(
                path=path,
                locality=arrival.locality,
                channel=Channel.API,
                received_at=arrival.received_at,
                file_name=arrival.name,
            )
            [outcome] = ingest_returns([incoming], self.resources)
        api_id = new_api_id()
        if outcome.status == "error":
            log.error("rejected return from %s not recorded: %s", arrival.locality, outcome.error)
            return Answer(
                status_code=503,
                body={"error": "the return could not be recorded; nothing was kept: please send it again"},
            )
        row = self._record(
            arrival,
            api_id=api_id,
            landing_name=None,
            outcome=Outcome(outcome.status),
            duplicate=outcome.duplicate,
            validation=outcome.validation.to_json_dict(),
            warehouse_submission_id=outcome.submission_id,
        )
        status_code = 201 if outcome.status == "accepted" else 422
        return Answer(status_code=status_code, body=self.reader.describe(row))

    def _duplicate_of(self, locality: str, sha256: str) -> dict[str, Any] | None:
        """The validate JSON of the same bytes already accepted from the locality (queued or loaded).

        A queued copy counts only while its file waits in landing. The ingest commits before it moves
        a file away, so looking at landing first and the warehouse second cannot miss a copy that is
        between the two.
        """
        folder = self.settings.landing_dir / locality
        candidates = uploads.handed_over(self.engine, locality, sha256)
        queued = next((c for c in candidates if (folder / c.landing_name).exists()), None)
        if queued is not None:
            v = queued.validation
            return {
                "spec_version": v.get("spec_version"),
                "rows": v.get("rows"),
                "warnings": v.get("warnings", []),
                "totals": {r: n for r, n in (v.get("totals") or {}).items() if r.startswith("W")},
                "not_checked": v.get("not_checked", []),
                "coverage": v.get("coverage"),
            }
        loaded = submissions.accepted_original(self.engine, locality, sha256)
        if loaded is None:
            return None
        return {
            "spec_version": loaded.spec_version,
            "rows": loaded.data_rows,
            "warnings": loaded.warnings or [],
            "totals": {r: n for r, n in (loaded.totals or {}).items() if r.startswith("W")},
            "not_checked": loaded.not_checked or [],
            "coverage": loaded.coverage,
        }

    def _record(
        self,
        arrival: Arrival,
        *,
        api_id: str,
        landing_name: str | None,
        outcome: Outcome,
        duplicate: bool,
        validation: dict[str, Any],
        warehouse_submission_id: int | None = None,
    ) -> Row[Any]:
        upload = uploads.NewUpload(
            api_submission_id=api_id,
            sub_icb_code=arrival.locality,
            token_id=arrival.token_id,
            received_at=arrival.received_at,
            sha256=arrival.sha256,
            file_name=mask(arrival.name),  # stored and shown back masked (R16): never a patient number
            landing_name=landing_name,
            size_bytes=len(arrival.data),
            outcome=outcome,
            duplicate=duplicate,
            validation=validation,
            warehouse_submission_id=warehouse_submission_id,
            sent_by=arrival.sent_by,
        )
        return uploads.record_upload(self.engine, upload)

    def _hand_off(self, locality: str, landing_name: str, data: bytes) -> None:
        """Write the file into landing/<code>/ atomically: a hidden .tmp name (the watcher skips it), then rename."""
        folder = self.settings.landing_dir / locality
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / landing_name
        if target.parent != folder or not LANDING_NAME.match(target.name):  # made by us; checked anyway
            raise OSError(f"refusing landing name {landing_name!r}")
        write_atomically(target, data)


# -- for the ingest task ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ApiReceipt:
    """What the API recorded on receiving a file it handed to the landing zone."""

    api_submission_id: str
    received_at: datetime
    file_name: str  # masked
    name_refused: bool  # the name as sent held an NHS number (R16): the worker cannot see it, only this


def api_receipt_for(name: str, sha256: str, locality: str, engine: Engine) -> ApiReceipt | None:
    """The API's receipt for a landing file it wrote, or None (any other file, or bytes that differ).

    For the ingest task, which has read the file safely (``surgehub.landing.read_landed``) and passes
    its name and hash: with it, an API return is ingested with channel ``api`` and the request's
    arrival time (spec §4), not the watcher's first sight of the file. Only a file whose name, folder
    (``locality``, a normalised code) and bytes match a recorded API submission qualifies, so a name
    copied into a drop folder by hand claims no earlier receipt time.
    """
    if not LANDING_NAME.match(name):
        return None
    row = uploads.upload_landed_as(engine, name, locality)
    if row is None or sha256 != row.sha256:
        return None
    errors = (row.validation or {}).get("errors") or []
    return ApiReceipt(
        api_submission_id=row.api_submission_id,
        received_at=row.received_at,
        file_name=row.file_name,
        name_refused=any(e.get("rule") == "R16" and e.get("column") == "file" for e in errors),
    )
