"""Named queries for RAG: the hub-days of one activity date as of T, and the `rag_result` table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, RowMapping

from surgehub.warehouse.db import writer
from surgehub.warehouse.queries import statement

if TYPE_CHECKING:
    from surgehub.rag import DayRag


def hub_day_rows(engine: Engine, day: date, as_of: datetime) -> Sequence[RowMapping]:
    """Every hub active on ``day`` with its current version as of ``as_of`` (nulls: no version yet)."""
    query = statement("rag/select_hub_days.sql", "first_received_at", "received_at", "versions_known")
    parameters = {"activity_date": day, "first_day": day, "last_day": day, "as_of": as_of}
    with engine.connect() as connection:
        return connection.execute(query, parameters).mappings().all()


def store_rag(engine: Engine, day_rag: DayRag, *, computed_at: datetime) -> None:
    """Upsert the results of one day as of its T into rag_result (re-running replaces them)."""
    common: dict[str, Any] = {
        "activity_date": day_rag.activity_date,
        "as_of": day_rag.as_of,
        "ruleset_version": day_rag.ruleset_version,
        "computed_at": computed_at,
    }
    rows = [
        {
            **common,
            "scope": "LOCALITY",
            "sub_icb_code": loc.sub_icb_code,
            "status": loc.status.value,
            "level": loc.level,
            "points": loc.points,
            "escalated": loc.escalated,
            "assurance": loc.assurance,
            "reasons": loc.reasons,
            "figures": loc.figures,
        }
        for loc in day_rag.localities
    ]
    gm = day_rag.gm.figures
    rows.append(
        {
            **common,
            "scope": "GM",
            "sub_icb_code": "GM",
            "status": str(gm["status_of_sums"]),
            "level": gm["level_of_sums"],
            "points": gm["points"],
            "escalated": False,
            "assurance": None,
            "reasons": gm["reasons"],
            "figures": gm,
        }
    )
    with writer(engine).begin() as connection:
        connection.execute(statement("rag/upsert_rag_result.sql"), rows)
