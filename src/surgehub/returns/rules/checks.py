"""A rule family as a table: `Check` records (rule, failed rows, column, message) and their findings.

Also the array types every family shares. A check's message is built only for the rows that failed,
from the values it quotes taken for those rows alone (no per-row pandas access).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from surgehub.returns.findings import Finding

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
DayArray = npt.NDArray[np.datetime64]

#: Row-aligned values a message may quote: a NumPy array or a pandas column.
Quoted = npt.NDArray[Any] | pd.Series


@dataclass(frozen=True, kw_only=True)
class Check:
    """One rule's finding on every row where ``failed`` holds.

    ``message`` is called once per failed row with that row's value of each of ``quotes``, in order
    (as plain Python values: float, str, date, ...).
    """

    rule: str
    column: str
    failed: BoolArray
    message: Callable[..., str]
    quotes: tuple[Quoted, ...] = ()


def picked(values: Quoted, positions: IntArray) -> list[Any]:
    """The values at ``positions`` as plain Python values (float, str, date; a Timestamp for a pandas date)."""
    if isinstance(values, pd.Series):
        return values.iloc[positions].tolist()
    return values[positions].tolist()


def findings_of(checks: Iterable[Check], row_numbers: IntArray) -> list[Finding]:
    """Every check's findings, check by check and row by row (``row_numbers``: each position's row)."""
    out: list[Finding] = []
    for check in checks:
        positions = np.flatnonzero(check.failed)
        if not len(positions):
            continue
        rows: list[int] = row_numbers[positions].tolist()
        rule, column, message = check.rule, check.column, check.message
        said = _once_each(message)
        if check.quotes:
            values = zip(*(picked(q, positions) for q in check.quotes), strict=True)
            out += [
                Finding(rule=rule, row=row, column=column, message=said(quoted))
                for row, quoted in zip(rows, values, strict=True)
            ]
        else:
            text = message()
            out += [Finding(rule=rule, row=row, column=column, message=text) for row in rows]
    return out


def _once_each(message: Callable[..., str]) -> Callable[[tuple[Any, ...]], str]:
    """``message`` built once for each distinct tuple of quoted values (a message is a function of them:
    the many rows of a large return that quote the same figures share one text)."""
    known: dict[tuple[Any, ...], str] = {}

    def said(quoted: tuple[Any, ...]) -> str:
        try:
            text = known.get(quoted)
        except TypeError:  # an unhashable value: built for this row alone
            return message(*quoted)
        if text is None:
            text = known[quoted] = message(*quoted)
        return text

    return said


def at_positions(positions: IntArray | list[int], size: int) -> BoolArray:
    """A mask of ``size`` rows, true at ``positions``."""
    mask = np.zeros(size, dtype=np.bool_)
    mask[positions] = True
    return mask


@dataclass(frozen=True, kw_only=True)
class Wording:
    """How a failed GX expectation reads on one row, before the suite's fix (rules/gx.py adds it).

    ``says`` is called with the row's value of each column in ``quotes``, in order.
    """

    quotes: tuple[str, ...]
    says: Callable[..., str]
