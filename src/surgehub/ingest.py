"""The one ingest entry point (CLI, DAGs, API hand-off, backfill): receive, keep, validate and load returns.

For each return, independently (one bad file never stops the others), spec §4 in this order:

1. Read the bytes and hash them (sha256).
2. The same receipt seen before (same locality, bytes and receipt time: a replay, e.g. backfill run
   twice) → its recorded outcome is returned and nothing is written.
3. The same bytes already ACCEPTED from the same locality → accepted and ``duplicate``, before any
   validation; nothing is written (no submission row, no archive copy): ``submission_id`` is the
   accepted original's, so resending an old file never undoes a later revision.
4. Validate (with the warehouse's history as it stood at the receipt time, for W05).
5. Keep the file unchanged with its receipt record: in the archive, or — when R16 fails — in the
   quarantine folder instead (the submission then keeps the finding, never the number).
6. One transaction: the submission row, and for an accepted return its rows as new versions.
   If keeping the file fails, nothing is loaded and the return is not acknowledged (``error``);
   if the transaction fails, the file this run kept is removed again, so the return can simply be
   ingested again — unless another run recorded this very receipt meanwhile (two runs taking the
   same file at once): then its record stands, its archive copy is kept, and this is a replay.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Engine

from surgehub import archive, clock
from surgehub.config import Settings, load_settings
from surgehub.returns.findings import Finding
from surgehub.returns.validate import Outcome, ValidationResult, validate_return
from surgehub.spec import SPEC_VERSION
from surgehub.warehouse import load, submissions
from surgehub.warehouse.db import ensure_warehouse, get_engine, writer

if TYPE_CHECKING:
    from surgehub.returns.batch import ValidationBatch

log = logging.getLogger(__name__)

CHANNELS = ("folder", "api", "cli", "backfill")


@dataclass(frozen=True)
class IncomingReturn:
    """One file to ingest: where it is, who sent it (from the channel, never the file), and when."""

    path: Path
    locality: str
    channel: str  # folder | api | cli | backfill
    received_at: datetime  # aware
    file_name: str | None = None  # the name the submitter gave it, when not the path's


@dataclass
class IngestOutcome:
    """What happened to one return. ``error`` set means it was NOT acknowledged (nothing loaded).

    ``validation`` is always present; for an error outcome it is an empty stand-in ("rejected", no
    findings) so callers can read it safely, but ``status`` says "error": leave the file where it is
    and try again, it was neither accepted nor rejected.
    """

    submission_id: int | None
    locality: str
    received_at: datetime
    duplicate: bool
    validation: ValidationResult
    archive_path: Path | None
    quarantined: bool
    error: str | None = None
    replayed: bool = False  # this exact receipt had been ingested before; nothing was written

    @property
    def status(self) -> Outcome | Literal["error"]:
        if self.error is not None:
            return "error"
        return self.validation.status

    def to_json_dict(self) -> dict[str, Any]:
        """The ``validate`` JSON plus ``submission_id`` and ``duplicate`` (interfaces.md), and context."""
        body = self.validation.to_json_dict()
        if self.error is not None:
            body["status"] = "error"
        body.update(
            submission_id=self.submission_id,
            duplicate=self.duplicate,
            locality=self.locality,
            received_at=self.received_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            quarantined=self.quarantined,
        )
        if self.error is not None:
            body["error"] = self.error
        return body


def ingest_returns(
    items: Sequence[IncomingReturn], *, settings: Settings | None = None, engine: Engine | None = None
) -> list[IngestOutcome]:
    """Ingest each return independently; one outcome per item, in the same order."""
    settings = settings if settings is not None else load_settings()
    outcomes: list[IngestOutcome] = []
    try:
        engine = engine if engine is not None else get_engine(settings.warehouse_url)
        ensure_warehouse(engine)
    except Exception as exc:  # the warehouse is unusable: no item can be acknowledged
        log.exception("warehouse not available for ingest")
        return [_failed(item, f"warehouse not available: {exc}") for item in items]
    batch = _batch(items, settings)
    for item in items:
        try:
            outcomes.append(_ingest_one(item, settings, engine, batch))
        except Exception as exc:  # one bad file never stops the others
            log.exception("could not ingest %s from %s", item.path.name, item.locality)
            outcomes.append(_failed(item, f"{type(exc).__name__}: {exc}"))
    return outcomes


def _batch(items: Sequence[IncomingReturn], settings: Settings) -> ValidationBatch | None:
    """Validate several returns in one vectorised pass (pandas' and GX's cost is mostly per call); None for one.

    Only what does not depend on order is done here (every rule but W05, which reads the warehouse as
    each receipt found it); each return is still checked for W05, archived and loaded on its own, in
    order. If the batch cannot be built, each return is validated alone instead.
    """
    if len(items) < 2:
        return None
    from surgehub.returns.batch import ValidationBatch  # pandas and GX: only when validating

    try:
        return ValidationBatch(
            [(item.path.read_bytes(), item.locality, item.received_at) for item in items], settings=settings
        )
    except Exception:  # e.g. a file vanished: fall back to one at a time, which reports it per item
        log.warning(
            "could not validate %d returns as a batch; validating each alone", len(items), exc_info=True
        )
        return None


def _failed(item: IncomingReturn, message: str) -> IngestOutcome:
    received = item.received_at.astimezone(UTC) if item.received_at.tzinfo else item.received_at
    stand_in = ValidationResult(
        status=Outcome.REJECTED, spec_version=SPEC_VERSION, rows=0, errors=[], warnings=[]
    )
    return IngestOutcome(None, item.locality.strip().upper(), received, False, stand_in, None, False, message)


def _stored_findings(items: Any) -> list[Finding]:
    return [Finding.from_dict(f) for f in items or []]


def _ingest_one(
    item: IncomingReturn, settings: Settings, engine: Engine, batch: ValidationBatch | None = None
) -> IngestOutcome:
    if item.channel not in CHANNELS:
        raise ValueError(f"unknown channel {item.channel!r}; one of {', '.join(CHANNELS)}")
    if item.received_at.tzinfo is None:
        raise ValueError("received_at must be an aware time")
    received_at = item.received_at.astimezone(UTC)
    locality = item.locality.strip().upper()
    file_name = item.file_name or item.path.name
    data = item.path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()

    known = submissions.receipt_of(engine, locality, sha256, received_at)
    if known is not None:
        return _replayed(known, locality, received_at, settings)
    original = submissions.accepted_original(engine, locality, sha256)
    if original is not None:
        validation = ValidationResult(
            status=Outcome.ACCEPTED,
            spec_version=original.spec_version,
            rows=original.data_rows,
            errors=[],
            warnings=_stored_findings(original.warnings),
        )
        return IngestOutcome(
            original.submission_id,
            locality,
            received_at,
            True,
            validation,
            _archive_path(settings, original.archive_path),
            False,
        )

    validation = validate_return(
        data,
        locality=locality,
        received_at=received_at,
        settings=settings,
        history=load.history_lookup(engine, received_at),
        batch=batch,
    )
    quarantined = validation.r16_failed
    receipt = archive.Receipt(
        locality, item.channel, received_at, sha256, file_name, len(data), validation.status
    )
    root = settings.quarantine_dir if quarantined else settings.archive_dir
    stored = archive.store(
        root, receipt, data, private=quarantined
    )  # ArchiveError: not acknowledged, nothing loaded
    try:
        submission_id = _record(engine, item, receipt, validation, stored, quarantined)
    except Exception:
        # Two runs may take the same file at once (overlapping ingest runs): the one that recorded
        # this receipt first wins, and the file it kept is the same one. Answer as a replay then,
        # and never remove what the other run recorded.
        winner = _known_after_failure(engine, locality, sha256, received_at)
        if winner is not None:
            log.info("%s from %s was recorded by another run meanwhile", file_name, locality)
            return _replayed(winner, locality, received_at, settings)
        archive.discard(stored)
        raise
    except BaseException:
        archive.discard(stored)
        raise
    return IngestOutcome(
        submission_id,
        locality,
        received_at,
        False,
        validation,
        None if quarantined else stored.path,
        quarantined,
    )


def _record(
    engine: Engine,
    item: IncomingReturn,
    receipt: archive.Receipt,
    validation: ValidationResult,
    stored: archive.Stored,
    quarantined: bool,
) -> int:
    """The submission row and, when accepted, its rows as versions: one transaction."""
    rows = (
        load.rows_from_frame(validation.frame) if validation.accepted and validation.frame is not None else []
    )
    with writer(engine).begin() as connection:
        submission_id = submissions.insert_submission(
            connection,
            sub_icb_code=receipt.locality,
            channel=item.channel,
            received_at=receipt.received_at,
            sha256=receipt.sha256,
            file_name=receipt.file_name[:255],
            size_bytes=receipt.size_bytes,
            outcome=validation.status,
            quarantined=quarantined,
            spec_version=validation.spec_version,
            data_rows=validation.rows,
            errors=[f.to_dict() for f in validation.errors],
            warnings=[f.to_dict() for f in validation.warnings],
            archive_path=None if quarantined else stored.relative.as_posix(),
            processed_at=clock.now(),
        )
        if rows:
            load.load_versions(
                connection,
                submission_id=submission_id,
                received_at=receipt.received_at,
                arrival_seq=submission_id,
                rows=rows,
            )
    return submission_id


def _known_after_failure(engine: Engine, locality: str, sha256: str, received_at: datetime) -> Any:
    """The submission recorded for this receipt by another run, if any, after our own insert failed."""
    try:
        return submissions.receipt_of(engine, locality, sha256, received_at)
    except Exception:  # the warehouse is unreachable: it cannot say, so treat it as not recorded
        log.warning("could not check whether another run recorded this receipt", exc_info=True)
        return None


def _archive_path(settings: Settings, relative: str | None) -> Path | None:
    return None if relative is None else settings.archive_dir / relative


def _replayed(known: Any, locality: str, received_at: datetime, settings: Settings) -> IngestOutcome:
    """The outcome recorded for this very receipt, from its submission row (nothing is written)."""
    if known.outcome == "accepted":
        validation = ValidationResult(
            status=Outcome.ACCEPTED,
            spec_version=known.spec_version,
            rows=known.data_rows,
            errors=[],
            warnings=_stored_findings(known.warnings),
        )
        duplicate = True
    else:
        validation = ValidationResult(
            status=Outcome.REJECTED,
            spec_version=known.spec_version,
            rows=known.data_rows,
            errors=_stored_findings(known.errors),
            warnings=_stored_findings(known.warnings),
            r16_failed=any(f.get("rule") == "R16" for f in known.errors or []),
        )
        duplicate = False
    return IngestOutcome(
        known.submission_id,
        locality,
        received_at,
        duplicate,
        validation,
        _archive_path(settings, known.archive_path),
        bool(known.quarantined),
        replayed=True,
    )
