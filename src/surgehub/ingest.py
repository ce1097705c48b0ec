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

Many returns in one call (a backfill chunk, an ingest run) are taken in steps, in order of receipt:
steps 1–4 for each (all but W05, which depends on what is loaded before it), then step 5 for all of
them, made durable together (`archive.KeptTogether`: one flush to disk for the lot), then step 6
for each in turn, with W05 judged just before its own transaction, on the warehouse as its receipt
found it. Whether a return is accepted or R16 does not depend on W05 (a warning), so where it is
kept is known before W05 is judged. A return whose bytes the same locality sent earlier in the same
call (a replay or a duplicate of it) is taken only after that earlier one is loaded, so every check
sees what came before it. Each return is still kept before it is loaded and loaded in its own
transaction; one that fails does not touch the others.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from surgehub import archive
from surgehub.identifiers import contains_nhs_number, mask
from surgehub.landing import plain_name
from surgehub.reference import normalise_code
from surgehub.returns.rules.file import size_problem
from surgehub.returns.rules.patients import name_finding
from surgehub.returns.validate import Outcome, ValidationResult, judge_received
from surgehub.spec import SPEC_VERSION
from surgehub.warehouse import history, load, submissions
from surgehub.warehouse.db import writer
from surgehub.warehouse.register import read_register

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from sqlalchemy import Engine, Row

    from surgehub.config import Settings
    from surgehub.gx.store import GxStore
    from surgehub.register import Register
    from surgehub.resources import Resources
    from surgehub.returns.batch import Judged, ValidationBatch

log = logging.getLogger(__name__)


class Channel(StrEnum):
    """How a return reached us (spec §4: the locality comes from the channel, never from the file)."""

    FOLDER = "folder"
    API = "api"
    CLI = "cli"
    BACKFILL = "backfill"


class IngestStatus(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ERROR = "error"  # not acknowledged: nothing was loaded; the file stays where it is for a retry


@dataclass(frozen=True, kw_only=True)
class IncomingReturn:
    """One file to ingest: where it is, who sent it (from the channel, never the file), and when."""

    path: Path
    locality: str
    channel: Channel
    received_at: datetime  # aware
    file_name: str | None = None  # the name the submitter gave it, when not the path's
    # the channel found an NHS number in the name as sent (R16) and passes only its masked form
    name_refused: bool = False
    content: Content | None = None  # already read by the channel (the drop folder); else read from path


@dataclass(frozen=True, kw_only=True)
class Content:
    """A return's bytes as a channel read them: ``data`` is None for a file over the size limit, which
    is never loaded into memory (spec §4: only its name, size and hash are kept)."""

    data: bytes | None
    size: int
    sha256: str

    @classmethod
    def of(cls, data: bytes) -> Content:
        return cls(data=data, size=len(data), sha256=hashlib.sha256(data).hexdigest())


@dataclass(frozen=True, kw_only=True)
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
    def status(self) -> IngestStatus:
        if self.error is not None:
            return IngestStatus.ERROR
        return IngestStatus(self.validation.status.value)

    def to_json_dict(self) -> dict[str, Any]:
        """The ``validate`` JSON plus ``submission_id`` and ``duplicate`` (interfaces.md), and context."""
        body = self.validation.to_json_dict()
        if self.error is not None:
            body["status"] = IngestStatus.ERROR.value
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


def ingest_returns(items: Sequence[IncomingReturn], resources: Resources) -> list[IngestOutcome]:
    """Ingest each return independently; one outcome per item, in the same order."""
    try:
        engine = resources.warehouse()
    except Exception as exc:  # the warehouse is unusable: no item can be acknowledged
        log.exception("warehouse not available for ingest")
        return [_failed(item, f"warehouse not available: {exc}") for item in items]
    try:
        register = read_register(engine)  # read afresh each run: a register change applies at once
    except Exception as exc:
        log.exception("hub register not available for ingest")
        return [_failed(item, f"hub register not available: {exc}") for item in items]
    gx_store = _gx_store(resources)
    contents = [_read(item) for item in items]
    batch = _batch(items, contents, resources.settings, register, gx_store)
    outcomes: list[IngestOutcome | None] = [None] * len(items)
    pending: list[_Pending] = []  # judged, not yet kept or loaded, in order of receipt
    converted: _ConvertedRows = {}  # the batch's accepted rows as Python values, converted once for all
    for index, (item, content) in enumerate(zip(items, contents, strict=True)):
        try:
            if isinstance(content, Exception):
                raise content
            same = (normalise_code(item.locality), content.sha256)
            if any((p.receipt.locality, p.receipt.sha256) == same for p in pending):
                # The same bytes from the same locality earlier in this call decide what this one is
                # (a replay, a duplicate): they are loaded first.
                _keep_and_load(pending, outcomes, resources, engine, converted)
            prepared = _prepare(index, item, content, resources, engine, batch, register, gx_store)
            if prepared is None:  # over the size limit: recorded at once, after those before it
                _keep_and_load(pending, outcomes, resources, engine, converted)
                prepared = _oversized(item, resources, engine, content, plain_name(_sent_name(item)))
        except Exception as exc:  # one bad file never stops the others
            log.exception("could not ingest %s from %s", mask(item.path.name), item.locality)
            outcomes[index] = _failed(item, f"{type(exc).__name__}: {exc}")
            continue
        if isinstance(prepared, _Pending):
            pending.append(prepared)
        else:
            outcomes[index] = prepared
    _keep_and_load(pending, outcomes, resources, engine, converted)
    return [outcome for outcome in outcomes if outcome is not None]


#: A validation batch's joint frames of accepted rows (by id) and their Python values (`load.Converted`).
_ConvertedRows = dict[int, load.Converted]


@dataclass(kw_only=True)
class _Pending:
    """A return judged (all but W05), to be kept and then loaded."""

    index: int
    item: IncomingReturn
    judged: Judged
    receipt: archive.Receipt
    data: bytes
    quarantined: bool
    stored: archive.Stored | None = None


def _keep_and_load(
    pending: list[_Pending],
    outcomes: list[IngestOutcome | None],
    resources: Resources,
    engine: Engine,
    converted: _ConvertedRows,
) -> None:
    """Keep every pending return's file, make them durable together, then load each in its own
    transaction, in order (``pending`` is emptied). A file that cannot be kept is an error (nothing
    loaded); if they cannot be made durable, none of them is loaded."""
    todo = list(pending)
    pending.clear()
    if not todo:
        return
    settings = resources.settings
    kept: list[_Pending] = []
    with archive.KeptTogether(len(todo)) as keeper:
        for p in todo:
            root = settings.quarantine_dir if p.quarantined else settings.archive_dir
            try:
                p.stored = keeper.store(root, p.receipt, p.data, private=p.quarantined)
            except Exception as exc:  # ArchiveError: not acknowledged, nothing loaded
                log.exception("could not keep %s from %s", mask(p.item.path.name), p.receipt.locality)
                outcomes[p.index] = _failed(p.item, f"{type(exc).__name__}: {exc}")
                continue
            kept.append(p)
        try:
            keeper.sync()
        except Exception as exc:
            log.exception("could not make %d kept file(s) durable", len(kept))
            for p in kept:
                archive.discard(p.stored)
                outcomes[p.index] = _failed(p.item, f"{type(exc).__name__}: {exc}")
            return
    for n, p in enumerate(kept):
        try:
            outcomes[p.index] = _load(p, resources, engine, converted)
        except Exception as exc:  # one bad file never stops the others
            log.exception("could not ingest %s from %s", mask(p.item.path.name), p.receipt.locality)
            outcomes[p.index] = _failed(p.item, f"{type(exc).__name__}: {exc}")
        except BaseException:  # interrupted: what is not loaded leaves nothing behind
            for later in kept[n + 1 :]:
                archive.discard(later.stored)
            raise


def _load(p: _Pending, resources: Resources, engine: Engine, converted: _ConvertedRows) -> IngestOutcome:
    """W05 on the warehouse as this receipt found it, then the one transaction (its kept file is
    removed again if anything fails before that transaction commits)."""
    values = None
    try:
        validation = p.judged.result(
            history.history_lookup(engine, p.receipt.received_at),
            _sent_name(p.item),
            name_refused=p.item.name_refused,
        )
        if validation.status != p.receipt.outcome or validation.r16_failed != p.quarantined:
            raise RuntimeError("the outcome changed after the file was kept")  # never: W05 is a warning
        if validation.frame is not None:
            values = _converted_values(p.judged, converted)
    except BaseException:
        archive.discard(p.stored)
        raise
    return _recorded_outcome(engine, resources, p.receipt, validation, p.stored, values)


def _converted_values(judged: Judged, converted: _ConvertedRows) -> dict[str, list[Any]] | None:
    """The return's accepted rows as Python values (all but the row numbers and warnings, W05's to add
    to), sliced from its batch's rows converted at once; None when it was judged alone (or the joint
    conversion failed): its rows are then converted on their own, as ever."""
    stacked = judged.stacked
    if stacked is None:
        return None
    joint = converted.get(id(stacked.frame))
    if joint is None or joint.frame is not stacked.frame:
        joint = converted[id(stacked.frame)] = load.Converted(stacked.frame)
    return joint.values(stacked.start, stacked.stop)


def _gx_store(resources: Resources) -> GxStore:
    """Where each validation's GX result is stored: the file context under the data folder (opened on
    first use). Data Docs are built from it once per ingest run (the DAG) or on demand, never here."""
    from surgehub.gx.store import GxStore

    return GxStore(home=resources.settings.home, now=resources.clock.now)


def _batch(
    items: Sequence[IncomingReturn],
    contents: Sequence[Content | Exception],
    settings: Settings,
    register: Register,
    gx_store: GxStore,
) -> ValidationBatch | None:
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
            [
                (c.data, item.locality, item.received_at)
                for c, item in zip(contents, items, strict=True)
                if isinstance(c, Content) and c.data is not None
            ],
            settings=settings,
            register=register,
            gx_store=gx_store,
        )
    except Exception:  # e.g. the reader failed: fall back to one at a time, which reports it per item
        log.warning(
            "could not validate %d returns as a batch; validating each alone", len(items), exc_info=True
        )
        return None


def _content(item: IncomingReturn) -> Content:
    """The item's bytes: as its channel read them, else from its path (CLI, API hand-off, backfill)."""
    return item.content if item.content is not None else Content.of(item.path.read_bytes())


def _read(item: IncomingReturn) -> Content | Exception:
    """`_content`, or what stopped it (e.g. the file vanished): that item alone fails."""
    try:
        return _content(item)
    except Exception as exc:
        return exc


def _sent_name(item: IncomingReturn) -> str:
    return item.file_name or item.path.name


def _failed(item: IncomingReturn, message: str) -> IngestOutcome:
    received = item.received_at.astimezone(UTC) if item.received_at.tzinfo else item.received_at
    return IngestOutcome(
        submission_id=None,
        locality=normalise_code(item.locality),
        received_at=received,
        duplicate=False,
        validation=ValidationResult.from_stored(
            outcome="rejected", spec_version=SPEC_VERSION, rows=0, errors=None, warnings=None
        ),
        archive_path=None,
        quarantined=False,
        error=message,
    )


def _recorded(known: Row[Any], *, with_errors: bool = True) -> ValidationResult:
    """The validation result recorded for a submission (findings, totals and not_checked as stored)."""
    return ValidationResult.from_stored(
        outcome=known.outcome,
        spec_version=known.spec_version,
        rows=known.data_rows,
        errors=known.errors if with_errors else None,
        warnings=known.warnings,
        totals=known.totals,
        not_checked=known.not_checked,
        coverage=known.coverage,
    )


def _prepare(
    index: int,
    item: IncomingReturn,
    content: Content,
    resources: Resources,
    engine: Engine,
    batch: ValidationBatch | None,
    register: Register,
    gx_store: GxStore,
) -> IngestOutcome | _Pending | None:
    """Steps 1–4 but W05: the final outcome of a replay or duplicate (nothing to write), None for a
    file over the size limit, else the judged return, to be kept and loaded."""
    settings = resources.settings
    channel = Channel(item.channel)  # ValueError for an unknown channel
    if item.received_at.tzinfo is None:
        raise ValueError("received_at must be an aware time")
    received_at = item.received_at.astimezone(UTC)
    locality = normalise_code(item.locality)
    # R16 is judged on the name as sent; it is stored, logged and used in archive names masked: a patient
    # number never leaves the quarantine.
    sent_name = _sent_name(item)
    file_name = plain_name(sent_name)
    sha256 = content.sha256

    # The replay and duplicate checks in one query (on the warehouse as it is now: never cached, so a
    # load by another run since is seen), on one snapshot: with two queries, another run taking this very
    # file could record it between the looks, and this receipt was then told "already received" as a
    # resend of itself (found by `make bench-stack`: one doubled receipt in 420).
    known, first_accepted = submissions.receipt_or_original(engine, locality, sha256, received_at)
    if known is not None:
        return _replayed(known, locality, received_at, settings)
    if content.data is None:
        return None
    data = content.data
    # R16 on the file's name comes first of all (spec §4): such a file is never "a duplicate".
    name_fails = item.name_refused or contains_nhs_number(sent_name)
    original = None if name_fails else first_accepted
    if original is not None:
        return IngestOutcome(
            submission_id=original.submission_id,
            locality=locality,
            received_at=received_at,
            duplicate=True,
            validation=_recorded(original, with_errors=False),
            archive_path=_archive_path(settings, original.archive_path),
            quarantined=False,
        )

    judged = judge_received(
        data,
        locality=locality,
        received_at=received_at,
        settings=settings,
        batch=batch,
        register=register,
        gx_store=gx_store,
    )
    status, quarantined = judged.verdict(sent_name, name_refused=item.name_refused)
    receipt = archive.Receipt(
        locality=locality,
        channel=channel,
        received_at=received_at,
        sha256=sha256,
        file_name=file_name,
        size_bytes=len(data),
        outcome=status,
    )
    return _Pending(
        index=index, item=item, judged=judged, receipt=receipt, data=data, quarantined=quarantined
    )


def _oversized(
    item: IncomingReturn, resources: Resources, engine: Engine, content: Content, file_name: str
) -> IngestOutcome:
    """A file over the size limit, never loaded (spec §4): F01, no archive copy; name, size and hash kept.

    A name holding a patient number is R16 as well (judged first of all): the file then goes to the
    quarantine, copied by streaming, and never to rejected/.
    """
    settings = resources.settings
    too_big = size_problem(content.size, settings.limits.max_file_bytes)
    errors = [too_big] if too_big is not None else []
    named = name_finding(item.file_name or item.path.name, refused=item.name_refused)
    quarantined = named is not None
    if named is not None:
        errors.insert(0, named)
    validation = ValidationResult(
        status=Outcome.REJECTED,
        spec_version=SPEC_VERSION,
        rows=0,
        errors=errors,
        warnings=[],
        r16_failed=quarantined,
    )
    receipt = archive.Receipt(
        locality=normalise_code(item.locality),
        channel=Channel(item.channel),
        received_at=item.received_at.astimezone(UTC),
        sha256=content.sha256,
        file_name=file_name,
        size_bytes=content.size,
        outcome=validation.status,
    )
    stored = archive.store_stream(settings.quarantine_dir, receipt, item.path) if quarantined else None
    log.info(
        "%s from %s: over the size limit (%d bytes): refused unread",
        file_name,
        receipt.locality,
        content.size,
    )
    return _recorded_outcome(engine, resources, receipt, validation, stored)


def _recorded_outcome(
    engine: Engine,
    resources: Resources,
    receipt: archive.Receipt,
    validation: ValidationResult,
    stored: archive.Stored | None,
    values: dict[str, list[Any]] | None = None,
) -> IngestOutcome:
    """Record the submission (and load an accepted one); a kept file is removed again if that fails.
    ``values``: the accepted rows converted already with the rest of their batch (`load.Converted`)."""
    locality, sha256, received_at = receipt.locality, receipt.sha256, receipt.received_at
    file_name, settings = receipt.file_name, resources.settings
    quarantined = validation.r16_failed
    try:
        submission_id = _record(engine, resources.clock.now(), receipt, validation, stored, values)
    except Exception:
        # Two runs may take the same file at once (overlapping ingest runs): the one that recorded
        # this receipt first wins, and the file it kept is the same one. Answer as a replay then,
        # and never remove what the other run recorded.
        winner = _known_after_failure(engine, locality, sha256, received_at)
        if winner is not None:
            log.info("%s from %s was recorded by another run meanwhile", mask(file_name), locality)
            return _replayed(winner, locality, received_at, settings)
        archive.discard(stored)
        raise
    except BaseException:
        archive.discard(stored)
        raise
    return IngestOutcome(
        submission_id=submission_id,
        locality=locality,
        received_at=received_at,
        duplicate=False,
        validation=validation,
        archive_path=None if quarantined or stored is None else stored.path,
        quarantined=quarantined,
    )


def _record(
    engine: Engine,
    processed_at: datetime,
    receipt: archive.Receipt,
    validation: ValidationResult,
    stored: archive.Stored | None,
    values: dict[str, list[Any]] | None = None,
) -> int:
    """The submission row and, when accepted, its rows as versions: one transaction."""
    quarantined = validation.r16_failed
    frame = validation.frame if validation.accepted else None
    rows = None if frame is None else load.rows_from_frame(frame, values)
    with writer(engine).begin() as connection:
        submission_id = submissions.insert_submission(
            connection,
            sub_icb_code=receipt.locality,
            channel=receipt.channel,
            received_at=receipt.received_at,
            sha256=receipt.sha256,
            file_name=mask(receipt.file_name)[:255],  # the quarantine's receipt keeps the name as sent
            size_bytes=receipt.size_bytes,
            outcome=validation.status,
            quarantined=quarantined,
            spec_version=validation.spec_version,
            data_rows=validation.rows,
            errors=[f.to_dict() for f in validation.errors],
            warnings=[f.to_dict() for f in validation.warnings],
            totals=validation.totals,
            not_checked=[item.to_dict() for item in validation.not_checked],
            coverage=validation.coverage.to_dict(),
            archive_path=None if quarantined or stored is None else stored.relative.as_posix(),
            processed_at=processed_at,
        )
        if rows is not None:
            load.load_versions(
                connection,
                submission_id=submission_id,
                received_at=receipt.received_at,
                arrival_seq=submission_id,
                rows=rows,
            )
    return submission_id


def _known_after_failure(
    engine: Engine, locality: str, sha256: str, received_at: datetime
) -> Row[Any] | None:
    """The submission recorded for this receipt by another run, if any, after our own insert failed."""
    try:
        return submissions.receipt_of(engine, locality, sha256, received_at)
    except Exception:  # the warehouse is unreachable: it cannot say, so treat it as not recorded
        log.warning("could not check whether another run recorded this receipt", exc_info=True)
        return None


def _archive_path(settings: Settings, relative: str | None) -> Path | None:
    return None if relative is None else settings.archive_dir / relative


def _replayed(known: Row[Any], locality: str, received_at: datetime, settings: Settings) -> IngestOutcome:
    """The outcome recorded for this very receipt, from its submission row (nothing is written)."""
    accepted = known.outcome == "accepted"
    validation = _recorded(known, with_errors=not accepted)
    return IngestOutcome(
        submission_id=known.submission_id,
        locality=locality,
        received_at=received_at,
        duplicate=accepted,
        validation=validation,
        archive_path=_archive_path(settings, known.archive_path),
        quarantined=bool(known.quarantined),
        replayed=True,
    )
