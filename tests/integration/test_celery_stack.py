"""The production configuration without Docker: CeleryExecutor with the local Redis broker, Airflow
metadata and the warehouse in separate PostgreSQL databases, scheduler, triggerer, DAG processor,
API server and a Celery worker as separate processes. Returns dropped into landing must be loaded
into the PostgreSQL warehouse and their receipts delivered."""

from __future__ import annotations

import os
import random
import uuid
from datetime import date
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, func, select, text

from surgehub import sample
from surgehub.config import load_settings
from surgehub.warehouse.tables import hub_day_version, submission
from tests.conftest import port_open, require
from tests.integration.test_live import drop, receipts_to, wait_for

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.airflow, pytest.mark.smtp, pytest.mark.postgres]

PG = "postgresql+psycopg://postgres@127.0.0.1:5432"


@pytest.fixture(scope="module")
def celery_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    require(port_open("127.0.0.1", 5432), "PostgreSQL on 127.0.0.1:5432")
    require(port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    from surgehub.orchestration.live import free_port, start, stop

    suffix = uuid.uuid4().hex[:8]
    metadata_db, warehouse_db = f"sh_airflow_{suffix}", f"sh_warehouse_{suffix}"
    admin = create_engine(f"{PG}/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'create database "{metadata_db}"'))
        conn.execute(text(f'create database "{warehouse_db}"'))
    home = tmp_path_factory.mktemp("celery")
    saved = dict(os.environ)
    os.environ.update(
        {
            "SURGEHUB_HOME": str(home),
            "SURGEHUB_WAREHOUSE_URL": f"{PG}/{warehouse_db}",
            "SURGEHUB_NOW": "2026-11-25T09:00:00+00:00",
        }
    )
    settings = load_settings()
    redis_db = str(random.Random(suffix).randint(1, 15))
    try:
        system = start(
            settings,
            api_port=free_port(),
            smtp_port=free_port(),
            executor="CeleryExecutor",
            components=("scheduler", "triggerer", "dag-processor", "api-server", "celery worker"),
            log_ports=(free_port(), free_port()),
            extra_env={
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"{PG}/{metadata_db}",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": f"{PG}/{metadata_db}",
                "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:6379/{redis_db}",
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg://postgres@127.0.0.1:5432/{metadata_db}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            },
            timeout=240,
        )
        yield {"system": system, "settings": settings, "engine": create_engine(settings.warehouse_url)}
    finally:
        stop(settings)
        os.environ.clear()
        os.environ.update(saved)
        from surgehub.warehouse.db import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            for name in (metadata_db, warehouse_db):
                conn.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


def test_celery_worker_loads_returns_into_the_postgresql_warehouse(celery_stack: dict) -> None:
    settings, engine = celery_stack["settings"], celery_stack["engine"]
    assert engine.dialect.name == "postgresql"
    day = date(2026, 11, 24)
    for code, seed in (("14L", 1), ("01G", 2)):
        drop(
            settings.landing_dir,
            code,
            f"{code}.csv",
            sample.to_csv(sample.locality_rows(code, [day], random.Random(seed))),
        )

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
