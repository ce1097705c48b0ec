"""``validate_cold_extra_s``: what a cold ``surgehub validate`` of a three-row file costs beyond importing GX.

Issue 16's goal: validating a three-row file from a cold start costs at most 1.5 s more than
``python -c "import great_expectations"`` measured in the same run (GX must still run: it does, the
suite is always run). Each repeat runs, in fresh interpreters with the same environment, first the GX
import and then the command (alternating, so both see the same machine load); the figure is the
median of the per-repeat differences. Beside it: both medians, and the same difference in CPU time
(user + system, ``validate_cold_extra_cpu_s``), which the load of a shared machine disturbs less.

The file is a valid three-row return for Manchester on the fixed timeline (``surgehub.sample``);
the command is the installed console script, exactly as a user runs it.
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPEATS = 5
RECEIVED_AT = "2026-11-25T09:00"


def three_row_file(folder: Path) -> Path:
    from surgehub import sample

    rows = sample.locality_rows("14L", [date(2026, 11, 24)], random.Random(7))[:3]
    path = folder / "manchester-2026-11-24.csv"
    path.write_bytes(sample.to_csv(rows))
    return path


def command() -> list[str]:
    script = Path(sys.executable).with_name("surgehub")
    return [str(script)] if script.exists() else [sys.executable, "-m", "surgehub.cli"]


def timed(args: list[str], env: dict[str, str], expect: int = 0) -> tuple[float, float]:
    """(wall seconds, CPU seconds user + system) of one run of ``args`` in a fresh interpreter."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != expect:
        raise RuntimeError(f"{args} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> dict[str, float]:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as folder:
        env["SURGEHUB_HOME"] = folder  # nothing of the project's own data folder is touched
        path = three_row_file(Path(folder))
        validate = [*command(), "validate", str(path), "--locality", "14L", "--received-at", RECEIVED_AT]
        gx_import = [sys.executable, "-c", "import great_expectations"]
        timed(validate, env)  # once first, so both sides start with the same page cache
        gx_runs, validate_runs = [], []
        for _ in range(REPEATS):
            gx_runs.append(timed(gx_import, env))
            validate_runs.append(timed(validate, env))
    extra = [v[0] - g[0] for v, g in zip(validate_runs, gx_runs, strict=True)]
    extra_cpu = [v[1] - g[1] for v, g in zip(validate_runs, gx_runs, strict=True)]
    return {
        "validate_cold_extra_s": round(statistics.median(extra), 3),
        "validate_cold_extra_cpu_s": round(statistics.median(extra_cpu), 3),
        "validate_cold_s": round(statistics.median(v[0] for v in validate_runs), 3),
        "gx_import_cold_s": round(statistics.median(g[0] for g in gx_runs), 3),
    }


if __name__ == "__main__":
    print(json.dumps(main()), flush=True)
