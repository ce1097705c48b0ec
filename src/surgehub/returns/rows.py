"""Where each data row of a return is, and how it names itself: what every row finding carries (spec 2026.2 §3).

A row finding gives, besides ``row`` (the N-th row under the header), the **spreadsheet row** a person
sees (CSV: the physical line on which the record starts, quoted line breaks counted; XLSX: the
sheet's own row number) and the row's ``hub_code`` and ``activity_date`` as written (trimmed; None
where blank or where the column is missing). They are added to the findings an answer lists (at most
50 a rule), never to every finding, so a file with a million failing rows costs nothing more here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import pandas as pd

    from surgehub.returns.findings import Finding
    from surgehub.returns.rules.checks import IntArray

    #: A column's cells by position (a list's, a pandas column's or an Arrow array's item getter).
    Cells = Callable[[int], object]


@dataclass(frozen=True, kw_only=True)
class RowContext:
    """Per data row (ascending ``row_number``): spreadsheet row, hub_code and activity_date as written."""

    row_number: IntArray
    spreadsheet_row: IntArray | None
    hub_code: Cells | None  # text as written, trimmed; None when the column is missing
    activity_date: Cells | None

    @classmethod
    def of_lists(
        cls,
        row_number: Sequence[int],
        spreadsheet_row: Sequence[int] | None,
        hub_code: Sequence[str] | None,
        activity_date: Sequence[str] | None,
    ) -> RowContext:
        return cls(
            row_number=np.asarray(row_number, dtype=np.int64),
            spreadsheet_row=None if spreadsheet_row is None else np.asarray(spreadsheet_row, dtype=np.int64),
            hub_code=None if hub_code is None else hub_code.__getitem__,
            activity_date=None if activity_date is None else activity_date.__getitem__,
        )

    @classmethod
    def of_table(cls, table: pd.DataFrame) -> RowContext:
        """A text table as read.py builds it, with no file behind it (no spreadsheet rows)."""
        return cls(
            row_number=table["row_number"].to_numpy().astype(np.int64, copy=False),
            spreadsheet_row=None,
            hub_code=table["hub_code"].iloc.__getitem__ if "hub_code" in table.columns else None,
            activity_date=table["activity_date"].iloc.__getitem__
            if "activity_date" in table.columns
            else None,
        )

    def place(self, findings: list[Finding]) -> list[Finding]:
        """``findings`` with each row finding's spreadsheet row, hub and date filled in."""
        rows = [f.row for f in findings if f.row is not None]
        if not rows or not len(self.row_number):
            return findings
        positions = np.searchsorted(self.row_number, np.asarray(rows, dtype=np.int64)).tolist()
        out: list[Finding] = []
        found = iter(positions)
        for finding in findings:
            if finding.row is None:
                out.append(finding)
                continue
            position = next(found)
            if position >= len(self.row_number) or int(self.row_number[position]) != finding.row:
                out.append(finding)
                continue
            out.append(
                replace(
                    finding,
                    spreadsheet_row=finding.spreadsheet_row
                    if self.spreadsheet_row is None
                    else int(self.spreadsheet_row[position]),
                    hub_code=_as_written(self.hub_code, position),
                    activity_date=_as_written(self.activity_date, position),
                )
            )
        return out


def _as_written(values: Cells | None, position: int) -> str | None:
    if values is None:
        return None
    text = values(position)
    if isinstance(text, pa.Scalar):
        text = text.as_py()  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    if not isinstance(text, str):
        return None
    text = text.strip()
    return text or None
