"""``api_upload_*``: twenty clients upload returns to `surgehub serve` at once, with the live ingest running.

Starts the live system exactly as `make up` does (``live_system()``: Airflow standalone with the
landing watcher and the ingest, embedded defaults, a throwaway data folder, the fixed timeline), then
`surgehub serve` on a free loopback port over the same data folder and warehouse, with the default
limits (``SURGEHUB_API_UPLOADS_PER_MINUTE`` unset: 30 uploads a minute per token). Twenty tokens are
made, two per locality, one per client. Locust (``bench/locustfile.py``, run headless as its own
process, loopback only) then runs ``CLIENTS`` users for ``RUN_S`` seconds: each sends a distinct valid
return for its token's locality (``upload_for``), waits 2–3 s after the answer, and sends the next, so
at most one upload in 2 s per token (under 30 a minute). Each upload's latency is from the request
being sent to the whole answer read, as Locust's client sees it.

An upload counts as an error unless it is answered 201 with the documented body (``status``
accepted, ``state`` queued, not a duplicate, the token's locality): a 5xx, a 429 (unexpected under
the limit), a connection failure or timeout, or any other answer. Every upload should then be loaded
by the live ingest: ``api_upload_loaded_in_run`` is how many were in the warehouse when the clients
stopped, ``api_upload_loaded`` how many within ``DRAIN_S`` seconds after (``api_upload_drain_s``:
how long the last took); the step fails if any upload went missing.

Baseline in the same run, just before the load: ``api_upload_alone_s``, the median of ``ALONE_N``
uploads sent one at a time by a twenty-first client to the idle server (same server, same moment, same
machine load); ``api_upload_p95_ratio`` is the p95 under load over it. ``api_upload_server_cpu_ms`` is
the server process's CPU time (user + system) per upload while the clients ran.

``BENCH_API_PROFILE=FILE`` runs the server under cProfile in every thread (``bench/serve_profiled.py``)
and writes its statistics to FILE: for finding where an upload's time goes, never for the figures.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bench.live_receipts import _p95, live_system

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Engine

CLIENTS = 20
RUN_S = 60
WAIT_S = (2.0, 3.0)
#: Activity days a client cycles through: within R07's 14 days before the fixed "today" (25 November).
DAYS = tuple(date(2026, 11, 12) + timedelta(days=n) for n in range(13))  # 12–24 November
ALONE_N = 5  # the baseline's uploads, one at a time
STOP_TIMEOUT_S = 30  # clients stop after their upload in flight is answered (at most this long)
DRAIN_S = 180
BENCH_DIR = Path(__file__).resolve().parent


def upload_for(client: int, upload: int, code: str) -> tuple[str, bytes]:
    """The ``upload``-th return of ``client`` (sending for locality ``code``): a file name and its bytes.

    Valid for the fixed timeline, and distinct for every (client, upload): the day cycles through
    ``DAYS``, the figures come from a generator seeded by the pair, and every row's comment names the
    pair (so no two uploads are ever the same bytes, which the API would answer as a duplicate).
    """
    from surgehub import sample

    day = DAYS[(client + upload) % len(DAYS)]
    rng = random.Random(client * 100_003 + upload)
    rows = sample.locality_rows(code, [day], rng)
    tag = f"bench client {client} upload {upload}"
    for row in rows:
        row["comments"] = f"{row['comments']}; {tag}" if row["comments"] else tag
    return f"{code}-{day.isoformat()}-c{client}-u{upload}.csv", sample.to_csv(rows)


def kind_of(status: int, body: object, code: str) -> str:
    """What an upload's answer was: ``ok`` only for the documented answer to a valid return (201,
    ``status`` accepted, ``state`` queued, not a duplicate, the token's locality, an ``api-…`` id);
    else ``connection`` (no answer: refused, reset, timed out; Locust's status 0), ``5xx``, ``429``
    or ``other``."""
    if status == 0:
        return "connection"
    if status >= 500:
        return "5xx"
    if status == 429:
        return "429"
    documented = (
        isinstance(body, dict)
        and body.get("status") == "accepted"
        and body.get("state") == "queued"
        and body.get("duplicate") is False
        and body.get("locality") == code
        and str(body.get("submission_id", "")).startswith("api-")
    )
    return "ok" if status == 201 and documented else "other"


def main() -> dict[str, float]:
    from surgehub import clock, reference
    from surgehub.api.limits import Limits
    from surgehub.api.tokens import create_token
    from surgehub.orchestration.live import free_port

    codes = [loc.sub_icb_code for loc in reference.localities()]
    with live_system("surgehub-bench-api-") as (settings, engine):
        env = dict(os.environ)
        env.pop("SURGEHUB_API_UPLOADS_PER_MINUTE", None)  # the default limit, as deployed
        env.pop("SURGEHUB_REDIS_URL", None)  # embedded: the limits in the server's memory
        limit = Limits.from_env(env).uploads_per_window
        if limit < 60 / WAIT_S[0]:  # said, not hidden: the 429s it causes are counted as errors
            print(f"the upload limit ({limit}/min) is below one per {WAIT_S[0]:g} s", file=sys.stderr)
        clients = [
            {
                "client": n,
                "code": codes[n % len(codes)],
                "token": create_token(engine, codes[n % len(codes)], now=clock.now(), label=f"bench {n}")[0],
            }
            for n in range(CLIENTS + 1)  # the last: the lone client of the baseline
        ]
        lone = clients.pop()
        work = settings.home / "bench-api"
        work.mkdir(parents=True)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server, log = _serve(env, port, settings.home / "logs" / "serve.log")
        try:
            _wait_ready(url, server, log)
            alone = _alone(url, lone)
            cpu_before, started = _cpu_s(server.pid), time.time()
            results = _locust(work, url, clients)
            cpu_used, stopped = _cpu_s(server.pid) - cpu_before, time.time()
            loaded_in_run = _loaded(engine)
            accepted = sum(r["kind"] == "ok" for r in results) + ALONE_N + 1
            loaded, drain = _drain(engine, accepted, stopped)
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        print(log.read_text(errors="replace")[-2000:], file=sys.stderr)
    figures = summarise(results, stopped - started)
    if loaded < accepted:
        raise RuntimeError(f"{accepted - loaded} accepted upload(s) not loaded within {DRAIN_S} s")
    return figures | {
        "api_upload_alone_s": round(statistics.median(alone), 3),
        "api_upload_p95_ratio": round(figures["api_upload_p95_s"] / statistics.median(alone), 2),
        "api_upload_clients": CLIENTS,
        "api_upload_limit_per_minute": limit,
        "api_upload_loaded_in_run": loaded_in_run,
        "api_upload_loaded": loaded,
        "api_upload_drain_s": round(drain, 1),
        # the server's own CPU time (user + system) while the clients ran, per upload: what an upload
        # costs the server, which the other processes on the machine disturb less than the latency
        "api_upload_server_cpu_ms": round(1000 * cpu_used / max(1, figures["api_upload_requests"]), 1),
    }


def summarise(results: Sequence[dict], elapsed_s: float) -> dict[str, float]:
    """The figures of the uploads' results (``kind`` ok, 5xx, 429, connection, other; ``seconds``)."""
    seconds = [r["seconds"] for r in results]
    kinds = [r["kind"] for r in results]
    return {
        "api_upload_p95_s": round(_p95(seconds), 3),
        "api_upload_median_s": round(statistics.median(seconds), 3),
        "api_upload_max_s": round(max(seconds), 3),
        "api_upload_requests": len(results),
        "api_upload_errors": sum(kind != "ok" for kind in kinds),
        "api_upload_errors_5xx": kinds.count("5xx"),
        "api_upload_errors_429": kinds.count("429"),
        "api_upload_errors_connection": kinds.count("connection"),
        "api_upload_rps": round(len(results) / elapsed_s, 2),
    }


def _serve(env: dict[str, str], port: int, log: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """`surgehub serve` on loopback, over the live system's data folder (``SURGEHUB_HOME`` in ``env``)."""
    argv = [str(Path(sys.executable).with_name("surgehub")), "serve"]
    if env.get("BENCH_API_PROFILE"):  # the server under cProfile, every thread (bench/serve_profiled.py)
        argv = [sys.executable, "-m", "bench.serve_profiled", env["BENCH_API_PROFILE"]]
        env = env | {
            "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH_DIR.parent), env.get("PYTHONPATH")]))
        }
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*argv, "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=BENCH_DIR.parent,
        )
    return process, log


def _wait_ready(url: str, server: subprocess.Popen[bytes], log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"surgehub serve exited with {server.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"surgehub serve not ready in {timeout:.0f} s; see {log}")


def _locust(work: Path, url: str, clients: list[dict]) -> list[dict]:
    """Run Locust headless (its own process, loopback only, bounded in time); each upload's result."""
    spec = work / "clients.json"
    fd = os.open(spec, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the tokens: owner only
    with os.fdopen(fd, "w") as out:
        json.dump(clients, out)
    results = work / "results.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH_DIR.parent), env.get("PYTHONPATH")]))
    env["BENCH_API_CLIENTS"] = str(spec)
    env["BENCH_API_RESULTS"] = str(results)
    env["BENCH_API_WAIT"] = json.dumps(WAIT_S)
    argv = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(BENCH_DIR / "locustfile.py"),
        "--headless",
        "--users",
        str(CLIENTS),
        "--spawn-rate",
        str(CLIENTS),
        "--run-time",
        f"{RUN_S}s",
        "--stop-timeout",
        str(STOP_TIMEOUT_S),
        "--host",
        url,
        "--csv",
        str(work / "locust"),
        "--only-summary",
        "--exit-code-on-error",
        "0",  # errors are counted below, not a failed step
    ]
    done = subprocess.run(
        argv, env=env, cwd=BENCH_DIR.parent, timeout=RUN_S + STOP_TIMEOUT_S + 120, capture_output=True
    )
    sys.stderr.write(done.stderr.decode(errors="replace")[-4000:])
    if done.returncode != 0 or not results.exists():
        raise RuntimeError(f"locust exited with {done.returncode} and no results")
    return json.loads(results.read_text())


def _alone(url: str, client: dict) -> list[float]:
    """The baseline: ``ALONE_N`` uploads one after another from one client (its own token, its own
    returns) to the idle server just before the load, each timed from request to whole answer (after
    one more that warms the server's paths): what an upload costs when nothing waits beside it."""
    import requests

    seconds = []
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {client['token']}"
        for n in range(ALONE_N + 1):
            name, data = upload_for(client["client"], n, client["code"])
            began = time.perf_counter()
            response = session.post(
                f"{url}/api/v1/returns", files={"file": (name, data, "text/csv")}, timeout=60
            )
            took = time.perf_counter() - began
            if kind_of(response.status_code, response.json(), client["code"]) != "ok":
                raise RuntimeError(
                    f"a lone upload was answered {response.status_code}: {response.text[:300]}"
                )
            if n:
                seconds.append(took)
    return seconds


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process ``pid`` has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _loaded(engine: Engine) -> int:
    """API returns in the warehouse (loaded by the ingest; every upload here is accepted)."""
    from sqlalchemy import func, select

    from surgehub.warehouse.tables import submission

    with engine.connect() as connection:
        return connection.execute(
            select(func.count())
            .select_from(submission)
            .where(submission.c.channel == "api", submission.c.outcome == "accepted")
        ).scalar_one()


def _drain(engine: Engine, expected: int, since: float) -> tuple[int, float]:
    """How many accepted uploads were loaded once the ingest caught up (at most ``DRAIN_S`` s), and
    how long after ``since`` (the clients' stop) the last one was."""
    deadline = time.monotonic() + DRAIN_S
    loaded = _loaded(engine)
    while loaded < expected and time.monotonic() < deadline:
        time.sleep(1)
        loaded = _loaded(engine)
    return loaded, time.time() - since


if __name__ == "__main__":
    print(json.dumps(main()), flush=True)
