"""`make bench-stack`: the national burst on the production stack (CeleryExecutor), with 1 and then 2 workers.

The same burst as ``bench.burst_national`` (420 returns, 42 ICBs × 10 areas of the synthetic national
register, renamed in evenly within 60 s), on the production stack of docker-compose.yml run as real
containers: PostgreSQL (Airflow's metadata and the warehouse), Redis, the Airflow API server, scheduler,
DAG processor, triggerer (the landing watcher) and Celery worker(s), the submission API, and the mail
catcher. The stack is built and started as `make stack-test` does (tests/stack/run_stack.py: the local
stand-ins for the upstream images, the project's image, surgehub's clock frozen on the fixed timeline),
plus bench/compose.bench-stack.yml (the warehouse on a loopback port; the catcher keeps every message).

1. The synthetic national register by area (``bench.national.build_area_register``: 420 localities
   ``A01``…``K42``, three hubs each) is recorded in the warehouse *as data*, with one submitter account
   per locality, while the stack runs; ``airflow-init`` is run again, which makes a landing folder for
   every locality the register holds (deploy/airflow-init.sh, as an operator does after recording a
   locality). The watcher reads the register's localities every 10 s.
2. With one Celery worker: ``BURSTS`` bursts. Each writes one valid return per area (one activity day,
   a different day per burst) from a container that plays the SFTP server (user 1001, group 0), each as
   a partial name renamed in, the renames spread evenly over ``SPREAD_S``; then it waits for every
   receipt. A file's latency runs from its rename to its receipt being stored by the mail catcher (both
   clocks are this machine's kernel clock).
3. ``docker compose up --scale airflow-worker=2`` and the same again on other days.

Figures, for each worker count N (``_1w``, ``_2w``): ``stack_national_p95_s_Nw`` (and median, max),
``stack_national_files_per_min_Nw`` (the median burst's files / (its last receipt − its first rename)
× 60) and ``…_per_worker_Nw``, ``stack_national_lost_or_doubled_Nw`` (files without exactly one
submission, plus receipts beyond one: must be 0), the ingest runs (files per run, the ingest task's
median time, from Airflow's metadata database), and each service's CPU per file (from the containers'
cgroups), which says what limits the throughput. Before each burst, ``bench.calibration``'s fixed
workload and the 1-minute load average record how busy the shared machine was.

Writes bench/results-stack.json and prints a table. Not part of `make bench` or `make test`: it needs
a Docker engine with compose and local/debian:bookworm (../shared/tools/docker-engine.sh) and takes
about 25 minutes (the first image build adds about 5) and ~40 GB of free disk (vfs storage).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from bench.burst_national import run_figures
from bench.live_receipts import _p95
from tests.stack.run_stack import (
    BASE_IMAGE,
    OVERRIDE,
    Day,
    Stack,
    StepFailed,
    _interrupt,
    _kind_of,
    free_port,
    git_revision,
    run,
    wait_for,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results-stack.json"
BENCH_OVERRIDE = BENCH_DIR / "compose.bench-stack.yml"
BURSTS = 5
SPREAD_S = 60.0
TIMEOUT_S = 900.0
NOW = "2026-11-25T09:00:00+00:00"  # = SURGEHUB_NOW in tests/stack/compose.stack-test.yml
#: One worker takes 19–23 November, two workers 14–18 November (R07: at most 14 days before the 25th).
FIRST_DAY = {1: date(2026, 11, 19), 2: date(2026, 11, 14)}
#: The watcher reads the register's localities every 10 s (landing_trigger.CODES_REFRESH_S).
REGISTER_SETTLE_S = 15.0
#: A receipt sent twice would arrive within this of the first.
DOUBLE_GRACE_S = 5.0

#: Runs in the SFTP stand-in container: write each return under a partial name beside its final one and
#: rename it in, evenly over ``spread`` seconds; print when each was renamed (epoch seconds).
DROP_SCRIPT = """
import json, os, sys, time
job = json.load(sys.stdin)
files = job["files"]
gap = job["spread"] / max(1, len(files) - 1)
renamed = {}
first = time.monotonic()
for n, (code, name, body) in enumerate(files):
    partial = f"/landing/{code}/.{name}.part"
    with open(partial, "wb") as out:
        out.write(body.encode())
    os.rename(partial, f"/landing/{code}/{name}")
    renamed[name] = time.time()
    time.sleep(max(0.0, first + (n + 1) * gap - time.monotonic()))
print(json.dumps(renamed))
"""


class Bench:
    def __init__(self, stack: Stack, engine_url: str) -> None:
        from sqlalchemy import create_engine

        from bench import national
        from surgehub import clock

        self.stack = stack
        self.engine: Engine = create_engine(engine_url)
        self.register = national.build_area_register()
        self.codes = [loc.sub_icb_code for loc in self.register.localities]
        self.address = {code: national.contact_of(code) for code in self.codes}
        self.view = self.register.as_of(clock.parse_instant(NOW))
        self.rng = random.Random(420)
        self.last_run_id = 0
        self.files_dropped = 0

    # -- set-up ------------------------------------------------------------------------------------

    def record_register(self) -> float:
        """The national register and its submitters as data, then a landing folder for every locality."""
        from bench import national
        from surgehub import clock
        from surgehub.warehouse.register import locality_codes

        started = time.monotonic()
        wait_for(
            lambda: self._connects(),
            timeout=120,
            what="the warehouse on its loopback port",
            container="postgres",
        )
        national.seed_national(self.engine, self.register)
        national.add_submitters(self.engine, self.register, clock.parse_instant(NOW))
        held = locality_codes(self.engine)
        if not set(self.codes) <= held:
            raise StepFailed(
                f"the warehouse's register lacks {len(set(self.codes) - held)} national localities"
            )
        print(self.stack.compose("run", "--rm", "--no-deps", "airflow-init", timeout=600)[-300:], flush=True)
        missing = self.stack.in_volumes(
            "for c in " + " ".join(self.codes) + '; do [ -d "/landing/$c/processed" ] || echo "$c"; done'
        ).split()
        if missing:
            raise StepFailed(f"airflow-init made no landing folder for {missing[:5]}", "airflow-init")
        return time.monotonic() - started

    def _connects(self) -> bool:
        from sqlalchemy import text

        with self.engine.connect() as connection:
            return connection.execute(text("select 1")).scalar_one() == 1

    # -- one burst ---------------------------------------------------------------------------------

    def burst(self, day: date) -> dict[str, Any]:
        from bench.calibration import main as calibrate
        from surgehub import sample

        calibration = calibrate()["calibration_s"]
        load = os.getloadavg()[0]
        files = []
        names: dict[str, str] = {}  # address -> file name
        for code in self.codes:
            body = sample.to_csv(sample.locality_rows(code, [day], self.rng, register=self.view))
            name = f"{code.lower()}-{day:%d%b}.csv".lower()  # a06-19nov.csv: never ten digits (R16)
            files.append((code, name, body.decode()))
            names[self.address[code]] = name
        started = time.time()
        out = run(
            ["docker", "exec", "-i", "--user", "1001:0", self.stack.helper, "python", "-c", DROP_SCRIPT],
            input=json.dumps({"spread": SPREAD_S, "files": files}).encode(),
            timeout=SPREAD_S * 3,
        )
        dropped: dict[str, float] = json.loads(out)
        delivered = self._wait_for_receipts(names, since=started)
        if len(delivered) < len(dropped):
            missing = sorted(set(dropped) - set(delivered))
            raise StepFailed(f"{len(missing)} receipt(s) missing after {TIMEOUT_S:.0f} s, e.g. {missing[:5]}")
        time.sleep(DOUBLE_GRACE_S)
        receipts = self._receipts(since=started)
        per_address = Counter(to for to, _, _ in receipts if to in names)
        doubled = sum(n - 1 for n in per_address.values() if n > 1)
        not_accepted = sum(1 for to, subject, _ in receipts if to in names and "accepted" not in subject)
        latencies = [delivered[name] - dropped[name] for name in dropped]
        span = max(delivered.values()) - min(dropped.values())
        return {
            "day": day.isoformat(),
            "files": len(latencies),
            "p95_s": round(_p95(latencies), 2),
            "median_s": round(statistics.median(latencies), 2),
            "max_s": round(max(latencies), 2),
            "files_per_min": round(len(latencies) / span * 60, 1),
            "span_s": round(span, 1),
            "receipts_doubled": doubled,
            "receipts_not_accepted": not_accepted,
            "calibration_s": calibration,
            "load_1min": round(load, 1),
            "_latencies": latencies,
        }

    def _receipts(self, since: float) -> list[tuple[str, str, float]]:
        """(to, subject, stored at) of every receipt the catcher stored since ``since`` (epoch s)."""
        answer = requests.get(
            self.stack.url("MAILPIT_UI_PORT", "/api/v1/messages"), params={"limit": 20000}, timeout=30
        )
        answer.raise_for_status()
        found = []
        for message in answer.json()["messages"]:
            if _kind_of(message["MessageID"]) != "receipt":
                continue
            at = datetime.fromisoformat(message["Created"].replace("Z", "+00:00")).timestamp()
            if at >= since:
                found.extend((to["Address"], message["Subject"], at) for to in message["To"])
        return found

    def _wait_for_receipts(self, names: dict[str, str], since: float) -> dict[str, float]:
        delivered: dict[str, float] = {}
        deadline = time.monotonic() + SPREAD_S + TIMEOUT_S
        while len(delivered) < len(names) and time.monotonic() < deadline:
            for to, _, at in self._receipts(since):
                if to in names:
                    delivered[names[to]] = min(at, delivered.get(names[to], at))
            time.sleep(2)
        return delivered

    # -- what the warehouse and Airflow say --------------------------------------------------------

    def lost_or_doubled(self, expected: int) -> tuple[int, int]:
        """(files without exactly one submission, submissions not accepted) among the national ones."""
        from sqlalchemy import select

        from surgehub.warehouse.tables import submission

        national = set(self.codes)
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(submission.c.sub_icb_code, submission.c.file_name, submission.c.outcome)
            ).all()
        mine = [r for r in rows if r.sub_icb_code in national]
        names = Counter(r.file_name for r in mine)
        off = abs(len(names) - expected) + sum(n - 1 for n in names.values())
        return off, sum(1 for r in mine if r.outcome != "accepted")

    def runs(self) -> dict[str, Any]:
        """The ingest runs since the last call: asset events (files announced) each took, the task's time."""
        rows = self.stack.sql(
            "select r.id, count(distinct d.event_id),"
            " extract(epoch from max(i.end_date) - min(i.start_date))"
            " from dag_run r left join dagrun_asset_event d on d.dag_run_id = r.id"
            " left join task_instance i on i.run_id = r.run_id and i.dag_id = r.dag_id"
            " and i.task_id = 'ingest_returns'"
            f" where r.dag_id = 'surgehub_ingest' and r.id > {self.last_run_id} group by r.id order by r.id",
            "airflow",
        )
        if rows:
            self.last_run_id = max(int(r[0]) for r in rows)
        return run_figures([int(r[1]) for r in rows], [float(r[2]) for r in rows if r[2]])

    def cpu_by_service(self) -> dict[str, float]:
        """CPU seconds each service's containers have used (from their cgroups), summed by service."""
        label = f"label=com.docker.compose.project={self.stack.project}"
        out = run(["docker", "ps", "--no-trunc", "--filter", label,
                   "--format", '{{.ID}} {{.Label "com.docker.compose.service"}}'])  # fmt: skip
        used: dict[str, float] = {}
        for line in out.splitlines():
            cid, _, service = line.partition(" ")
            seconds = container_cpu_s(cid)
            if seconds is not None:
                used[service] = used.get(service, 0.0) + seconds
        return used


def container_cpu_s(cid: str) -> float | None:
    """A container's CPU seconds so far: cgroup v1 ``cpuacct.usage`` (ns) or v2 ``cpu.stat`` (µs)."""
    for v1 in ("cpuacct", "cpu,cpuacct"):
        usage = Path(f"/sys/fs/cgroup/{v1}/docker/{cid}/cpuacct.usage")
        if usage.exists():
            return int(usage.read_text()) / 1e9
    for v2 in (f"/sys/fs/cgroup/docker/{cid}", f"/sys/fs/cgroup/system.slice/docker-{cid}.scope"):
        stat = Path(v2) / "cpu.stat"
        if stat.exists():
            fields = dict(line.split() for line in stat.read_text().splitlines())
            return int(fields["usage_usec"]) / 1e6
    return None


def setting(bench: Bench, workers: int, bursts: int) -> dict[str, Any]:
    """``bursts`` bursts with ``workers`` Celery workers; the figures with the suffix ``_{workers}w``."""
    cpu_before = bench.cpu_by_service()
    bench.runs()  # only this setting's runs from here
    per_burst = []
    for n in range(bursts):
        day = FIRST_DAY[workers] + timedelta(days=n)
        per_burst.append(bench.burst(day))
        shown = {k: v for k, v in per_burst[-1].items() if not k.startswith("_")}
        print(f"{workers} worker(s), burst {n + 1} ({day}): {shown}", file=sys.stderr, flush=True)
    cpu_after = bench.cpu_by_service()
    latencies = [s for b in per_burst for s in b.pop("_latencies")]
    files = len(latencies)
    bench.files_dropped += files
    off, not_accepted = bench.lost_or_doubled(bench.files_dropped)  # every national file so far
    per_min = statistics.median(b["files_per_min"] for b in per_burst)
    suffix = f"_{workers}w"
    cpu = {
        f"stack_national_cpu_ms_per_file_{service}{suffix}": round(
            (cpu_after.get(service, 0.0) - cpu_before.get(service, 0.0)) / files * 1000, 1
        )
        for service in sorted(set(cpu_after) | set(cpu_before))
    }
    runs = {f"stack_national_{k}{suffix}": v for k, v in bench.runs().items()}
    figures = {
        f"stack_national_p95_s{suffix}": round(_p95(latencies), 2),
        f"stack_national_median_s{suffix}": round(statistics.median(latencies), 2),
        f"stack_national_max_s{suffix}": round(max(latencies), 2),
        f"stack_national_files{suffix}": files,
        f"stack_national_files_per_min{suffix}": per_min,
        f"stack_national_files_per_min_best{suffix}": max(b["files_per_min"] for b in per_burst),
        f"stack_national_files_per_min_per_worker{suffix}": round(per_min / workers, 1),
        f"stack_national_receipts_doubled{suffix}": sum(b["receipts_doubled"] for b in per_burst),
        f"stack_national_lost_or_doubled{suffix}": off + sum(b["receipts_doubled"] for b in per_burst),
        f"stack_national_not_accepted{suffix}": not_accepted
        + sum(b["receipts_not_accepted"] for b in per_burst),
        f"stack_national_calibration_s{suffix}": statistics.median(b["calibration_s"] for b in per_burst),
        f"stack_national_load_1min{suffix}": statistics.median(b["load_1min"] for b in per_burst),
        f"stack_national_per_burst{suffix}": per_burst,
    }
    return figures | runs | cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stack_burst", description=__doc__.splitlines()[0])
    parser.add_argument("--skip-build", action="store_true", help="do not rebuild the stand-in images")
    parser.add_argument(
        "--bursts",
        type=int,
        default=BURSTS,
        choices=range(1, BURSTS + 1),
        metavar="1-5",
        help=f"bursts per worker count (default {BURSTS}; each its own activity day within R07's 14 days)",
    )
    parser.add_argument("--keep", action="store_true", help="leave the stack up afterwards")
    args = parser.parse_args(argv)
    if (
        shutil.which("docker") is None
        or subprocess.run(["docker", "image", "inspect", BASE_IMAGE], capture_output=True).returncode != 0
    ):
        print(
            f"bench-stack: needs docker and {BASE_IMAGE}: run ../shared/tools/docker-engine.sh first",
            file=sys.stderr,
        )
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="surgehub-bench-stack-"))
    pg_port = free_port()
    ports = {name: free_port() for name in ("AIRFLOW_UI_PORT", "SUBMISSION_API_PORT", "MAILPIT_UI_PORT")}
    stack = Stack(workdir, ports=ports | {"BENCH_PG_PORT": pg_port}, overrides=(OVERRIDE, BENCH_OVERRIDE))
    day = Day(stack)
    started = time.monotonic()
    print(f"bench-stack: project {stack.project}, revision {git_revision()}", flush=True)
    results: dict[str, Any] = {
        "stack_revision": git_revision(),
        "stack_date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }
    failed: BaseException | None = None
    try:
        day.build(skip=args.skip_build)
        day.start()
        bench = Bench(stack, f"postgresql+psycopg://airflow:{stack.password}@127.0.0.1:{pg_port}/surgehub")
        with day.step("record the national register (420 localities) and their landing folders"):
            results["stack_national_register_s"] = round(bench.record_register(), 1)
            time.sleep(REGISTER_SETTLE_S)
        for workers in (1, 2):
            if workers > 1:
                with day.step(f"scale to {workers} Celery workers"):
                    stack.up(workers=workers)
                    time.sleep(REGISTER_SETTLE_S)
            with day.step(f"{args.bursts} national bursts, {workers} worker(s)"):
                results |= setting(bench, workers, args.bursts)
        with day.step("none lost or doubled, every return accepted"):
            bad = {
                k: v
                for k, v in results.items()
                if k.startswith(("stack_national_lost_or_doubled_", "stack_national_not_accepted_")) and v
            }
            if bad:
                raise StepFailed(f"files lost or doubled, or returns not accepted: {bad}")
    except (StepFailed, KeyboardInterrupt) as exc:
        failed = exc
    finally:
        results["stack_bench_total_s"] = round(time.monotonic() - started)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        if failed is not None:
            print(f"\nbench-stack FAILED: {failed}", flush=True)
            with contextlib.suppress(Exception):
                print(stack.logs(getattr(failed, "container", None) or "airflow-worker"))
        stack.leave(keep=args.keep)
    print_table(results)
    return 0 if failed is None else 1


def print_table(results: dict[str, Any]) -> None:
    print(f"\n{'figure':<52} value")
    for key, value in results.items():
        if not isinstance(value, (list, dict)):
            print(f"{key:<52} {value}")
    print(f"\nwritten to {RESULTS.relative_to(BENCH_DIR.parent)}")


if __name__ == "__main__":
    sys.exit(main())
