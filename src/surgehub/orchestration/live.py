"""`make up` / `make down`: the live system on embedded defaults, as background processes.

`airflow standalone` (scheduler, triggerer, DAG processor and API server; SQLite metadata;
LocalExecutor) plus the loopback SMTP server. Process ids go to ``<home>/run/``; logs to
``<home>/logs/``. The same code starts the live system for the end-to-end tests, on free ports and a
throwaway data folder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from surgehub.config import PROJECT_ROOT, Settings, load_settings
from surgehub.orchestration.airflow_env import airflow_environment, airflow_home

if TYPE_CHECKING:
    from collections.abc import Callable

VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class LiveSystem:
    home: Path
    api_url: str
    smtp_port: int
    username: str
    password: str | None
    env: dict[str, str]
    #: Seconds spent on each step of the start-up, in order (what `make up` reports).
    timings: dict[str, float]

    @property
    def landing_dir(self) -> Path:
        return Path(self.env.get("SURGEHUB_LANDING_DIR", self.home / "landing"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def live_environment(
    settings: Settings,
    api_port: int,
    smtp_port: int,
    executor: str = "LocalExecutor",
    log_ports: tuple[int, int] | None = None,
) -> dict[str, str]:
    """The whole environment for the live processes (Airflow reads its configuration from it)."""
    from email.utils import parseaddr

    from surgehub.mail.server import smtp_connection_json

    sender = parseaddr(settings.email.sender)[1] or "surgehub@localhost"
    env = dict(os.environ)
    env.update(
        airflow_environment(
            settings, smtp_connection_json=smtp_connection_json("127.0.0.1", smtp_port, sender)
        )
    )
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",  # standalone starts `airflow` subprocesses
            "AIRFLOW__CORE__EXECUTOR": executor,
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__BASE_URL": f"http://localhost:{api_port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{api_port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            # One signing key for every process: each Airflow process that finds none makes its own
            # (and airflow.cfg is written by whichever starts first), so a task's token, signed by the
            # scheduler, could be refused by an API server that started a moment earlier.
            "AIRFLOW__API_AUTH__JWT_SECRET": _secret(settings.home, "jwt_secret"),
            "AIRFLOW__API__SECRET_KEY": _secret(settings.home, "api_secret_key"),
            # The same for the key that encrypts trigger arguments, as production sets it (.env): read
            # only from airflow.cfg, the triggerer's runner now and then found it empty and, decrypting
            # the landing watcher's arguments with no key, died ("Expecting value"), taking the
            # triggerer with it (the Celery stack test, 2 runs in 10).
            "AIRFLOW__CORE__FERNET_KEY": _fernet_key(settings.home, airflow_home(settings) / "airflow.cfg"),
        }
    )
    if log_ports is not None:  # the log servers of the worker and triggerer (8793/8794 by default)
        env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(log_ports[0])
        env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] = str(log_ports[1])
    return env


def _secret(home: Path, name: str) -> str:
    """A random secret kept in the data folder (owner-only), the same for every process and restart."""
    import secrets

    return _kept(_run_dir(home) / f"{name}.secret", lambda: secrets.token_urlsafe(64))


def _kept(path: Path, make: Callable[[], str]) -> str:
    """The value in ``path``; made by ``make`` and published whole (written aside, then linked into
    place, which fails if another process got there first: theirs is used), so no reader ever sees a
    half-written or empty file."""
    try:
        value = path.read_text().strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    value = make()
    aside = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(value)
    try:
        os.link(aside, path)
    except FileExistsError:
        value = path.read_text().strip()
    finally:
        aside.unlink(missing_ok=True)
    return value


def _fernet_key(home: Path, config: Path) -> str:
    """Airflow's Fernet key, kept in the data folder like the other secrets; a data folder made before
    it was kept there keeps the key its airflow.cfg already has (what its metadata is encrypted with)."""

    def make() -> str:
        import base64
        import configparser

        existing = ""
        if config.is_file():
            parser = configparser.ConfigParser(interpolation=None, strict=False)
            with contextlib.suppress(configparser.Error, UnicodeDecodeError):
                parser.read(config, encoding="utf-8")
                existing = parser.get("core", "fernet_key", fallback="").strip()
        return existing or base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")

    return _kept(_run_dir(home) / "fernet_key.secret", make)


def _run_dir(home: Path) -> Path:
    path = home / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _spawn(name: str, argv: list[str], env: dict[str, str], home: Path) -> subprocess.Popen[bytes]:
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / f"{name}.log", "ab") as log:
        process = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=PROJECT_ROOT
        )
    (_run_dir(home) / f"{name}.pid").write_text(str(process.pid))
    return process


def _health(api_url: str) -> dict | None:
    try:
        with urllib.request.urlopen(f"{api_url}/api/v2/monitor/health", timeout=2) as response:
            return json.loads(response.read())
    except Exception:
        return None


def _healthy(report: dict | None) -> bool:
    if not report:
        return False
    parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
    return all((report.get(p) or {}).get("status") == "healthy" for p in parts if p in report)


def _not_up(report: dict | None, processes: dict[str, subprocess.Popen[bytes]], home: Path) -> str:
    """Why start-up is not finished, for the timeout's message: what the API last said, which process
    has exited and the end of its log. CI keeps only the output, never the data folder."""
    if not report:
        lines = ["the API server never answered /api/v2/monitor/health"]
    else:
        lines = [
            f"{part}: {(report.get(part) or {}).get('status', 'absent')}"
            for part in ("metadatabase", "scheduler", "triggerer", "dag_processor")
            if (report.get(part) or {}).get("status") != "healthy"
        ]
    for name, process in processes.items():
        code = process.poll()
        if code is not None:
            tail = (home / "logs" / f"{name}.log").read_text(errors="replace")[-1500:]
            lines.append(f"{name} exited with {code}; the end of its log:\n{tail}")
    return "; ".join(lines)


def warm_execution_api(api_url: str, timeout: float = 120) -> bool:
    """Call the execution API's health ping once, so its one-time set-up happens now.

    The API server sets up the task execution API (its token validator) on the first request that
    needs it: measured at 5–11 s on the shared 2-core machine. Unwarmed, the first task after start-up
    waits for it, and with it the first return to land and every return queued behind it. Best effort:
    says whether the ping answered.
    """
    try:
        with urllib.request.urlopen(f"{api_url}/execution/health/ping", timeout=timeout) as response:
            return response.status == 200
    except Exception:
        return False


def start(
    settings: Settings,
    *,
    api_port: int = 8080,
    smtp_port: int = 8025,
    executor: str = "LocalExecutor",
    components: tuple[str, ...] = ("standalone",),
    log_ports: tuple[int, int] | None = None,
    extra_env: dict[str, str] | None = None,
    timeout: float = 180,
) -> LiveSystem:
    """Migrate, then start the mail server and Airflow; wait until the API reports every part healthy,
    then warm the task execution API (``warm_execution_api``).

    ``components`` are `airflow` subcommands, each its own process group: ``("standalone",)`` for the
    embedded default, or e.g. ``("scheduler", "triggerer", "dag-processor", "api-server",
    "celery worker")`` for the distributed set-up.
    """
    home = settings.home
    from surgehub.landing import ensure_landing
    from surgehub.warehouse.db import upgrade

    timings: dict[str, float] = {}
    step = time.monotonic()

    def took(name: str) -> None:
        nonlocal step
        now = time.monotonic()
        timings[name] = now - step
        step = now

    upgrade(settings.warehouse_url)
    from surgehub.warehouse.db import get_engine
    from surgehub.warehouse.register import locality_codes

    ensure_landing(settings.landing_dir, locality_codes(get_engine(settings.warehouse_url)))
    took("warehouse migrations")
    env = live_environment(settings, api_port, smtp_port, executor, log_ports)
    env.update(extra_env or {})  # e.g. PostgreSQL metadata and the Celery broker for CeleryExecutor
    _prepare_airflow(env)
    took("Airflow's metadata migrations and the pool")
    airflow = str(VENV_BIN / "airflow")
    processes = {
        "mailserver": _spawn(
            "mailserver", [str(VENV_BIN / "surgehub"), "mailserver", "--port", str(smtp_port)], env, home
        )
    }
    for component in components:
        name = "airflow_" + component.replace(" ", "_").replace("-", "_")
        processes[name] = _spawn(name, [airflow, *component.split()], env, home)
    api_url = f"http://localhost:{api_port}"
    deadline = time.monotonic() + timeout
    report = None
    while time.monotonic() < deadline:
        report = _health(api_url)
        if _healthy(report):
            break
        if any(process.poll() is not None for process in processes.values()):
            raise RuntimeError(f"Airflow did not start: {_not_up(report, processes, home)}")
        time.sleep(1)
    else:
        raise TimeoutError(
            f"Airflow did not report healthy within {timeout:.0f} s ({_not_up(report, processes, home)}); "
            f"see {home / 'logs'}"
        )
    took("Airflow's scheduler, triggerer, DAG processor and API server up")
    warm_execution_api(api_url, timeout=max(deadline - time.monotonic(), 30))
    took("the task execution API warmed")
    return LiveSystem(home, api_url, smtp_port, "admin", _password(settings), env, timings)


_PREPARE = """
from airflow.utils import db
from airflow.models.pool import Pool
db.upgradedb()
if Pool.get_pool("surgehub_warehouse") is None:  # an operator's later change of slots is kept
    Pool.create_or_update_pool(
        "surgehub_warehouse", slots=1, description="Warehouse writers: one at a time on SQLite",
        include_deferred=False,
    )
"""


def _prepare_airflow(env: dict[str, str]) -> None:
    """Airflow's metadata migrations and the warehouse pool, in one process (each `airflow` command
    pays the import of Airflow again, so two commands cost twice)."""
    result = subprocess.run([sys.executable, "-c", _PREPARE], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"could not prepare Airflow's metadata database: {result.stderr.strip()[-2000:]}")


def port_in_use(port: int) -> bool:
    """True when something already listens on ``port`` (the live system binds loopback)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _password(settings: Settings) -> str | None:
    generated = airflow_home(settings) / "simple_auth_manager_passwords.json.generated"
    for _ in range(20):
        if generated.exists():
            return json.loads(generated.read_text()).get("admin")
        time.sleep(0.5)
    return None


def stop(settings: Settings, grace: float = 20) -> list[str]:
    """Stop every process that `start` recorded: SIGTERM to every process group at once, then SIGKILL
    to any still running after ``grace`` seconds."""
    groups: dict[str, int] = {}
    for pid_file in sorted(_run_dir(settings.home).glob("*.pid")):
        pid = int(pid_file.read_text())
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
            groups[pid_file.stem] = pid
        pid_file.unlink()

    def alive(pid: int) -> bool:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return False
        return True

    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(pid) for pid in groups.values()):
        time.sleep(0.3)
    for pid in groups.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    return sorted(groups)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m surgehub.orchestration.live", description="Start or stop the live system."
    )
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("SURGEHUB_API_PORT", "8080")))
    parser.add_argument("--smtp-port", type=int, default=int(os.environ.get("SURGEHUB_SMTP_PORT", "8025")))
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.action == "down":
        stopped = stop(settings)
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0
    if any(_run_dir(settings.home).glob("*.pid")):
        print("already running (pid files in var/run/): `make down` first", file=sys.stderr)
        return 2
    for port, what, setting in (
        (args.api_port, "the Airflow UI and API", "API_PORT"),
        (args.smtp_port, "the loopback SMTP server", "SMTP_PORT"),
    ):
        if port_in_use(port):
            print(
                f"error: port {port} (for {what}) is already in use on this machine: stop what listens there, "
                f"or start on another port: make up {setting}={port + 1} (SURGEHUB_{setting} when run directly)",
                file=sys.stderr,
            )
            return 2
    print("starting Airflow standalone and the mail server…", flush=True)
    started = time.monotonic()
    try:
        live = start(settings, api_port=args.api_port, smtp_port=args.smtp_port)
    except Exception as exc:
        print(f"error: {exc}", file=sys.stderr)
        stop(settings)
        return 1
    steps = "; ".join(f"{name} {seconds:.0f} s" for name, seconds in live.timings.items())
    print(f"ready in {time.monotonic() - started:.0f} s ({steps})")
    print(
        f"Airflow UI:     {live.api_url}   login {live.username} / {live.password or '(see simple_auth_manager_passwords.json.generated)'}"
    )
    print(f"SMTP (loopback): 127.0.0.1:{live.smtp_port}; messages kept in {settings.outbox_dir}")
    print(f"Landing zone:   drop a return into {settings.landing_dir}/<sub_icb_code>/ — e.g.")
    for folder in sorted(p for p in settings.landing_dir.iterdir() if p.is_dir())[:3]:
        print(f"                  {folder}/")
    print(f"Warehouse:      {settings.warehouse_url}")
    print(f"Logs:           {settings.home / 'logs'}   Stop with: make down")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
