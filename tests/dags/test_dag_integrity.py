"""DAG conventions as tests: they import cleanly, are the DAGs we expect, and follow the house rules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from surgehub.config import PROJECT_ROOT
from surgehub.orchestration.dag_support import OWNER, Tag

DAGS = PROJECT_ROOT / "dags"

EXPECTED = {
    "surgehub_ingest": {
        "ingest_returns",
        "announce_loaded_days",
        "send_receipts",
        "check_every_file_acknowledged",
        "build_data_docs",
    },
    "surgehub_rag": {"compute_rag"},
    "surgehub_board_digest": {"send_board_digest"},
    "surgehub_chase": {"chase_localities"},
    "surgehub_daily_summary": {"send_daily_summary"},
    "surgehub_housekeeping": {"purge_quarantine"},
}

#: Tasks whose failure a retry cannot mend (a check of what already happened): they fail at once.
DETERMINISTIC = {("surgehub_ingest", "check_every_file_acknowledged")}

HEAVY = ("pandas", "great_expectations", "matplotlib", "openpyxl", "psycopg", "pyarrow")


@pytest.fixture(scope="module")
def dag_bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_every_dag_file_imports_without_errors(dag_bag) -> None:
    assert dag_bag.import_errors == {}


def test_the_expected_dags_and_tasks_exist(dag_bag) -> None:
    found = {dag_id: {t.task_id for t in dag.tasks} for dag_id, dag in dag_bag.dags.items()}
    for dag_id, tasks in EXPECTED.items():
        assert dag_id in found, f"{dag_id} missing"
        assert tasks <= found[dag_id], f"{dag_id} lacks {tasks - found[dag_id]}"


def test_dag_id_is_the_file_name(dag_bag) -> None:
    for dag_id, dag in dag_bag.dags.items():
        assert Path(dag.fileloc).stem == dag_id


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_dag_follows_house_rules(dag_bag, dag_id: str) -> None:
    dag = dag_bag.dags[dag_id]
    assert dag.description, f"{dag_id} has no description (the Airflow UI lists it)"
    assert dag.doc_md
    assert "**Owner.**" in dag.doc_md
    assert "**When it fails.**" in dag.doc_md
    assert "\n1. " in dag.doc_md.split("**When it fails.**")[1], (
        "what to do when it fails is a numbered checklist"
    )
    assert dag.tags
    assert set(dag.tags) <= {t.value for t in Tag}
    assert dag.catchup is False
    assert dag.dagrun_timeout is not None, f"{dag_id} has no dagrun_timeout"
    assert dag.deadline, f"{dag_id} has no deadline alert: lateness matters for every surgehub DAG"
    for task in dag.tasks:
        assert task.owner == OWNER
        assert task.execution_timeout is not None, f"{dag_id}.{task.task_id} has no execution_timeout"
        if (dag_id, task.task_id) in DETERMINISTIC:
            assert task.retries == 0, f"{dag_id}.{task.task_id} is deterministic: a retry cannot mend it"
        else:
            assert task.retries >= 2
            assert task.retry_exponential_backoff
        assert task.on_failure_callback, f"{dag_id}.{task.task_id} has no failure alert"


def test_every_asset_a_dag_produces_is_consumed(dag_bag) -> None:
    produced = {outlet.name for dag in dag_bag.dags.values() for task in dag.tasks for outlet in task.outlets}

    def names(condition: object) -> set[str]:  # an asset, or an any/all condition over assets
        parts = getattr(condition, "objects", None)
        if parts is None:
            return {condition.name} if hasattr(condition, "name") else set()
        return set().union(*(names(part) for part in parts))

    consumed = set().union(
        *(names(getattr(dag.timetable, "asset_condition", None)) for dag in dag_bag.dags.values())
    )
    assert produced
    assert produced <= consumed, f"produced but consumed by no DAG: {sorted(produced - consumed)}"


def test_only_a_run_that_loaded_something_updates_the_hub_days(dag_bag) -> None:
    from airflow.sdk.exceptions import AirflowSkipException

    from surgehub.orchestration import tasks

    dag = dag_bag.dags["surgehub_ingest"]
    assert dag.get_task("ingest_returns").outlets == []
    assert [a.name for a in dag.get_task("announce_loaded_days").outlets] == ["surgehub_hub_days"]
    with pytest.raises(AirflowSkipException, match="no accepted return was loaded"):
        tasks.loaded_days_or_skip({"submissions": [{"status": "rejected"}], "days": [], "failures": []})
    assert tasks.loaded_days_or_skip({"days": ["2026-11-24"]}) == {"days": ["2026-11-24"]}


def test_no_task_relies_on_multiple_outputs_inference() -> None:
    """Ruff's preview rule AIR202: a task returning a dict says whether it has multiple outputs."""
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [str(ruff), "check", "--preview", "--select", "AIR", "--no-cache", str(DAGS)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


def test_ingest_dag_is_triggered_by_the_landing_watcher(dag_bag) -> None:
    dag = dag_bag.dags["surgehub_ingest"]
    (landing,) = dag.timetable.asset_condition.objects
    assert landing.name == "surgehub_landing"
    assert [w.trigger.__class__.__name__ for w in landing.watchers] == ["LandingZoneTrigger"]
    assert landing.watchers[0].trigger.poll_interval == 1.0  # SURGEHUB_LANDING_POLL_SECONDS' default


def test_ingest_task_sends_its_receipts_and_the_sweep_follows_it(dag_bag) -> None:
    """The receipts go out from the end of the ingest task; send_receipts is the outbox sweep after it,
    even when the ingest failed."""
    import inspect

    dag = dag_bag.dags["surgehub_ingest"]
    ingest, sweep = dag.get_task("ingest_returns"), dag.get_task("send_receipts")
    assert "tasks.send_receipts_from_ingest(result, resources)" in inspect.getsource(ingest.python_callable)
    assert sweep.upstream_task_ids == {"ingest_returns"}
    assert sweep.trigger_rule == "all_done"


_PROBE = """
import json, sys, time, importlib.util
import airflow.sdk  # the DAG processor has Airflow loaded already
sys.path.insert(0, {plugins!r})
before = set(sys.modules)
timings = {{}}
for path in {files!r}:
    spec = importlib.util.spec_from_file_location("dagfile_" + str(len(timings)), path)
    module = importlib.util.module_from_spec(spec)
    start = time.perf_counter()
    spec.loader.exec_module(module)
    timings[path] = time.perf_counter() - start
heavy = sorted({{m.split('.')[0] for m in set(sys.modules) - before}} & set({heavy!r}))
print(json.dumps({{"timings": timings, "heavy": heavy}}))
"""


def test_dag_files_import_nothing_heavy_at_parse_time() -> None:
    files = [str(p) for p in sorted(DAGS.glob("*.py"))]
    code = _PROBE.format(plugins=str(PROJECT_ROOT / "plugins"), files=files, heavy=list(HEAVY))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy(), check=True
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["heavy"] == [], f"heavy modules imported while parsing DAGs: {report['heavy']}"
