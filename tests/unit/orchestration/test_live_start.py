"""The live system's start-up warms the task execution API, so the first task does not wait for it, and
says what was not up when it gives up."""

from __future__ import annotations

import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import TYPE_CHECKING

from surgehub.orchestration.live import _not_up, free_port, warm_execution_api

if TYPE_CHECKING:
    from pathlib import Path


def test_the_execution_api_is_pinged_once_at_start_up() -> None:
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"ok": ["JWTValidator"], "failing": {}}')

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert warm_execution_api(f"http://127.0.0.1:{server.server_port}", timeout=5) is True
    finally:
        server.shutdown()
    assert asked == ["/execution/health/ping"]


def test_warming_is_best_effort() -> None:
    assert warm_execution_api(f"http://127.0.0.1:{free_port()}", timeout=2) is False  # nothing listens


def test_a_start_up_that_never_finishes_says_which_part_is_down_and_which_process_died(
    tmp_path: Path,
) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "airflow_triggerer.log").write_text(
        "…\nOSError: [Errno 98] Address already in use\n"
    )
    died = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    died.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        report = {
            "metadatabase": {"status": "healthy"},
            "scheduler": {"status": "healthy"},
            "triggerer": {"status": "unhealthy"},
        }
        why = _not_up(report, {"airflow_triggerer": died, "airflow_scheduler": alive}, tmp_path)
    finally:
        alive.kill()
        alive.wait()
    assert "triggerer: unhealthy" in why
    assert "dag_processor: absent" in why
    assert "scheduler:" not in why.replace("airflow_scheduler", "")
    assert "airflow_triggerer exited with 3" in why
    assert "Address already in use" in why
    assert "airflow_scheduler exited" not in why
    assert _not_up(None, {}, tmp_path) == "the API server never answered /api/v2/monitor/health"


def test_every_process_gets_one_fernet_key_and_an_older_data_folder_keeps_its_own(tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    from surgehub.orchestration.live import _fernet_key

    fresh = tmp_path / "fresh"
    key = _fernet_key(fresh, fresh / "airflow" / "airflow.cfg")
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"{}")) == b"{}"  # a usable key
    assert _fernet_key(fresh, fresh / "airflow" / "airflow.cfg") == key  # the same for every process
    older = tmp_path / "older"
    (older / "airflow").mkdir(parents=True)
    theirs = Fernet.generate_key().decode()
    (older / "airflow" / "airflow.cfg").write_text(f"[core]\nfernet_key = {theirs}\nlog = %(x)s\n")
    assert _fernet_key(older, older / "airflow" / "airflow.cfg") == theirs
