"""The file-backed GX context under the data folder, where each ingest stores its validation results.

``<SURGEHUB_HOME>/gx/`` is an ordinary GX 1.x file context (``great_expectations.yml``,
``expectations/``, ``validation_definitions/``, ``uncommitted/validations/``,
``uncommitted/data_docs/``): a data team can open it with ``gx.get_context(mode="file",
project_root_dir=<SURGEHUB_HOME>)``. It holds the committed suite ``surgehub.return`` (copied from the
package whenever it differs: the package is the truth), one pandas data source ``surgehub`` with the
asset ``returns``, and the ``ValidationDefinition`` ``surgehub.return`` that each ingest runs.

What is stored for one run (one return, or a batch of returns validated together):

- GX's own result of the ``ValidationDefinition`` run (``BOOLEAN_ONLY``: which expectations held),
- for each failed expectation, its counts and the failing rows as ``{"return_id", "row_number"}``
  (GX's ``unexpected_index_list`` shape with ``unexpected_index_column_names``), at most
  :data:`ROWS_KEPT` rows a return, with each return's full count,
- in ``meta["surgehub"]``, the returns in the run (``return_id``, locality, receipt time, sha256,
  their rows) and the spec rules checked outside GX.

Never a value from the file: the stored results (and the Data Docs built from them) hold counts and row
numbers only, so an NHS number (R16), or any hostile text, cannot reach them.
"""

from __future__ import annotations

import json
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from surgehub.files import write_atomically
from surgehub.returns.suite import SUITE_NAME, committed_suite_json

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    import pandas as pd

    from surgehub.returns.gx_runtime import Recording

log = logging.getLogger(__name__)

DATASOURCE = "surgehub"
ASSET = "returns"
BATCH_DEFINITION = "stacked_returns"
VALIDATION_DEFINITION = SUITE_NAME
#: Failing rows kept per return and expectation in a stored result (the count is always complete).
ROWS_KEPT = 200
_SETUP_LOCK = threading.Lock()
_CONTEXTS: dict[Path, Any] = {}


def context_root(home: Path) -> Path:
    """The GX context's folder for the data folder ``home``: ``<home>/gx``."""
    return home / "gx"


def site_dir(home: Path) -> Path:
    """Where the Data Docs site is built (GX's default local site)."""
    return context_root(home) / "uncommitted" / "data_docs" / "local_site"


def results_dir(home: Path) -> Path:
    return context_root(home) / "uncommitted" / "validations"


def open_context(home: Path) -> Any:
    """The file context under ``home``, set up (suite, data source, validation definition) if need be;
    one per data folder per process."""
    from surgehub.returns.gx_runtime import quiet_gx

    quiet_gx()
    import great_expectations as gx

    quiet_gx()
    with _SETUP_LOCK:
        if home in _CONTEXTS:
            return _CONTEXTS[home]
        with _across_processes(home):
            context = _opened(home, gx)
        _CONTEXTS[home] = context
    return context


@contextmanager
def _across_processes(home: Path) -> Iterator[None]:
    """Hold ``<home>/.gx-setup.lock`` exclusively: several processes (Celery workers, the API server,
    concurrent ingests) opening one context for the first time would otherwise write its
    configuration at once ("Store already has the following key", a half-written
    great_expectations.yml)."""
    import fcntl

    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".gx-setup.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _opened(home: Path, gx: Any) -> Any:
    """The context, its committed suite written in when missing or changed, then set up."""
    suite_path = context_root(home).joinpath("expectations", *SUITE_NAME.split(".")).with_suffix(".json")
    committed = committed_suite_json().encode("utf-8")
    context = gx.get_context(mode="file", project_root_dir=str(home))
    if not suite_path.exists() or suite_path.read_bytes() != committed:
        suite_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(suite_path, committed)
        context = gx.get_context(mode="file", project_root_dir=str(home))
    _set_up(context, gx)
    return context


def _set_up(context: Any, gx: Any) -> None:
    """The data source, asset, batch definition and validation definition: added once, found after."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    try:
        source = context.data_sources.get(DATASOURCE)
    except (KeyError, ValueError, LookupError):
        source = context.data_sources.add_pandas(DATASOURCE)
    try:
        asset = source.get_asset(ASSET)
    except (KeyError, ValueError, LookupError):
        asset = source.add_dataframe_asset(ASSET)
    try:
        batch_definition = asset.get_batch_definition(BATCH_DEFINITION)
    except (KeyError, ValueError, LookupError):
        batch_definition = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)
    try:
        context.validation_definitions.get(VALIDATION_DEFINITION)
    except Exception:  # GX raises its own not-found error here (DataContextError)
        suite = context.suites.get(SUITE_NAME)
        context.validation_definitions.add(
            gx.ValidationDefinition(name=VALIDATION_DEFINITION, data=batch_definition, suite=suite)
        )


@dataclass(kw_only=True)
class GxStore:
    """Runs the suite's ValidationDefinition in the file context under ``home`` and keeps the result.

    Passed to validation by ingest (``validate_return(..., gx_store=...)``, ``ValidationBatch``); the
    GX runtime calls :meth:`run` and then :meth:`keep` under its lock. ``now`` is the injected clock.
    """

    home: Path
    now: Callable[[], datetime]
    _context: Any = field(default=None, init=False, repr=False)
    _definition: Any = field(default=None, init=False, repr=False)
    stored: list[str] = field(default_factory=list, init=False)  # run names stored by this store

    def context(self) -> Any:
        if self._context is None:
            self._context = open_context(self.home)
            self._definition = self._context.validation_definitions.get(VALIDATION_DEFINITION)
        return self._context

    def run(self, frame: pd.DataFrame, recording: Recording) -> Any:
        from great_expectations.core.run_identifier import RunIdentifier

        from surgehub.returns.gx_runtime import forget_batches

        self.context()
        run_id = RunIdentifier(run_name=run_name(recording), run_time=self.now().astimezone(UTC))
        try:
            return self._definition.run(
                batch_parameters={"dataframe": frame}, result_format="BOOLEAN_ONLY", run_id=run_id
            )
        finally:  # GX's data source keeps the run's frame in its engine's caches until the next run
            source = self._definition.batch_definition.data_asset.datasource
            forget_batches(source.get_execution_engine())

    def keep(self, result: Any, details: dict[str, Any], recording: Recording) -> None:
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        offsets = np.asarray(recording.offsets, dtype=np.int64)
        for item in result.results:
            detail = details.get(item.expectation_config.meta.get("key"))
            if not item.success and detail is not None:
                item.result = _without_values(detail.result, recording, offsets)
        result.meta["surgehub"] = _meta(recording)
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=SUITE_NAME),
            run_id=result.meta["run_id"],
            batch_identifier=f"{DATASOURCE}-{ASSET}",
        )
        self.context().validation_results_store.set(key, result)
        self.stored.append(result.meta["run_id"].run_name)


def run_name(recording: Recording) -> str:
    """The run's name in GX's index: the return's id, or the first return's and how many there are."""
    first = recording.returns[0].return_id
    count = len(recording.returns)
    return first if count == 1 else f"{first}-and-{count - 1}-more"


def _owners(rows: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    return np.searchsorted(offsets, rows, side="right") - 1


def _without_values(complete: dict[str, Any], recording: Recording, offsets: np.ndarray) -> dict[str, Any]:
    """A COMPLETE result reduced to counts and each return's failing row numbers (never a value)."""
    rows = np.asarray(sorted({int(n) for n in complete.get("unexpected_index_list", [])}), dtype=np.int64)
    owners = _owners(rows, offsets) if len(rows) else rows
    listed: list[dict[str, Any]] = []
    by_return: dict[str, int] = {}
    for index, tag in enumerate(recording.returns):
        own = rows[owners == index] - offsets[index]
        if len(own):
            by_return[tag.return_id] = len(own)
            listed += [{"return_id": tag.return_id, "row_number": int(n)} for n in own[:ROWS_KEPT]]
    kept = {
        name: complete[name]
        for name in (
            "element_count",
            "unexpected_count",
            "unexpected_percent",
            "missing_count",
            "missing_percent",
            "unexpected_percent_total",
            "unexpected_percent_nonmissing",
        )
        if name in complete
    }
    return {
        **kept,
        "partial_unexpected_list": [],
        "unexpected_index_column_names": ["return_id", "row_number"],
        "unexpected_index_list": listed,
        "unexpected_count_by_return": by_return,
    }


def _meta(recording: Recording) -> dict[str, Any]:
    from surgehub.gx import RULES_OUTSIDE_GX

    return {
        "returns": [
            {
                "return_id": tag.return_id,
                "locality": tag.locality,
                "received_at": tag.received_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "sha256": tag.sha256,
                "row_offset": int(offset),
            }
            for tag, offset in zip(recording.returns, recording.offsets, strict=True)
        ],
        "rules_outside_gx": sorted(RULES_OUTSIDE_GX),
    }


def read_results(home: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every stored result's file (relative to the results folder) and JSON, oldest run first."""
    folder = results_dir(home)
    found: list[tuple[Path, dict[str, Any]]] = []
    for path in sorted(folder.rglob("*.json")):
        try:
            found.append((path.relative_to(folder), json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            log.warning("unreadable GX result %s", path.name)
    found.sort(key=lambda item: str(item[1].get("meta", {}).get("run_id", {}).get("run_time", "")))
    return found
