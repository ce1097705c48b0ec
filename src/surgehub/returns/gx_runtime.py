"""Running the committed GX suite on a typed frame: one ephemeral context per process, GX imported lazily.

Speed: the whole suite is first run with BOOLEAN_ONLY results; only the expectations that failed
are run again with COMPLETE results. The frame's index is the row number, so COMPLETE's
``unexpected_index_list`` is the failing rows' numbers; asking for
``unexpected_index_column_names=["row_number"]`` instead gives the same answer but makes GX look each
failing row up one by one (13 s rather than 0.05 s for 100,000 failing rows).

With a :class:`Recording` (ingest passes one), the first pass is instead a ``ValidationDefinition``
run in the file-backed context under the data folder (``surgehub.gx.store``), whose result GX stores;
the failed expectations' row details are then added to that stored result (counts and each return's
row numbers, never a value). One stored result per call: a batch of returns is one result, and each
return's rows are picked out by its ``return_id``.

GX's API is mostly untyped, so this adapter stays outside `returns/rules/` (which pyright checks
strictly); rules/gx.py gets typed `Failure` records from it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from surgehub.returns.suite import load_suite_dict

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    import numpy as np
    import numpy.typing as npt
    import pandas as pd

_LOCK = threading.Lock()


@dataclass(frozen=True, kw_only=True)
class Failure:
    """One failed expectation: its meta (rule_id, column, fix, key) and the row numbers that failed it."""

    meta: dict[str, Any]
    row_numbers: list[int]


@dataclass(frozen=True, kw_only=True)
class ReturnTag:
    """One return in a frame put before GX, as its stored result names it (never by its file name)."""

    return_id: str  # <locality>-<received, UTC>-<first 12 hex digits of its sha256>
    locality: str
    received_at: datetime  # aware
    sha256: str

    @classmethod
    def of(cls, locality: str, received_at: datetime, sha256: str) -> ReturnTag:
        from datetime import UTC

        stamp = received_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return cls(
            return_id=f"{locality}-{stamp}-{sha256[:12]}",
            locality=locality,
            received_at=received_at,
            sha256=sha256,
        )


class ResultStore(Protocol):
    """Where a validation's result is kept (``surgehub.gx.store.GxStore``)."""

    def run(self, frame: pd.DataFrame, recording: Recording) -> Any:
        """Run the suite's ValidationDefinition on ``frame`` (BOOLEAN_ONLY); GX stores the result."""
        ...

    def keep(self, result: Any, details: dict[str, Any], recording: Recording) -> None:
        """Store ``result`` again with each failed expectation's ``details`` (COMPLETE results) added."""
        ...


@dataclass(frozen=True, kw_only=True)
class Recording:
    """A run whose result is stored: the returns in the frame, in order, and how far each return's row
    numbers were moved to stack it (``offsets``, as rules/gx.py has them)."""

    store: ResultStore
    returns: Sequence[ReturnTag]
    offsets: npt.NDArray[np.int64]


def quiet_gx() -> None:
    """GX's loggers at WARNING (call before and after importing it: its import resets one)."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)


@cache
def _runtime() -> tuple[Any, list[Any], Any]:
    """(batch definition, expectations, suite) on an ephemeral context built once per process."""
    quiet_gx()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    quiet_gx()
    _fingerprint_small_frames_only()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas("surgehub_returns")
        .add_dataframe_asset("return")
        .add_batch_definition_whole_dataframe("whole_return")
    )
    suite = gx.ExpectationSuite(**load_suite_dict())
    return batch_definition, list(suite.expectations), suite


#: GX marks each in-memory batch with a fingerprint, a hash of every cell, when the frame's memory is under
#: its ``HASH_THRESHOLD`` (1e9 bytes). On a million rows that hash is ~0.3 s a call, twice a run (~10 % of
#: the validation), and nothing reads it: each stored result names its returns and their SHA-256 itself
#: (``meta["surgehub"]``, surgehub.gx.store). Frames above this many bytes (~40,000 rows) are not hashed.
FINGERPRINT_LIMIT_BYTES = 10_000_000


def _fingerprint_small_frames_only() -> None:
    """Lower GX's own limit for fingerprinting a batch (see ``FINGERPRINT_LIMIT_BYTES``)."""
    from great_expectations.execution_engine import pandas_execution_engine

    if not hasattr(pandas_execution_engine, "HASH_THRESHOLD"):  # tests/unit/returns: noticed on upgrade
        return
    pandas_execution_engine.HASH_THRESHOLD = min(  # pyright: ignore[reportAttributeAccessIssue]
        pandas_execution_engine.HASH_THRESHOLD, FINGERPRINT_LIMIT_BYTES
    )


def run_suite(frame: pd.DataFrame, recording: Recording | None = None) -> list[Failure]:
    """Validate ``frame`` (which has a ``row_number`` column) and return each failed expectation's rows.

    With ``recording``, the result is stored (see the module's docstring); the findings are the same.
    """
    frame = frame.copy(deep=False)
    frame.index = frame["row_number"].to_numpy()  # unnamed: GX then lists index values, cheaply
    with _LOCK:  # one context per process, shared by threads (API server): build and use it in turn
        batch_definition, expectations, suite = _runtime()
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        try:
            return _failures(frame, batch, suite, expectations, recording)
        finally:
            _forget(batch)


def _failures(
    frame: pd.DataFrame, batch: Any, suite: Any, expectations: list[Any], recording: Recording | None
) -> list[Failure]:
    """The suite's first pass (BOOLEAN_ONLY), then each failed expectation again for its rows."""
    by_key = {e.meta["key"]: e for e in expectations}
    failures: list[Failure] = []
    if recording is None:
        first = batch.validate(suite, result_format="BOOLEAN_ONLY")
    else:
        first = recording.store.run(frame, recording)
    details: dict[str, Any] = {}
    for result in first.results:
        if result.success:
            continue
        _raise_if_broken(result)
        expectation = by_key[result.expectation_config.meta["key"]]
        detail = batch.validate(
            expectation,
            result_format={"result_format": "COMPLETE", "return_unexpected_index_query": False},
        )
        _raise_if_broken(detail)
        details[expectation.meta["key"]] = detail
        rows = sorted({int(n) for n in detail.result.get("unexpected_index_list", [])})
        failures.append(Failure(meta=dict(expectation.meta), row_numbers=rows))
    if recording is not None:
        recording.store.keep(first, details, recording)
    return failures


def _forget(batch: Any) -> None:
    """Drop what GX keeps of a run in its execution engine's caches (until the next run it held the last
    return's whole typed table, ~150 MB after a million rows, and every metric computed over it)."""
    forget_batches(getattr(getattr(batch, "data", None), "execution_engine", None))


def forget_batches(engine: Any) -> None:
    """Empty a GX execution engine's caches (its data, its batches and its computed metrics); nothing for None.

    The metric cache is the engine's own dict of every metric it resolved (GX 1.x, ``_metric_cache``;
    no public way to empty it): each column's null and range conditions, the text lengths, R08's
    duplicates, all row-long Series over the batch's index (~90 MB after a million rows). The engine
    lives as long as the context, so they stayed alive until the next run replaced them. Within a run
    GX resolves from its own graph; the cache only spares recomputing between calls, and the detail
    pass of a failed expectation runs before this.
    """
    manager = getattr(engine, "batch_manager", None)
    if manager is not None:
        manager.batch_data_cache.clear()
        manager.reset_batch_cache()
    metrics = getattr(engine, "_metric_cache", None)
    if metrics is not None:
        metrics.clear()


def _raise_if_broken(result: Any) -> None:
    """A GX metric that raised is a bug here, not a finding about the return: never let it pass silently.

    GX reports it as ``exception_info``, either flat or keyed by metric.
    """
    info = getattr(result, "exception_info", None) or {}
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for entry in entries:
        if entry.get("raised_exception"):
            raise RuntimeError(f"the validation suite could not run: {entry.get('exception_message')}")
