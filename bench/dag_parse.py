"""``dag_parse_max_s``: the slowest DAG file's import, as the DAG processor sees it.

Each file of ``dags/`` is imported in a fresh interpreter that has already imported ``airflow.sdk``
(the DAG processor has Airflow loaded before it parses anything), with ``plugins/`` and ``src/`` on
the path; the import alone is timed (``runpy.run_path``), twice per file, the median (mean of two) kept.
Baseline, measured the same way in the same run: a trivial DAG file (one ``@task``).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from surgehub.config import PROJECT_ROOT

_PROBE = """
import sys, time, runpy
sys.path[:0] = [{plugins!r}, {src!r}]
import airflow.sdk  # loaded before parsing, as in the DAG processor
start = time.perf_counter()
runpy.run_path({path!r}, run_name="dag_under_test")
print(time.perf_counter() - start)
"""

_TRIVIAL_DAG = """
from airflow.sdk import dag, task

@dag(schedule=None)
def trivial():
    @task
    def hello():
        return 1
    hello()

trivial()
"""

REPEATS = 2


def import_seconds(path: Path, env: dict[str, str]) -> float:
    code = _PROBE.format(plugins=str(PROJECT_ROOT / "plugins"), src=str(PROJECT_ROOT / "src"), path=str(path))
    times = []
    for _ in range(REPEATS):
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        times.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def main() -> dict[str, float]:
    env = dict(os.environ)
    figures: dict[str, float] = {}
    per_file = {path.name: import_seconds(path, env) for path in sorted((PROJECT_ROOT / "dags").glob("*.py"))}
    slowest = max(per_file, key=per_file.__getitem__)
    figures["dag_parse_max_s"] = round(per_file[slowest], 3)
    with tempfile.TemporaryDirectory() as tmp:
        trivial = Path(tmp) / "trivial_dag.py"
        trivial.write_text(_TRIVIAL_DAG)
        figures["dag_parse_trivial_s"] = round(import_seconds(trivial, env), 3)
    print(
        json.dumps({"dag_parse_per_file_s": {k: round(v, 3) for k, v in per_file.items()}}), file=sys.stderr
    )
    return figures


if __name__ == "__main__":
    print(json.dumps(main()), flush=True)
