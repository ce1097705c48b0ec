"""Great Expectations the way GX users expect: the suite, the frame it runs on, stored results, Data Docs.

The suite ``surgehub.return`` (``expectations/surgehub/return.json`` here, generated from spec.py by
``python -m surgehub.returns.suite``) checks R03, R04, R08–R14 and R17 on **typed and derived**
columns: GX does not convert types, and some rules compare several columns. :func:`frame_for_suite`
builds that frame from a raw return, exactly as validation does, so anyone can run the suite by hand::

    import great_expectations as gx
    from surgehub.gx import frame_for_suite, suite

    frame = frame_for_suite("manchester-2026-11-24.csv")      # a path, or the file's bytes
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("by_hand")
        .add_dataframe_asset("return")
        .add_batch_definition_whole_dataframe("whole_return")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    result = batch.validate(suite())
    print(result.success, [r.expectation_config.meta["rule_id"] for r in result.results if not r.success])

The frame's index is the file's row numbers (spec §3: the N-th row under the header), so GX's
``unexpected_index_list`` names the rows a submitter sees in their receipt. The rules GX does not
run (F01–F06, R01, R02, R05–R07, R15, R16, W01–W05) are in :data:`RULES_OUTSIDE_GX`; ``surgehub
validate FILE`` runs them all.

Light to import: pandas and GX are imported by the functions that need them. The file-backed
context under the data folder, where each ingest stores its results, is :mod:`surgehub.gx.store`;
the Data Docs built from them are :mod:`surgehub.gx.docs`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from surgehub import spec
from surgehub.returns.suite import SUITE_ID, SUITE_NAME, load_suite_dict

if TYPE_CHECKING:
    import os

    import pandas as pd

    from surgehub.returns.findings import Finding

__all__ = [
    "RULES_OUTSIDE_GX",
    "SUITE_ID",
    "SUITE_NAME",
    "NotASuiteFrame",
    "frame_for_suite",
    "rules_in_suite",
    "suite",
]


class NotASuiteFrame(ValueError):
    """The file's rows cannot be put before the suite: a file rule stops them, or a cell holds an NHS number.

    ``findings`` are the file-rule findings (F01, F04, F05, F06, "not a surge-hub return"), or the
    R16 findings (masked: the number itself is never repeated; such a file never enters GX).
    """

    def __init__(self, message: str, findings: list[Finding]) -> None:
        super().__init__(message)
        self.findings = findings


def rules_in_suite() -> tuple[str, ...]:
    """The spec rules the committed suite checks, in spec order."""
    ids = {str(e["meta"]["rule_id"]) for e in load_suite_dict()["expectations"]}
    return tuple(rule for rule in spec.RULES if rule in ids)


def _outside() -> dict[str, str]:
    inside = set(rules_in_suite())
    return {rule: text for rule, text in spec.RULES.items() if rule not in inside}


#: rule ID -> what the rule says, for every spec rule the suite does not check (they are checked in
#: plain code: surgehub.returns.rules), so a page of GX results can show the whole picture.
RULES_OUTSIDE_GX: dict[str, str] = _outside()


def frame_for_suite(
    source: str | os.PathLike[str] | bytes,
    *,
    max_file_bytes: int = spec.MAX_FILE_BYTES,
    max_data_rows: int = spec.MAX_DATA_ROWS,
) -> pd.DataFrame:
    """The frame the suite ``surgehub.return`` runs on, from a raw return (CSV or XLSX; a path or its bytes).

    Every spec column typed (a value failing R01 or R02, or a ``hub_status`` failing R04, is null, and
    GX skips nulls: spec §3's skip rule), plus the derived columns R09–R14 and R17 are checked on
    (e.g. ``r13_sources_minus_booked`` must be 0), plus ``row_number``; indexed by row number.

    Raises :class:`NotASuiteFrame` when a file rule stops the row rules (F01, F04, F05, F06) or a cell
    holds an NHS number (R16: such a file never enters GX). F02 and F03 do not stop it: a missing
    column is all null, so its expectations pass vacuously (``surgehub validate`` lists the rules not
    checked).
    """
    from surgehub.returns.read import read_return
    from surgehub.returns.rules.arithmetic import with_derived_columns
    from surgehub.returns.rules.cells import type_cells

    data = bytes(source) if isinstance(source, bytes | bytearray) else Path(source).read_bytes()
    raw = read_return(data, max_file_bytes=max_file_bytes, max_data_rows=max_data_rows)
    if raw.patient:
        raise NotASuiteFrame(
            "a cell holds what may be an NHS number (R16): the file stays in quarantine and never enters GX",
            [f.masked() for f in raw.patient],
        )
    if raw.table is None:
        rules = ", ".join(sorted({f.rule for f in raw.errors})) or "F01"
        raise NotASuiteFrame(f"the file's rows cannot be validated ({rules})", list(raw.errors))
    frame = with_derived_columns(type_cells(raw.table).frame)
    frame.index = frame["row_number"].to_numpy()
    return frame


def suite() -> Any:
    """The committed suite as a ``great_expectations.ExpectationSuite`` (imports GX: ~5 s the first time)."""
    import great_expectations as gx

    return gx.ExpectationSuite(**load_suite_dict())
