"""The project's SQL files as SQLAlchemy statements, with bound parameters typed by their names.

Types matter because SQLite keeps dates and times as text: binding every instant through
``tables.UtcDateTime`` (and every day through ``Date``) keeps the stored and compared forms equal.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import JSON, Date, Integer, TextClause, bindparam, text
from sqlalchemy.types import TypeEngine

from surgehub.warehouse.db import sql_file
from surgehub.warehouse.tables import UtcDateTime

#: Parameter and result names with a type other than plain text or numbers.
TYPES: dict[str, TypeEngine[object]] = {
    "activity_date": Date(),
    "day_before": Date(),
    "first_day": Date(),
    "last_day": Date(),
    "active_from": Date(),
    "active_to": Date(),
    "as_of": UtcDateTime(),
    "received_at": UtcDateTime(),
    "first_received_at": UtcDateTime(),
    "processed_at": UtcDateTime(),
    "computed_at": UtcDateTime(),
    "reasons": JSON(),
    "figures": JSON(),
    "errors": JSON(),
    "warnings": JSON(),
    "versions_known": Integer(),
}


@cache
def statement(name: str, *result_columns: str) -> TextClause:
    """``sql/<name>`` as a text clause; typed parameters by name, and typed result columns if listed."""
    clause = text(sql_file(name))
    present = [key for key in clause._bindparams if key in TYPES]
    if present:
        clause = clause.bindparams(*(bindparam(key, type_=TYPES[key]) for key in present))
    typed = {column: TYPES[column] for column in result_columns if column in TYPES}
    if typed:
        return clause.columns(**typed)  # type: ignore[return-value]
    return clause
