"""`make bench`: run every benchmark step in its own process, write bench/results.json, print a table.

Each step is a module of this package run as ``python -m bench.<step>``; it prints one JSON object
(figure → number) on its last line of stdout. A step that cannot run here (e.g. no PostgreSQL) is
reported and its figures are left out; the exit code is 1 if any step failed. Every step runs on the
fixed timeline (``SURGEHUB_NOW``), never today's date. See docs/benchmarks.md for what each figure is.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results.json"
LOGS = BENCH_DIR / "logs"


@dataclass(frozen=True)
class Goal:
    figure: str
    limit: float
    meaning: str


GOALS: tuple[Goal, ...] = (
    # Issue 20's goals (second round) where it set one; the first round's otherwise.
    Goal("validate_1m_ratio", 1.3, "engine ÷ plain pandas, 1,000,000 rows, one file"),
    Goal(
        "validate_1m_by_icb_ratio",
        1.6,
        "the same rows as 42 ICB files: the batch path ÷ plain pandas per file",
    ),
    Goal("load_1m_pg_ratio", 2.0, "load as versions ÷ raw COPY into hub_day_version, PostgreSQL"),
    Goal("load_1m_pg_bare_ratio", 2.5, "load as versions ÷ raw COPY into a bare, constraint-free table"),
    Goal("backfill_season_s", 20, "a whole GM winter (1,510 files) through `surgehub backfill`"),
    Goal("event_to_receipt_p95_s", 15, "file landed → receipt delivered, live system, 20 files"),
    Goal("dag_parse_max_s", 0.3, "slowest DAG file's import"),
    Goal("parse_guard_ms_per_file", 10, "the parse guard's cost per return (child process, pipe, pickle)"),
    Goal("digest_render_s", 2, "board digest built and rendered after a full season"),
    Goal("digest_html_bytes", 100_000, "that digest's HTML"),
    Goal("peak_rss_mb", 1000, "peak RSS during the 1,000,000-row validation and load"),
    Goal("burst_gm_p95_s", 6, "all ten localities renamed in within 2 s → receipts stored, 5 bursts"),
    Goal(
        "burst_national_p95_s", 60, "420 areas renamed in over 60 s → receipts stored, embedded live system"
    ),
    Goal("burst_national_lost_or_doubled", 0, "submissions and receipts beyond or short of one per file"),
    Goal("validate_cold_extra_s", 1.5, "cold `surgehub validate`, 3 rows, minus `import great_expectations`"),
    Goal(
        "api_upload_p95_s", 2, "20 clients each upload every 2–3 s for 60 s to `surgehub serve`, live ingest"
    ),
    Goal("api_upload_errors", 0, "those uploads answered 5xx, 429, not at all, or not 201 queued"),
)

#: Steps in the order they run (cheap first, so a quick failure shows early).
STEPS: tuple[str, ...] = (
    "calibration",
    "validate_cold",
    "dag_parse",
    "parse_guard",
    "scale",
    "season",
    "live_receipts",
    "burst",
    "burst_national",
    "api_upload",
)

FIXED_NOW = "2026-11-25T09:00:00+00:00"


def run_step(step: str) -> tuple[dict[str, float], str | None, float]:
    """Run ``python -m bench.<step>``; its figures, an error text (or None), and its wall time."""
    LOGS.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.setdefault("SURGEHUB_NOW", FIXED_NOW)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH_DIR.parent), env.get("PYTHONPATH")]))
    started = time.perf_counter()
    with open(LOGS / f"{step}.log", "w") as log:
        done = subprocess.run(
            [sys.executable, "-m", f"bench.{step}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=BENCH_DIR.parent,
        )
    elapsed = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        return {}, f"exit {done.returncode}; see {LOGS / (step + '.log')}", elapsed
    try:
        figures = json.loads(lines[-1])
    except json.JSONDecodeError:
        return {}, f"no JSON on its last line; see {LOGS / (step + '.log')}", elapsed
    return {k: v for k, v in figures.items() if isinstance(v, int | float)}, None, elapsed


def table(results: dict[str, float]) -> str:
    """The goal figures first (with goal and verdict), then every other figure measured beside them."""
    lines = [f"{'figure':<34} {'value':>12} {'goal':>10}  verdict", "-" * 70]
    for goal in GOALS:
        value = results.get(goal.figure)
        if value is None:
            lines.append(f"{goal.figure:<34} {'—':>12} {'≤ ' + format(goal.limit, 'g'):>10}  not measured")
            continue
        verdict = "met" if value <= goal.limit else "MISSED"
        lines.append(f"{goal.figure:<34} {value:>12,.6g} {'≤ ' + format(goal.limit, 'g'):>10}  {verdict}")
    lines.append("")
    goal_names = {g.figure for g in GOALS}
    for name in sorted(set(results) - goal_names):
        lines.append(f"{name:<34} {results[name]:>12,.6g}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=STEPS, help="run only these steps (results merged)")
    args = parser.parse_args(argv)
    steps = args.only or list(STEPS)
    results: dict[str, float] = {}
    if args.only and RESULTS.exists():
        results.update(json.loads(RESULTS.read_text()))
    failed = []
    for step in steps:
        print(f"bench: {step} …", flush=True)
        figures, error, elapsed = run_step(step)
        if error:
            failed.append(step)
            print(f"bench: {step} FAILED after {elapsed:.0f} s: {error}", flush=True)
            continue
        print(f"bench: {step} done in {elapsed:.0f} s", flush=True)
        results.update(figures)
        RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")  # after each step
    print()
    print(table(results))
    print(f"\nwritten: {RESULTS}")
    if failed:
        print(f"failed steps: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
