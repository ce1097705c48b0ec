"""The production stack, run for real: `make stack-test` drives one scripted day through the containers.

It builds the local stand-ins for the upstream images (deploy/local-images/build.sh) and the project's
image, starts docker-compose.yml (plus tests/stack/compose.stack-test.yml: a frozen clock, pause points)
under a project name of its own, and then, each step timed:

  drop-folder return   written into the landing volume from another container, as an SFTP drop would
                       be: validated, loaded into the PostgreSQL warehouse, moved out of landing, its
                       receipt caught by Mailpit (read through its HTTP API);
  API returns          a token from `docker compose run ... surgehub token create`; one accepted and
                       one rejected return through surgehub-api;
  RAG                  computed into the warehouse for the day;
  board digest         triggered through the Airflow REST API (a FAB account from .env), caught;
  scaling              --scale airflow-worker=2;
  restart mid-ingest   a pause point holds an ingest after its load committed; the Celery worker
                       running it is killed and the scheduler restarted: loaded once, moved, one receipt;
  backup and restore   `surgehub backup`, a fresh stack (whose airflow-init recreates a dropped
                       warehouse database), `surgehub restore`: RAG equal;
  upgrade              `up` with a rebuilt image: both migrations run again, the data is kept;
  teardown             `docker compose down -v` leaves no container, volume or network behind.

A failure names the step and the container and ends with that container's last log lines. Needs a
Docker engine with compose and local/debian:bookworm (../shared/tools/docker-engine.sh). Not part of
`make test`. Options: --keep (leave the stack up after a failure), --skip-build.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import csv
import io
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import requests

from surgehub import sample
from surgehub.config import PROJECT_ROOT

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

T = TypeVar("T")

DAY = date(2026, 11, 24)  # the activity day the scripted returns report (received 25 Nov, 09:00)
DIGEST_AT = "2026-11-26T07:30:00Z"  # Thursday's board meeting (07:30 Europe/London = UTC in November)
BASE_IMAGE = "local/debian:bookworm"
IMAGE = "surgehub-airflow:stack-test"  # the project's image, built here; also the throwaway shells
STANDINS_ENV = PROJECT_ROOT / "deploy" / "local-images" / "standins.env"
OVERRIDE = PROJECT_ROOT / "tests" / "stack" / "compose.stack-test.yml"
PAUSE_POINT = "ingest.after_load"
LOG_LINES = 60
#: A retried ingest reports the very receipt it already loaded as a duplicate, so the locality also gets
#: "already received, nothing changed" (surgehub.ingest._replayed marks accepted replays duplicate=True
#: and orchestration.tasks.ingest_files passes that on to the receipts). Loaded once and acknowledged
#: once all the same; set to False once ingest_files reports replays as not duplicate (issue 14).
TOLERATE_REPLAY_NOTICE = False


def _kind_of(message_id: str) -> str:
    """The kind surgehub put in a Message-ID (``<time.pid.random.KIND@domain>``, ``make_msgid``)."""
    return message_id.strip().strip("<>").rsplit("@", 1)[0].rsplit(".", 1)[-1]


class StepFailed(Exception):
    def __init__(self, message: str, container: str | None = None) -> None:
        super().__init__(message)
        self.container = container


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(cmd: list[str], *, input: bytes | None = None, check: bool = True, timeout: float = 900) -> str:
    """Run a command; return its stdout; raise StepFailed with its output when it fails."""
    result = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout, cwd=PROJECT_ROOT)
    out, err = result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")
    if check and result.returncode != 0:
        raise StepFailed(f"{' '.join(cmd[:8])} ... exited {result.returncode}:\n{(out + err)[-4000:]}")
    return out


def wait_for(check: Callable[[], T], *, timeout: float, what: str, container: str, every: float = 2.0) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``container`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except (StepFailed, requests.RequestException, ValueError, KeyError) as exc:
            last_error = exc
        time.sleep(every)
    detail = f" (last error: {last_error})" if last_error else ""
    raise StepFailed(f"timed out after {timeout:.0f} s waiting for {what}{detail}", container)


@dataclass
class Stack:
    """One compose project, isolated by name, ports and env file from anything else on the engine."""

    workdir: Path
    project: str = field(default_factory=lambda: f"surgehub-stacktest-{uuid.uuid4().hex[:6]}")
    ports: dict[str, int] = field(
        default_factory=lambda: {
            "AIRFLOW_UI_PORT": free_port(),
            "SUBMISSION_API_PORT": free_port(),
            "MAILPIT_UI_PORT": free_port(),
        }
    )
    admin_password: str = field(default_factory=lambda: secrets.token_hex(12))
    #: Compose files on top of docker-compose.yml (`make bench-stack` adds its own).
    overrides: tuple[Path, ...] = (OVERRIDE,)

    def __post_init__(self) -> None:
        self.env_file = self.workdir / "stack.env"
        values = {
            "POSTGRES_PASSWORD": secrets.token_hex(16),
            "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(32),
            "SURGEHUB_SECRET_KEY": secrets.token_hex(32),
            "_AIRFLOW_WWW_USER_USERNAME": "admin",
            "_AIRFLOW_WWW_USER_PASSWORD": self.admin_password,
            "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(
                {
                    "conn_type": "smtp",
                    "host": "mailpit",
                    "port": 1025,
                    "extra": {
                        "from_email": "surgehub@gm-surgehub.example.nhs.uk",
                        "disable_ssl": True,
                        "disable_tls": True,
                    },
                }
            ),
            "SURGEHUB_IMAGE_NAME": IMAGE,
            "SURGEHUB_REVISION": git_revision(),
            "SURGEHUB_BUILD_CA_BUNDLE": os.environ.get(
                "SURGEHUB_BUILD_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt"
            ),
            **{k: str(v) for k, v in self.ports.items()},
        }
        standins = [line for line in STANDINS_ENV.read_text().splitlines() if line and line[0] != "#"]
        lines = standins + [f"{k}={v}" for k, v in values.items()]
        self.env_file.write_text("\n".join(lines) + "\n")
        self.password = values["POSTGRES_PASSWORD"]

    # -- docker and compose ------------------------------------------------------------------------

    def compose(
        self,
        *args: str,
        input: bytes | None = None,
        check: bool = True,
        timeout: float = 900,
        env: dict[str, str] | None = None,
    ) -> str:
        cmd = [
            "docker",
            "compose",
            "--project-name",
            self.project,
            "--env-file",
            str(self.env_file),
            "--file",
            "docker-compose.yml",
            *(arg for path in self.overrides for arg in ("--file", str(path))),
            "--profile",
            "mailcatcher",
            *args,
        ]
        if env:
            result = subprocess.run(
                cmd,
                input=input,
                capture_output=True,
                timeout=timeout,
                cwd=PROJECT_ROOT,
                env={**os.environ, **env},
            )
            if check and result.returncode != 0:
                raise StepFailed(
                    f"docker compose {' '.join(args[:6])} exited {result.returncode}:\n"
                    + (result.stdout + result.stderr).decode(errors="replace")[-4000:]
                )
            return result.stdout.decode(errors="replace")
        return run(cmd, input=input, check=check, timeout=timeout)

    def up(self, workers: int = 1) -> None:
        self.compose(
            "up",
            "--detach",
            "--wait",
            "--wait-timeout",
            "600",
            "--scale",
            f"airflow-worker={workers}",
            timeout=900,
        )

    def containers(self, service: str, all_states: bool = False) -> list[str]:
        args = ["ps", "--quiet", *(["--all"] if all_states else []), service]
        return self.compose(*args).split()

    def volume(self, name: str) -> str:
        return f"{self.project}_{name}"

    @property
    def helper(self) -> str:
        return f"{self.project}-volumes"

    def start_helper(self) -> None:
        """A long-lived container with the landing, archive and pause volumes at /landing, /archive, /pause.

        It plays the SFTP server that localities drop files into, and lets the test look into the
        volumes; one container for the whole run, since each new container costs a full copy of the
        image on the vfs storage driver. Labelled as part of the project, so `down` removes it too.
        """
        mounts = [
            arg
            for name in ("surgehub-landing", "surgehub-archive", "surgehub-pause")
            for arg in ("--volume", f"{self.volume(name)}:/{name.removeprefix('surgehub-')}")
        ]
        run(
            [
                "docker", "run", "--detach", "--name", self.helper,
                "--label", f"com.docker.compose.project={self.project}",
                "--label", "com.docker.compose.service=volume-helper",
                *mounts, "--entrypoint", "sleep", IMAGE, "infinity",
            ]
        )  # fmt: skip

    def stop_helper(self) -> None:
        run(["docker", "rm", "--force", self.helper], check=False)

    def in_volumes(self, script: str, *, user: str = "0:0", input: bytes | None = None) -> str:
        """Run a shell script in the helper container (volumes at /landing, /archive, /pause)."""
        return run(["docker", "exec", "-i", "--user", user, self.helper, "bash", "-c", script], input=input)

    def sql(self, query: str, database: str = "surgehub") -> list[list[str]]:
        out = self.compose(
            "exec",
            "-T",
            "postgres",
            "psql",
            "-U",
            "airflow",
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-At",
            "-F",
            "\t",
            "-c",
            query,
        )
        return [line.split("\t") for line in out.splitlines() if line]

    def surgehub(self, *args: str, volumes: tuple[str, ...] = ()) -> str:
        mounts = [v for mount in volumes for v in ("--volume", mount)]
        return self.compose("run", "--rm", "--no-deps", "-T", *mounts, "airflow-worker", "surgehub", *args)

    def logs(self, container: str | None) -> str:
        if not container:
            return ""
        ids = (
            self.containers(container, all_states=True)
            if not container.startswith("id:")
            else [container[3:]]
        )
        tails = []
        for cid in ids or []:
            result = subprocess.run(["docker", "logs", "--tail", str(LOG_LINES), cid], capture_output=True)
            tails.append(
                f"--- last {LOG_LINES} log lines of {container} ({cid[:12]}) ---\n"
                + (result.stdout + result.stderr).decode(errors="replace")
            )
        return "\n".join(tails) or f"(no container for {container})"

    def leave(self, *, keep: bool) -> None:
        """Take the stack down with its volumes and remove its work folder, or with ``keep`` say how to
        reach it; never raises (it runs on the way out of a failure)."""
        if keep:
            print(f"stack left up: docker compose -p {self.project} --env-file {self.env_file} ...")
            return
        with contextlib.suppress(Exception):
            self.stop_helper()
            self.compose("down", "--volumes", "--remove-orphans", check=False)
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- HTTP --------------------------------------------------------------------------------------

    def url(self, port_name: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[port_name]}{path}"

    def messages(self, query: str) -> list[dict[str, Any]]:
        answer = requests.get(
            self.url("MAILPIT_UI_PORT", "/api/v1/search"), params={"query": query, "limit": 500}, timeout=10
        )
        answer.raise_for_status()
        return answer.json()["messages"]

    def airflow_token(self) -> str:
        answer = requests.post(
            self.url("AIRFLOW_UI_PORT", "/auth/token"),
            json={"username": "admin", "password": self.admin_password},
            timeout=30,
        )
        if answer.status_code not in (200, 201):
            raise StepFailed(
                f"POST /auth/token answered {answer.status_code}: {answer.text[:500]}", "airflow-apiserver"
            )
        return answer.json()["access_token"]

    def airflow(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.airflow_token()}"}
        answer = requests.request(
            method, self.url("AIRFLOW_UI_PORT", f"/api/v2{path}"), headers=headers, timeout=30, **kwargs
        )
        if answer.status_code >= 400:
            raise StepFailed(
                f"{method} /api/v2{path} answered {answer.status_code}: {answer.text[:500]}",
                "airflow-apiserver",
            )
        return answer.json()


def git_revision() -> str:
    try:
        return run(["git", "rev-parse", "--short=12", "HEAD"]).strip()
    except (StepFailed, FileNotFoundError):
        return "unknown"


def return_csv(code: str, seed: int, *, broken: bool = False) -> bytes:
    rows = sample.locality_rows(code, [DAY], random.Random(seed))
    if broken:  # R-rules: more booked than offered, on the first row
        rows[0]["appts_booked"] = str(int(rows[0]["appts_offered"]) + 5)
    return sample.to_csv(rows)


def row_count(data: bytes) -> int:
    return len(list(csv.DictReader(io.StringIO(data.decode()))))


# -- the scripted day ------------------------------------------------------------------------------


@dataclass
class Day:
    stack: Stack
    timings: list[tuple[str, float]] = field(default_factory=list)
    rag_before: list[list[str]] = field(default_factory=list)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        print(f"==> {name}", flush=True)
        started = time.monotonic()
        try:
            yield
        except StepFailed as exc:
            exc.args = (f"step '{name}' failed: {exc.args[0]}",)
            raise
        except Exception as exc:  # an unexpected error still names the step
            raise StepFailed(f"step '{name}' failed: {type(exc).__name__}: {exc}") from exc
        seconds = time.monotonic() - started
        self.timings.append((name, seconds))
        print(f"    ok in {seconds:.0f} s", flush=True)

    # -- helpers -----------------------------------------------------------------------------------

    def drop(self, code: str, name: str, data: bytes, user: str = "1001:0") -> None:
        """Write a return into landing/<code>/ as an SFTP drop would: a partial name, then a rename."""
        self.stack.in_volumes(
            f'cat > "/landing/{code}/.{name}.part" && mv "/landing/{code}/.{name}.part" "/landing/{code}/{name}"',
            user=user,
            input=data,
        )

    def landing_listing(self, code: str) -> str:
        return self.stack.in_volumes(f"cd /landing/{code} && find . -type f | sort")

    def submissions(self, code: str) -> list[list[str]]:
        return self.stack.sql(
            "select submission_id, channel, outcome, data_rows, file_name from submission "
            f"where sub_icb_code = '{code}' order by submission_id"
        )

    def versions(self, code: str) -> int:
        return int(
            self.stack.sql(f"select count(*) from hub_day_version where sub_icb_code = '{code}'")[0][0]
        )

    def receipts(self, address: str) -> list[dict[str, Any]]:
        """The receipts Mailpit caught for an address (``make_msgid`` puts the kind last: ``….receipt@…``)."""
        return [m for m in self.stack.messages(f"to:{address}") if _kind_of(m["MessageID"]) == "receipt"]

    def rag(self) -> list[list[str]]:
        return self.stack.sql(
            "select activity_date, scope, sub_icb_code, status, level, points, escalated, reasons::text "
            "from rag_result order by activity_date, scope, sub_icb_code, rag_id"
        )

    def counts(self) -> dict[str, str]:
        tables = ("submission", "hub_day_version", "rag_result", "email_log", "submission_token")
        row = self.stack.sql("select " + ", ".join(f"(select count(*) from {t})" for t in tables))[0]
        return dict(zip(tables, row, strict=True))

    def loaded_once(
        self, code: str, name: str, rows: int, address: str, *, after_retry: bool = False
    ) -> None:
        """The return is in the warehouse exactly once, out of landing, and acknowledged exactly once."""

        def done() -> bool:
            subs = [s for s in self.submissions(code) if s[4] == name]
            waiting = f"./{name}" in self.landing_listing(code).splitlines()
            return len(subs) == 1 and subs[0][2] == "accepted" and not waiting

        wait_for(
            done,
            timeout=600,
            what=f"{name} from {code} loaded and moved out of landing",
            container="airflow-worker",
        )
        subs = [s for s in self.submissions(code) if s[4] == name]
        if len(subs) != 1 or int(subs[0][3]) != rows or self.versions(code) != rows:
            raise StepFailed(
                f"{code}: expected one submission of {rows} rows, got {subs} and "
                f"{self.versions(code)} hub-day versions",
                "airflow-worker",
            )
        listing = self.landing_listing(code)
        if f"./processed/{name}" not in listing.splitlines():
            raise StepFailed(f"{name} is not in landing/{code}/processed/: {listing}", "airflow-worker")
        wait_for(
            lambda: self.receipts(address),
            timeout=120,
            what=f"the receipt to {address}",
            container="airflow-worker",
        )
        time.sleep(3)  # a second receipt would arrive within this
        found = self.receipts(address)
        accepted = [m for m in found if "accepted" in m["Subject"]]
        others = [m["Subject"] for m in found if m not in accepted]
        if len(accepted) != 1 or (others and not (after_retry and TOLERATE_REPLAY_NOTICE)):
            raise StepFailed(
                f"expected one acceptance receipt to {address}, got {[m['Subject'] for m in found]}",
                "airflow-worker",
            )
        if others:
            print(f"    KNOWN DEFECT (tolerated): after the retry {address} also got {others}", flush=True)

    def quiesce(self) -> None:
        """Wait until no DAG run is queued or running, so the warehouse holds still (e.g. for a backup)."""

        def idle() -> bool:
            busy = self.stack.sql(
                "select count(*) from dag_run where state in ('queued', 'running')", "airflow"
            )
            return busy[0][0] == "0"

        wait_for(idle, timeout=600, what="every DAG run to finish", container="airflow-scheduler", every=5)

    def ingest_tasks(self) -> list[dict[str, Any]]:
        found = self.stack.airflow(
            "GET", "/dags/surgehub_ingest/dagRuns/~/taskInstances", params={"limit": 100}
        )
        return [ti for ti in found["task_instances"] if ti["task_id"] == "ingest_returns"]

    # -- steps -------------------------------------------------------------------------------------

    def build(self, skip: bool) -> None:
        with self.step("build images"):
            if not skip:
                run([str(PROJECT_ROOT / "deploy" / "local-images" / "build.sh")], timeout=3600)
            self.stack.compose("build", timeout=3600)

    def start(self) -> None:
        with self.step("start the stack (up --wait)"):
            self.stack.up()
            self.stack.start_helper()

    def drop_folder_return(self) -> None:
        with self.step("drop-folder return"):
            data = return_csv("14L", seed=1)
            self.drop("14L", "manchester-2026-11-24.csv", data)
            self.loaded_once(
                "14L",
                "manchester-2026-11-24.csv",
                row_count(data),
                "manchester-gp-board@gm-surgehub.example.nhs.uk",
            )

    def api_returns(self) -> None:
        with self.step("API returns (token from compose run)"):
            token = self.stack.surgehub("token", "create", "--locality", "01G").strip().splitlines()[-1]
            if not token.startswith("sh_"):
                raise StepFailed(f"token create printed {token!r}", "airflow-worker")
            auth = {"Authorization": f"Bearer {token}"}
            url = self.stack.url("SUBMISSION_API_PORT", "/api/v1/returns")
            data = return_csv("01G", seed=2)
            answer = requests.post(
                url, headers=auth, timeout=120, files={"file": ("salford-2026-11-24.csv", data, "text/csv")}
            )
            if answer.status_code != 201 or answer.json()["status"] != "accepted":
                raise StepFailed(
                    f"the API answered {answer.status_code}: {answer.text[:800]}", "surgehub-api"
                )
            api_id = answer.json()["submission_id"]

            def loaded() -> bool:
                state = requests.get(f"{url}/{api_id}", headers=auth, timeout=30).json()["state"]
                return state == "loaded"

            wait_for(loaded, timeout=300, what="the API return loaded", container="airflow-worker")
            if self.versions("01G") != row_count(data):
                raise StepFailed(
                    f"01G has {self.versions('01G')} versions, not {row_count(data)}", "airflow-worker"
                )
            address = "salford-gp-board@gm-surgehub.example.nhs.uk"
            wait_for(
                lambda: self.receipts(address),
                timeout=120,
                what=f"the receipt to {address}",
                container="airflow-worker",
            )
            # a rejected return: answered at once by the API itself, recorded and archived by it
            broken = return_csv("01G", seed=3, broken=True)
            answer = requests.post(
                url, headers=auth, timeout=120, files={"file": ("salford-broken.csv", broken, "text/csv")}
            )
            if answer.status_code != 422 or not answer.json()["errors"]:
                raise StepFailed(
                    f"a broken return got {answer.status_code}: {answer.text[:800]}", "surgehub-api"
                )
            rejected = [s for s in self.submissions("01G") if s[2] == "rejected"]
            if len(rejected) != 1:
                raise StepFailed(f"expected one rejected 01G submission, got {rejected}", "surgehub-api")
            archived = self.stack.in_volumes("find /archive -type f | wc -l").strip()
            if int(archived) < 3:
                raise StepFailed(
                    f"the archive holds {archived} files, expected the three returns", "surgehub-api"
                )

    def rag_appears(self) -> None:
        with self.step("RAG in the warehouse"):

            def computed() -> bool:
                codes = {row[2] for row in self.rag() if row[0] == DAY.isoformat()}
                return {"14L", "01G", "GM"} <= codes

            wait_for(
                computed, timeout=300, what=f"RAG for {DAY} (14L, 01G and GM)", container="airflow-worker"
            )

    def board_digest(self) -> None:
        with self.step("board digest"):
            dag = "surgehub_board_digest"
            wait_for(
                lambda: self.stack.airflow("GET", f"/dags/{dag}"),
                timeout=300,
                what=f"{dag} parsed",
                container="airflow-dag-processor",
            )
            run_id = self.stack.airflow("POST", f"/dags/{dag}/dagRuns", json={"logical_date": DIGEST_AT})[
                "dag_run_id"
            ]

            def finished() -> str:
                state = self.stack.airflow("GET", f"/dags/{dag}/dagRuns/{run_id}")["state"]
                if state == "failed":
                    raise StepFailed(f"{dag} run {run_id} failed", "airflow-worker")
                return state == "success" and state

            wait_for(finished, timeout=300, what=f"{dag} run {run_id}", container="airflow-worker", every=5)
            digests = [
                m
                for m in self.stack.messages("to:pcsb-board@gm-surgehub.example.nhs.uk")
                if _kind_of(m["MessageID"]) == "board"
            ]
            if len(digests) != 1:
                raise StepFailed(
                    f"expected one board digest, got {[m['Subject'] for m in digests]}", "airflow-worker"
                )

    def scale(self) -> None:
        with self.step("scale to two Celery workers"):
            self.stack.up(workers=2)
            workers = self.stack.containers("airflow-worker")
            if len(workers) != 2:
                raise StepFailed(
                    f"expected 2 airflow-worker containers, got {len(workers)}", "airflow-worker"
                )

    def restart_mid_ingest(self) -> None:
        with self.step("restart mid-ingest (kill the worker, restart the scheduler)"):
            stack = self.stack
            stack.in_volumes(f"chmod 1777 /pause && rm -f /pause/* && touch /pause/{PAUSE_POINT}")
            data = return_csv("00T", seed=4)
            name = "bolton-2026-11-24.csv"
            self.drop("00T", name, data)
            reached = wait_for(
                lambda: stack.in_volumes(f"cat /pause/{PAUSE_POINT}.reached 2>/dev/null || true"),
                timeout=300,
                what=f"an ingest to reach the pause point {PAUSE_POINT}",
                container="airflow-worker",
                every=1,
            )
            hostname = reached.split()[0]
            victim = next((c for c in stack.containers("airflow-worker") if c.startswith(hostname)), None)
            if victim is None:
                raise StepFailed(f"no airflow-worker container is host {hostname}", "airflow-worker")
            if not self.submissions("00T"):
                raise StepFailed("the pause point was reached before the load committed", "airflow-worker")
            paused = [
                ti for ti in self.ingest_tasks() if ti["state"] == "running" and ti["hostname"] == hostname
            ]
            if len(paused) != 1:
                raise StepFailed(
                    f"expected one running ingest on {hostname}, got {paused}", "airflow-scheduler"
                )
            run(["docker", "kill", "--signal", "KILL", victim])
            stack.in_volumes(f"rm -f /pause/{PAUSE_POINT}")  # the retry must not pause again
            stack.compose("restart", "airflow-scheduler")
            self.loaded_once(
                "00T", name, row_count(data), "bolton-gp-board@gm-surgehub.example.nhs.uk", after_retry=True
            )
            retried = next(ti for ti in self.ingest_tasks() if ti["dag_run_id"] == paused[0]["dag_run_id"])
            if retried["try_number"] <= paused[0]["try_number"] or retried["state"] != "success":
                raise StepFailed(
                    f"the killed ingest was not retried to success: {retried}", "airflow-scheduler"
                )
            stack.up(workers=2)  # the killed worker is back (restart: always) and healthy

    def backup_and_restore(self) -> None:
        with self.step("backup, fresh stack, restore"):
            stack = self.stack
            backups = self.stack.workdir / "backups"
            backups.mkdir()
            if os.geteuid() == 0:
                os.chown(backups, 50000, 0)  # the airflow user writes the backup
            else:
                backups.chmod(0o777)
            mount = (f"{backups}:/backups",)
            self.quiesce()
            stack.surgehub("backup", "--out", "/backups/stack-test", volumes=mount)
            self.rag_before = self.rag()
            before = self.counts()
            archived = stack.in_volumes("find /archive -type f -print0 | sort -z | xargs -0 sha256sum")
            stack.stop_helper()
            stack.compose("down", "--volumes", "--remove-orphans")
            stack.up()
            # airflow-init creates the warehouse database when it is missing on an existing volume
            stack.sql("drop database surgehub with (force)", database="airflow")
            stack.compose("run", "--rm", "--no-deps", "-T", "airflow-init")
            if stack.sql("select count(*) from locality")[0][0] == "0":
                raise StepFailed("the recreated warehouse has no localities", "airflow-init")
            # the runbook's restore: stop the writers, an empty warehouse, restore, start again
            writers = [
                "airflow-scheduler",
                "airflow-triggerer",
                "airflow-worker",
                "surgehub-api",
                "airflow-dag-processor",
                "airflow-apiserver",
            ]
            stack.compose("stop", *writers)
            stack.sql("drop database surgehub with (force)", database="airflow")
            stack.sql("create database surgehub", database="airflow")
            stack.compose(
                "run",
                "--rm",
                "-T",
                "--no-deps",
                "--volume",
                mount[0],
                "airflow-worker",
                "surgehub",
                "restore",
                "/backups/stack-test",
            )
            if self.rag() != self.rag_before:
                raise StepFailed("RAG after the restore differs from RAG before the backup", "airflow-worker")
            after = self.counts()
            if after != before:
                raise StepFailed(
                    f"row counts after the restore {after} differ from before {before}", "airflow-worker"
                )
            stack.start_helper()
            if stack.in_volumes("find /archive -type f -print0 | sort -z | xargs -0 sha256sum") != archived:
                raise StepFailed("the restored archive differs from the archive backed up", "airflow-worker")
            stack.up(workers=2)

    def upgrade(self) -> None:
        with self.step("upgrade (rebuilt image, up again)"):
            stack = self.stack
            self.quiesce()
            before, rag = self.counts(), self.rag()
            # an operator's pool size must survive airflow-init running again
            # Airflow 3.3 validates a PATCH body as a whole pool (name and include_deferred required);
            # update_mask keeps the change to the slots
            stack.airflow(
                "PATCH",
                "/pools/surgehub_warehouse?update_mask=slots",
                json={"pool": "surgehub_warehouse", "slots": 6, "include_deferred": False},
            )
            old_image = run(["docker", "image", "inspect", "--format", "{{.Id}}", IMAGE])
            revision = f"{git_revision()}-upgrade"
            stack.compose("build", env={"SURGEHUB_REVISION": revision}, timeout=3600)
            new_image = run(["docker", "image", "inspect", "--format", "{{.Id}}", IMAGE])
            if new_image == old_image:
                raise StepFailed("the rebuilt image is the same image", None)
            stack.compose(
                "up",
                "--detach",
                "--wait",
                "--wait-timeout",
                "600",
                "--scale",
                "airflow-worker=2",
                env={"SURGEHUB_REVISION": revision},
                timeout=900,
            )
            for service in ("airflow-init", "airflow-scheduler", "airflow-worker", "surgehub-api"):
                for cid in stack.containers(service, all_states=True):
                    image = run(["docker", "inspect", "--format", "{{.Image}}", cid]).strip()
                    if image != new_image.strip():
                        raise StepFailed(f"{service} still runs the old image", service)
            init_log = "\n".join(stack.logs("airflow-init").splitlines())
            for expected in (
                "checking the metadata migrations",
                "warehouse migrations",
                "done: Airflow metadata and the surgehub warehouse are migrated",
            ):
                if expected not in init_log:
                    raise StepFailed(f"airflow-init did not log {expected!r}", "airflow-init")
            stack.surgehub("db", "current")
            if self.counts() != before or self.rag() != rag:
                raise StepFailed(f"data changed by the upgrade: {before} -> {self.counts()}", "airflow-init")
            # every container was recreated: the UI account from .env still signs in, the pool is kept
            slots = stack.airflow("GET", "/pools/surgehub_warehouse")["slots"]
            if slots != 6:
                raise StepFailed(
                    f"the pool has {slots} slots after airflow-init ran again, not 6", "airflow-init"
                )

    def teardown(self) -> None:
        with self.step("teardown (down -v)"):
            self.stack.stop_helper()
            self.stack.compose("down", "--volumes", "--remove-orphans")
            label = f"label=com.docker.compose.project={self.stack.project}"
            left = {
                kind: run(["docker", kind, "ls", "--quiet", "--filter", label]).split()
                for kind in ("container", "volume", "network")
            }
            left["container"] = run(["docker", "ps", "--all", "--quiet", "--filter", label]).split()
            if any(left.values()):
                raise StepFailed(f"left behind: {left}")
            run(["docker", "image", "prune", "--force", "--filter", "label=uk.nhs.gm.surgehub.image=airflow"])


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="leave the stack up after a failure")
    parser.add_argument("--skip-build", action="store_true", help="do not rebuild the stand-in images")
    args = parser.parse_args(argv)
    for tool in ("docker",):
        if shutil.which(tool) is None:
            print("stack-test: no docker here: run ../shared/tools/docker-engine.sh first", file=sys.stderr)
            return 2
    if subprocess.run(["docker", "image", "inspect", BASE_IMAGE], capture_output=True).returncode != 0:
        print(f"stack-test: no {BASE_IMAGE}: run ../shared/tools/docker-engine.sh first", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)  # a killed run still takes its stack down
    workdir = Path(tempfile.mkdtemp(prefix="surgehub-stack-test-"))
    stack = Stack(workdir)
    day = Day(stack)
    started = time.monotonic()
    print(f"stack-test: project {stack.project}, revision {git_revision()}, ports {stack.ports}", flush=True)
    failed: StepFailed | None = None
    try:
        day.build(skip=args.skip_build)
        day.start()
        day.drop_folder_return()
        day.api_returns()
        day.rag_appears()
        day.board_digest()
        day.scale()
        day.restart_mid_ingest()
        day.backup_and_restore()
        day.upgrade()
        day.teardown()
    except StepFailed as exc:
        failed = exc
    except KeyboardInterrupt:
        failed = StepFailed("interrupted")
    total = time.monotonic() - started
    print("\nstep timings:")
    for name, seconds in day.timings:
        print(f"  {seconds:7.0f} s  {name}")
    print(f"  {total:7.0f} s  total")
    report = {
        "project": stack.project,
        "revision": git_revision(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "passed": failed is None,
        "steps": dict(day.timings),
        "total_s": round(total),
    }
    artifacts = PROJECT_ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "stack-test.json").write_text(json.dumps(report, indent=2) + "\n")
    if failed is None:
        shutil.rmtree(workdir, ignore_errors=True)
        print("stack-test: passed")
        return 0
    print(
        f"\nstack-test FAILED: {failed}" + (f" (container: {failed.container})" if failed.container else "")
    )
    with contextlib.suppress(Exception):
        print(stack.logs(failed.container))
    stack.leave(keep=args.keep)
    return 1


if __name__ == "__main__":
    sys.exit(main())
