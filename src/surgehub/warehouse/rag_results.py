"""Named queries for RAG: the hub-days of one activity date as of T, and the `rag_result` table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from surgehub.warehouse.db import writer
from surgehub.warehouse.queries import statement

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import date, datetime

    from sqlalchemy import Engine, RowMapping


def hub_day_rows(engine: Engine, day: date, as_of: datetime) -> Sequence[RowMapping]:
    """The current version as of ``as_of`` of every hub-day dated ``day`` (hub-days with none are absent)."""
    query = statement("rag/select_hub_days.sql", "first_received_at", "received_at", "versions_known")
    parameters = {"activity_date": day, "first_day": day, "last_day": day, "as_of": as_of}
    with engine.connect() as connection:
        return connection.execute(query, parameters).mappings().all()


def store_rag(engine: Engine, rows: Sequence[Mapping[str, Any]]) -> None:
    """Upsert RAG result rows (``DayRag.result_rows``: each locality and GM for one day as of T) into
    rag_result; the key is (day, code, as-of), so re-running replaces them."""
    with writer(engine).begin() as connection:
        connection.execute(statement("rag/upsert_rag_result.sql"), list(rows))
