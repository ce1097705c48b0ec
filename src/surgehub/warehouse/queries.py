"""The package's SQL files as SQLAlchemy statements, with bound parameters typed by their names.

Each ``sql/<area>/<verb>_<object>.sql`` is one statement. Files are rendered once with Jinja, for two
things only: ``{% include "fragments/…" %}`` shares a CTE between statements (the "versions as of T"
ranking is written once, in ``fragments/versions_as_of.sql``), and ``{# … #}`` comments (an SQL
comment holding ``:name`` would be taken for a bind parameter). Values are never rendered in: every
value is a bound parameter.

Types matter because SQLite keeps dates and times as text: binding every instant through
``tables.UtcDateTime`` (and every day through ``Date``) keeps the stored and compared forms equal.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, Integer, TextClause, bindparam, text

from surgehub.warehouse.tables import UtcDateTime

if TYPE_CHECKING:
    from sqlalchemy.types import TypeEngine

#: Parameter and result names with a type other than plain text or numbers.
TYPES: dict[str, TypeEngine[Any]] = {
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
def sql_file(name: str) -> str:
    """The SQL of ``sql/<name>`` (package data), its includes resolved and its Jinja comments removed."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("surgehub", "sql"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )
    return environment.get_template(name).render()


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


@cache
def statement_in(name: str, lists: tuple[str, ...], *result_columns: str) -> TextClause:
    """`statement` with the parameters named in ``lists`` expanding (``… in :hub_codes``), built once:
    the per-return queries of a load would otherwise build a new statement each time."""
    return statement(name, *result_columns).bindparams(*(bindparam(key, expanding=True) for key in lists))
