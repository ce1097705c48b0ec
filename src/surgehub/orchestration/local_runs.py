"""Runs the project's DAGs in this process with real Airflow (``dag.test()``), for the demo and tests.

Call only after ``airflow_env.apply_environment`` has pointed Airflow at its home: Airflow reads its
configuration when first imported.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

WAREHOUSE_POOL = "surgehub_warehouse"


def prepare_airflow() -> None:
    """A fresh metadata database and the one-slot pool for warehouse writers."""
    from airflow.models.pool import Pool
    from airflow.utils import db

    db.resetdb(skip_init=False)
    Pool.create_or_update_pool(
        WAREHOUSE_POOL,
        slots=1,
        description="Warehouse writers: one at a time on SQLite",
        include_deferred=False,
    )


def dag_bag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag


def run_dag(
    bag: Any, dag_id: str, *, run_conf: dict[str, Any] | None = None, logical_date: datetime | None = None
) -> Any:
    """Run one DAG to completion; raise if any task did not succeed."""
    from airflow.utils.state import DagRunState

    dag = bag.get_dag(dag_id)
    kwargs: dict[str, Any] = {"run_conf": run_conf}
    if logical_date is not None:
        kwargs["logical_date"] = logical_date
    dag_run = dag.test(**kwargs)
    if dag_run.state != DagRunState.SUCCESS:
        failed = [ti.task_id for ti in dag_run.get_task_instances() if ti.state != "success"]
        raise RuntimeError(
            f"{dag_id} run {dag_run.run_id} ended {dag_run.state}; tasks not successful: {failed}"
        )
    return dag_run
