"""The production configuration without Docker: CeleryExecutor with the local Redis broker, Airflow
metadata and the warehouse in separate PostgreSQL databases, scheduler, triggerer, DAG processor,
API server and a Celery worker as separate processes. Returns dropped into landing must be loaded
into the PostgreSQL warehouse and their receipts delivered."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from surgehub.warehouse.tables import hub_day_version, submission
from tests.support.live import Live, drop, live_system, receipts_to, wait_for
from tests.support.postgres import throwaway_database
from tests.support.returns import valid_return
from tests.support.services import port_open, require

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.airflow, pytest.mark.smtp, pytest.mark.postgres]


@pytest.fixture(scope="module")
def celery_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    require(port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    with (
        throwaway_database("sh_airflow", migrate=False) as metadata_url,
        throwaway_database("sh_warehouse", migrate=False) as warehouse_url,
    ):
        redis_db = random.Random(metadata_url).randint(1, 15)  # a broker database of this run's own
        with (
            live_system(
                tmp_path_factory.mktemp("celery"),
                warehouse_url=warehouse_url,
                executor="CeleryExecutor",
                components=("scheduler", "triggerer", "dag-processor", "api-server", "celery worker"),
                extra_env={
                    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
                    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata_url,
                    "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:6379/{redis_db}",
                    "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{metadata_url}",
                    "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
                },
                timeout=420,  # five processes each importing Airflow: about 50 s idle, 4x that on a busy CI machine
            ) as system
        ):
            yield system


def test_celery_worker_loads_returns_into_the_postgresql_warehouse(celery_stack: Live) -> None:
    settings, engine = celery_stack.settings, celery_stack.engine
    assert engine.dialect.name == "postgresql"
    for code, seed in (("14L", 1), ("01G", 2)):
        drop(settings.landing_dir, code, f"{code}.csv", valid_return(code, seed))

    def loaded() -> dict[str, int]:
        with engine.connect() as conn:
            return dict(
                conn.execute(
                    select(hub_day_version.c.sub_icb_code, func.count()).group_by(
                        hub_day_version.c.sub_icb_code
                    )
                ).all()
            )

    assert wait_for(
        lambda: len(loaded()) == 2 and loaded(), timeout=180, what="both returns in PostgreSQL"
    ) == {
        "14L": 3,
        "01G": 1,
    }
    wait_for(lambda: receipts_to(settings.outbox_dir, "manchester"), what="Manchester's receipt")
    wait_for(lambda: receipts_to(settings.outbox_dir, "salford"), what="Salford's receipt")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(submission)).scalar_one() == 2
    log = (settings.home / "logs" / "airflow_celery_worker.log").read_text(errors="replace")
    assert "surgehub_ingest" in log  # the tasks really ran on the Celery worker
