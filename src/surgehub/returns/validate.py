"""The one validation path for every channel: bytes in, every finding of spec §3 out, typed rows when accepted.

This is the front door; the rules live one family to a module under `returns/rules/` (the map is in
its `__init__`), and `returns/batch.py` runs them over one return or many stacked together. As spec
2026.2 §3 says, F01, F04, F05 and F06 stop the row rules; F02 and F03 do not (the rules needing a
missing column are listed as not checked); R16 is judged on every cell read and on the file's name.
Importing this module is cheap: pandas and Great Expectations are imported when a return is first
validated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from surgehub.reference import shipped_register
from surgehub.returns.findings import Finding
from surgehub.returns.result import Outcome, UnknownLocality, ValidationResult, receipt_day, sender_code

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    import pandas as pd

    from surgehub.config import Settings
    from surgehub.register import Register
    from surgehub.returns.batch import Judged, ValidationBatch
    from surgehub.returns.gx_runtime import ResultStore
    from surgehub.returns.rules.warnings import HistoryLookup

__all__ = [
    "Finding",
    "Outcome",
    "UnknownLocality",
    "ValidationResult",
    "judge_received",
    "shipped_register",
    "validate_return",
    "validate_table",
    "validate_tables",
]


def validate_return(
    data: bytes,
    *,
    locality: str,
    received_at: datetime,
    settings: Settings,
    history: HistoryLookup | None = None,
    batch: ValidationBatch | None = None,
    register: Register | None = None,
    file_name: str | None = None,
    name_refused: bool = False,
    gx_store: ResultStore | None = None,
) -> ValidationResult:
    """Validate a return's bytes as received from ``locality`` at ``received_at``; never raises for bad data.

    ``file_name`` is the name the submitter gave the file (from the channel): R16 is judged on it too.
    ``name_refused`` says a channel already judged that name R16 and kept only its masked form (the
    API hands such a file to a worker under a name of its own): the finding is made all the same.
    ``history`` reads the warehouse's recent rows for W05 (without it W05 is not judged). With
    ``batch`` (built beforehand over many returns with their senders and receipt times), what the joint
    pass already judged for these bytes, this sender and this receipt day is used; only W05 is judged
    here. The result is the same as alone; the cost is shared.
    ``register`` is the register's history (``warehouse.register.read_register``): the return is judged
    (R05, R06) against the register as it stood at ``received_at``. Without it, the register as shipped
    (``surgehub validate`` with no warehouse; unit tests).
    ``gx_store`` (ingest's, ``surgehub.gx.store``): the GX suite's result is stored there (when the
    return is judged here, not taken from ``batch``, whose own pass stored it).
    Raises UnknownLocality when ``locality`` itself is not a known code (the channel is misconfigured).
    """
    found = judge_received(
        data,
        locality=locality,
        received_at=received_at,
        settings=settings,
        batch=batch,
        register=register,
        gx_store=gx_store,
    )
    return found.result(history, file_name, name_refused=name_refused)


def judge_received(
    data: bytes,
    *,
    locality: str,
    received_at: datetime,
    settings: Settings,
    batch: ValidationBatch | None = None,
    register: Register | None = None,
    gx_store: ResultStore | None = None,
) -> Judged:
    """`validate_return` before its last step: every finding but W05 and R16 on the file's name.

    ``Judged.result(history, file_name)`` then gives the same answer as `validate_return`; the ingest
    takes the two steps apart, so that a batch's files are kept before W05 reads the warehouse as
    each receipt found it (docs/intake.md). Raises UnknownLocality as `validate_return` does.
    """
    from surgehub.returns.batch import judge_return

    view = (register or shipped_register()).as_of(_aware(received_at))
    code = sender_code(locality, view)
    found = batch.lookup(data, code, received_at) if batch is not None else None
    if found is None:
        found = judge_return(
            data,
            (code, receipt_day(received_at)),
            settings,
            view,
            gx_store=gx_store,
            received_at=_aware(received_at),
        )
    return found


def validate_table(
    table: pd.DataFrame,
    *,
    locality: str,
    received_at: datetime,
    settings: Settings,
    history: HistoryLookup | None = None,
    register: Register | None = None,
) -> ValidationResult:
    """The row rules on a table as read.py builds it (spec columns as text, plus ``row_number``).

    No file rule applies (the table is already read): the benchmark's way in (with its own register).
    """
    from surgehub.returns.batch import judge_tables, read_table

    view = (register or shipped_register()).as_of(_aware(received_at))
    sender = (sender_code(locality, view), receipt_day(received_at))
    [judged] = judge_tables([read_table(table)], [sender], settings, view)
    return judged.result(history)


def validate_tables(
    tables: Sequence[tuple[pd.DataFrame, str]],
    *,
    received_at: datetime,
    settings: Settings,
    register: Register | None = None,
) -> list[ValidationResult]:
    """Many tables already read, each with its sending locality, judged together in one pass (the batch
    path ingest and backfill take for many files): each answer is what `validate_table` gives it alone.

    No file rule applies and W05 is not judged (no warehouse history): the benchmark's way in for many files.
    """
    from surgehub.returns.batch import judge_tables, read_table

    view = (register or shipped_register()).as_of(_aware(received_at))
    day = receipt_day(received_at)
    senders = [(sender_code(locality, view), day) for _, locality in tables]
    judged = judge_tables([read_table(table) for table, _ in tables], senders, settings, view)
    return [one.result(None) for one in judged]


def _aware(instant: datetime) -> datetime:
    from surgehub.clock import LONDON

    return instant if instant.tzinfo is not None else instant.replace(tzinfo=LONDON)
