"""Running every rule over one or many returns at once: read each, stack the tables, judge, split back.

pandas and GX cost mostly per call, not per row (GX ~0.13 s a call here, whatever the size), so a
backfill, or a run carrying many files, validates its returns together: their text tables are stacked
with row numbers made unique per return, typed once, run through the GX suite once, and the rules
that depend on the sender and the receipt day take each row's own. The findings are then split back
to each return's own row numbers. A single return is a batch of one: there is one implementation.
W05 is left to each return (`Judged.result`): it reads the warehouse as that return's receipt found
it, which depends on the returns loaded before it, in order.
"""

from __future__ import annotations

import gc
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from surgehub import reference, spec
from surgehub.clock import LONDON
from surgehub.returns import listing
from surgehub.returns.findings import Finding, sort_key
from surgehub.returns.gx_runtime import ReturnTag
from surgehub.returns.read import RawReturn, read_return, read_returns
from surgehub.returns.result import (
    Coverage,
    Outcome,
    UnknownLocality,
    ValidationResult,
    receipt_day,
    sender_code,
)
from surgehub.returns.rows import RowContext
from surgehub.returns.rules.arithmetic import with_derived_columns
from surgehub.returns.rules.cells import type_cells
from surgehub.returns.rules.comments import comment_findings
from surgehub.returns.rules.gx import suite_findings
from surgehub.returns.rules.identity import Sender, identity_findings
from surgehub.returns.rules.patients import name_finding, table_findings
from surgehub.returns.rules.warnings import (
    HistoryLookup,
    HistoryRows,
    history_rows,
    spike_findings,
    warning_findings,
    warning_masks,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from surgehub.config import Settings
    from surgehub.register import Register, RegisterView
    from surgehub.returns.gx_runtime import ResultStore
    from surgehub.returns.rules.checks import IntArray

#: What a batch keeps an answer under: (sha256 of the bytes, sender, London day of receipt).
_Key = tuple[str, str, date]


@dataclass(frozen=True, eq=False)
class Stacked:
    """Where a return's accepted rows are in its pass's joint frame of accepted rows (one frame, shared
    by the pass's returns): rows ``start:stop``, with every value of the return's own ``frame`` but
    the row numbers (the joint pass's) and the warnings. The loader converts the joint frame once
    for all its returns (`warehouse.load.Converted`)."""

    frame: pd.DataFrame
    start: int
    stop: int


@dataclass(frozen=True, kw_only=True)
class Judged:
    """One return's findings from a (joint) pass: everything but W05 and R16 on the file's name.

    ``errors`` and ``warnings`` are every finding, in row order (the answer lists at most 50 a rule);
    ``history_rows`` is None when the row rules did not run (a file rule stopped them).
    """

    rows: int
    errors: list[Finding]
    warnings: list[Finding]
    frame: pd.DataFrame | None  # the accepted rows for loading, when there are no errors
    history_rows: HistoryRows | None
    missing: tuple[str, ...] = ()
    context: RowContext | None = None
    coverage: Coverage = field(default_factory=Coverage)
    stacked: Stacked | None = field(default=None, repr=False)  # ``frame``'s rows in the joint pass's

    def result(
        self, history: HistoryLookup | None, file_name: str | None = None, *, name_refused: bool = False
    ) -> ValidationResult:
        """The answer: W05 added when the warehouse's history is given and R16 on ``file_name``; at
        most 50 findings listed a rule, with totals; the rules not checked; every text masked."""
        errors, warnings, frame = self.errors, self.warnings, self.frame
        w05 = history is not None and self.history_rows is not None  # W05 is judged here, or not at all
        if history is not None and self.history_rows is not None and "W05" not in self._skipped():
            spikes = spike_findings(self.history_rows, history)
            if spikes:
                warnings = sorted([*warnings, *spikes], key=sort_key)
                if frame is not None:
                    frame = _with_warning_rules(frame, spikes)
        if (named := name_finding(file_name, refused=name_refused)) is not None:
            errors = sorted([named, *errors], key=sort_key)
        counted: dict[str, int] = {}
        listed_errors, listed_warnings = self._listed(errors, counted), self._listed(warnings, counted)
        totals = dict(sorted(counted.items()))
        not_checked = listing.not_checked(self.missing, w05=w05) if self.history_rows is not None else []
        return ValidationResult(
            status=Outcome.REJECTED if errors else Outcome.ACCEPTED,
            spec_version=spec.SPEC_VERSION,
            rows=self.rows,
            errors=listed_errors,
            warnings=listed_warnings,
            frame=None if errors else frame,
            r16_failed="R16" in totals,
            totals=totals,
            not_checked=not_checked,
            coverage=self.coverage,
        )

    def verdict(self, file_name: str | None = None, *, name_refused: bool = False) -> tuple[Outcome, bool]:
        """(accepted or rejected, whether R16 failed): what `result` says whatever the history, since
        W05 only adds warnings. The ingest keeps the file (archive or quarantine) on this, before W05."""
        named = name_finding(file_name, refused=name_refused)
        errors = self.errors if named is None else [named, *self.errors]
        r16 = any(f.rule == "R16" for f in (*errors, *self.warnings))
        return (Outcome.REJECTED if errors else Outcome.ACCEPTED), r16

    def _skipped(self) -> set[str]:
        return {item.rule for item in listing.not_checked(self.missing, w05=True)}

    def _listed(self, findings: list[Finding], totals: dict[str, int]) -> list[Finding]:
        """The first 50 findings of each rule, with their place in the file, every text masked; each
        rule's count added to ``totals``."""
        shown = listing.first_of_each_rule(findings, totals)
        if self.context is not None:
            shown = self.context.place(shown)
        return [f.masked() for f in shown]


class ValidationBatch:
    """Many returns judged in ONE vectorised pass; each return's findings are still its own.

    Built from (bytes, sending locality, receipt time) triples; `validate_return(..., batch=...)` then
    takes what the joint pass found for the same bytes, sender and receipt day. A return from an
    unknown locality is left out (validate_return raises UnknownLocality for it, as alone). Each return
    is judged against the register as it stood at its receipt: returns received under the same register
    share one pass (the usual case: the register changes a few times a season). With ``gx_store``, each
    pass's GX result is stored there (one result a pass; each return's rows named by its ``return_id``).
    """

    def __init__(
        self,
        returns: Sequence[tuple[bytes, str, datetime]],
        *,
        settings: Settings,
        register: Register | None = None,
        gx_store: ResultStore | None = None,
    ) -> None:
        self._entries: dict[_Key, Judged] = {}
        register = register or reference.shipped_register()  # as validate_return: as shipped
        pending: list[tuple[RegisterView, dict[_Key, RawReturn]]] = []
        tags: dict[_Key, ReturnTag] = {}
        to_read: list[tuple[bytes, dict[_Key, RawReturn], _Key, datetime]] = []
        seen: set[tuple[_Key, int]] = set()  # each key read once per group of the same register facts
        for data, locality, received_at in returns:
            view = register.as_of(received_at if received_at.tzinfo else received_at.replace(tzinfo=LONDON))
            try:
                code = sender_code(locality, view)
            except UnknownLocality:
                continue
            key = (hashlib.sha256(data).hexdigest(), code, receipt_day(received_at))
            same_view = _same_facts(pending, view)
            if (key, id(same_view)) in seen:
                continue
            seen.add((key, id(same_view)))
            to_read.append((data, same_view, key, received_at))
        # Every file read in one request to the parse guard's child (each still on its own limits).
        reads = read_returns(
            [data for data, _, _, _ in to_read],
            max_file_bytes=settings.limits.max_file_bytes,
            max_data_rows=settings.limits.max_data_rows,
        )
        for (_, same_view, key, received_at), raw in zip(to_read, reads, strict=True):
            if raw.table is None:
                self._entries[key] = _unreadable(raw)
            else:
                same_view[key] = raw
                tags[key] = ReturnTag.of(key[1], _aware(received_at), key[0])
        pending = [(view, group) for view, group in pending if group]  # not a group of unreadable files
        for view, reads in pending:
            senders = [(code, day) for _, code, day in reads]
            judged = judge_tables(
                list(reads.values()),
                senders,
                settings,
                view,
                gx_store=gx_store,
                tags=[tags[key] for key in reads],
            )
            self._entries.update(zip(reads, judged, strict=True))

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, data: bytes, locality: str, received_at: datetime) -> Judged | None:
        """What the joint pass found for these bytes from this sender on this receipt day, else None."""
        key = (hashlib.sha256(data).hexdigest(), reference.normalise_code(locality), receipt_day(received_at))
        return self._entries.get(key)


def _same_facts(
    pending: list[tuple[RegisterView, dict[_Key, RawReturn]]], view: RegisterView
) -> dict[_Key, RawReturn]:
    """The group of returns judged under the same register facts as ``view`` (whatever its instant)."""
    for known, group in pending:
        if known.hub_facts == view.hub_facts and known.localities == view.localities:
            return group
    group: dict[_Key, RawReturn] = {}
    pending.append((view, group))
    return group


def judge_return(
    data: bytes,
    sender: Sender,
    settings: Settings,
    register: RegisterView,
    *,
    gx_store: ResultStore | None = None,
    received_at: datetime | None = None,
) -> Judged:
    """One return's bytes read (F01–F06, R16 in every cell) and, when its rows can be judged, judged
    (a batch of one) against the register as it stood at its receipt. With ``gx_store`` (and the
    exact ``received_at``), the GX result is stored there."""
    raw = read_return(
        data, max_file_bytes=settings.limits.max_file_bytes, max_data_rows=settings.limits.max_data_rows
    )
    if raw.table is None:
        return _unreadable(raw)
    tags = None
    if gx_store is not None and received_at is not None:
        tags = [ReturnTag.of(sender[0], _aware(received_at), hashlib.sha256(data).hexdigest())]
    [judged] = judge_tables([raw], [sender], settings, register, gx_store=gx_store, tags=tags)
    return judged


def _aware(instant: datetime) -> datetime:
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=LONDON)


def read_table(table: pd.DataFrame) -> RawReturn:
    """A text table as read.py builds it, as if read from a file (no file rule applies): R16 on its cells."""
    return RawReturn(
        format=None,
        rows=len(table),
        table=table,
        patient=table_findings(table),
        context=RowContext.of_table(table),
    )


def _unreadable(raw: RawReturn) -> Judged:
    """A return whose rows cannot be judged (F01, F04, F05, F06, not a return): its file findings, and R16
    in any cell that could be read (spec §3, docs/decisions/0052)."""
    return Judged(
        rows=raw.rows,
        errors=sorted([*raw.errors, *raw.patient], key=sort_key),
        warnings=[],
        frame=None,
        history_rows=None,
        missing=raw.missing,
        context=raw.context,
    )


def judge_tables(
    reads: Sequence[RawReturn],
    senders: Sequence[Sender],
    settings: Settings,
    register: RegisterView,
    *,
    gx_store: ResultStore | None = None,
    tags: Sequence[ReturnTag] | None = None,
) -> list[Judged]:
    """Every rule but W05 over all ``reads`` at once (each with its text table, as read.py builds it;
    ``senders``: each return's (locality, receipt day)). With ``gx_store`` and ``tags`` (each return's
    name), the GX suite's result is stored there."""
    tables = [read.table for read in reads if read.table is not None]
    if len(tables) != len(reads):
        raise ValueError("judge_tables needs a table for every return")
    sizes = np.array([len(table) for table in tables], dtype=np.int64)
    files: IntArray = np.repeat(np.arange(len(tables), dtype=np.int64), sizes)  # each row's return
    combined, offsets = _stacked(tables)
    # What each return names, judged before the typed table exists: its row-long temporaries (~50 MB for
    # a million rows) then come on top of less (it was the validation's peak, after the findings).
    coverages = [Coverage.of_cells(table["activity_date"], table["hub_code"]) for table in tables]

    with _collector_paused():
        typed = type_cells(combined)
        t = typed.frame
        derived = with_derived_columns(t)
        masks = warning_masks(t)
        errors = [
            *typed.findings,
            *identity_findings(t, files, senders, settings, register),
            *suite_findings(derived, files, offsets, store=gx_store, tags=tags),
            *comment_findings(t, masks),
        ]
        errors_by_file = _split(errors, offsets)
        warnings_by_file = _split(warning_findings(t, masks), offsets)
        for i, read in enumerate(reads):
            errors_by_file[i] = listing.evaluated(errors_by_file[i], read.missing)
            errors_by_file[i] += [*read.errors, *read.patient]
            warnings_by_file[i] = listing.evaluated(warnings_by_file[i], read.missing)
        for found in (errors_by_file, warnings_by_file):
            for items in found:
                items.sort(key=sort_key)
        accepted = np.array([not items for items in errors_by_file])
        frames, stacked = _accepted_frames(t, warnings_by_file, files, accepted, offsets)
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        history = history_rows(t, bounds, offsets)
        return [
            Judged(
                rows=int(sizes[i]),
                errors=errors_by_file[i],
                warnings=warnings_by_file[i],
                frame=frames[i],
                history_rows=history[i],
                missing=reads[i].missing,
                context=reads[i].context,
                coverage=coverages[i],
                stacked=stacked[i],
            )
            for i in range(len(tables))
        ]


def _stacked(tables: Sequence[pd.DataFrame]) -> tuple[pd.DataFrame, IntArray]:
    """The tables as one, each return's row numbers shifted past the previous ones'; and the shifts."""
    if len(tables) == 1:
        return tables[0], np.zeros(1, dtype=np.int64)
    highest = np.array([int(t["row_number"].max()) if len(t) else 0 for t in tables], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(highest + 1)[:-1]]).astype(np.int64)
    sizes = np.array([len(t) for t in tables], dtype=np.int64)
    # Stacked as they are, then every row's number shifted at once (a new frame per table for its
    # shifted numbers cost three times the stacking itself).
    combined = pd.concat(tables, ignore_index=True)
    combined["row_number"] = combined["row_number"].to_numpy() + np.repeat(offsets, sizes)
    return combined, offsets


def _split(findings: list[Finding], offsets: IntArray) -> list[list[Finding]]:
    """Row findings of a joint pass, per return, with each return's own row numbers back."""
    out: list[list[Finding]] = [[] for _ in range(len(offsets))]
    if len(offsets) == 1:
        out[0] = list(findings)
        return out
    rows = np.fromiter((f.row for f in findings), dtype=np.int64, count=len(findings))
    owners = np.searchsorted(offsets, rows, side="right") - 1
    for finding, owner, row in zip(findings, owners.tolist(), (rows - offsets[owners]).tolist(), strict=True):
        out[owner].append(Finding(rule=finding.rule, row=row, column=finding.column, message=finding.message))
    return out


def _accepted_frames(
    t: pd.DataFrame,
    warnings_by_file: list[list[Finding]],
    files: IntArray,
    accepted: np.ndarray,
    offsets: IntArray,
) -> tuple[list[pd.DataFrame | None], list[Stacked | None]]:
    """Each accepted return's rows for loading (its own row numbers); None for a rejected one. And,
    for a pass of several returns, where each one's rows are in the joint frame they are sliced from."""
    out: list[pd.DataFrame | None] = [None] * len(accepted)
    stacked: list[Stacked | None] = [None] * len(accepted)
    if not accepted.any():
        return out, stacked
    if len(accepted) == 1:
        out[0] = _accepted_frame(t, warnings_by_file[0])
        return out, stacked
    keep = accepted[files]
    frame = _accepted_frame(t if keep.all() else t[keep], [])
    bounds = np.searchsorted(files[keep], np.arange(len(accepted) + 1))
    numbers = frame["row_number"].to_numpy()
    for i in np.flatnonzero(accepted).tolist():
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        own = numbers[lo:hi] - offsets[i]
        out[i] = (
            frame.iloc[lo:hi]
            .reset_index(drop=True)
            .assign(
                row_number=own, warnings=pd.Series(_warning_rules(own, warnings_by_file[i]), dtype=object)
            )
        )
        stacked[i] = Stacked(frame, lo, hi)
    return out, stacked


def _accepted_frame(t: pd.DataFrame, warnings: list[Finding]) -> pd.DataFrame:
    """The typed rows for loading: ints as int64, hours rounded to 2 places, text as pandas "str" (Arrow)
    with a blank missing. Columns are selected, not copied (pandas copy-on-write): text is shared."""
    frame = t[["row_number", *spec.COLUMN_NAMES]]
    for name in spec.INTEGER_COLUMNS:
        frame[name] = frame[name].astype("int64")
    for name in spec.DECIMAL_COLUMNS:
        frame[name] = frame[name].round(2)
    frame["row_number"] = frame["row_number"].astype("int64")
    frame = frame.reset_index(drop=True)
    frame["warnings"] = _warning_rules(frame["row_number"].to_numpy(), warnings)
    return frame


def _with_warning_rules(frame: pd.DataFrame, findings: list[Finding]) -> pd.DataFrame:
    """``frame`` with each finding's rule added to its row's ``warnings`` (a new column; frame not changed)."""
    added = _warning_rules(frame["row_number"].to_numpy(), findings)
    shared: dict[tuple[str, ...], tuple[str, ...]] = {}
    rules = [
        shared.setdefault(merged, merged)
        for merged in (
            (*held, *(rule for rule in new if rule not in held))
            for held, new in zip(frame["warnings"], added, strict=True)
        )
    ]
    return frame.assign(warnings=pd.Series(rules, index=frame.index, dtype=object))


def _warning_rules(row_numbers: np.ndarray, warnings: list[Finding]) -> list[tuple[str, ...]]:
    """Each row's warning rule IDs, in the order of ``warnings`` (sorted: W01 … W05), once each.

    Immutable tuples, one object for each distinct set: a million rows mostly share ``()`` and a handful
    of others (a list a row cost ~60 MB on a million rows)."""
    empty: tuple[str, ...] = ()
    rules: list[tuple[str, ...]] = [empty] * len(row_numbers)
    if warnings:
        shared: dict[tuple[str, ...], tuple[str, ...]] = {empty: empty}
        positions = np.searchsorted(row_numbers, np.array([w.row for w in warnings], dtype=np.int64))
        for pos, w in zip(positions.tolist(), warnings, strict=True):
            held = rules[pos]
            if w.rule not in held:
                grown = (*held, w.rule)
                rules[pos] = shared.setdefault(grown, grown)
    return rules


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects (findings, lists).

    On a million rows its repeated full passes cost more than the work itself.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
