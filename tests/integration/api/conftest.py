"""A real `surgehub serve` (uvicorn) on a free loopback port, with its own data folder and tokens.

The server runs in its own process on the test timeline (SURGEHUB_NOW frozen at 2026-11-25 09:00
London), with a warm validator; tests reach it over HTTP exactly as a locality would.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from surgehub import clock, reference
from surgehub.api.tokens import create_token
from surgehub.config import PROJECT_ROOT, Settings, load_settings
from surgehub.warehouse.db import ensure_warehouse, get_engine
from tests.conftest import TIMELINE_NOW

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Engine

STARTUP_SECONDS = 120


@dataclass
class Server:
    url: str
    home: Path
    settings: Settings
    engine: Engine
    tokens: dict[str, str]
    log: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = (tmp_path_factory.mktemp("api-server") / "var").resolve()
    home.mkdir()
    env = {
        **os.environ,
        "SURGEHUB_HOME": str(home),
        "SURGEHUB_NOW": TIMELINE_NOW.isoformat(),
        "SURGEHUB_API_UPLOADS_PER_MINUTE": "1000",
    }
    env.pop("SURGEHUB_WAREHOUSE_URL", None)
    for name in ("SURGEHUB_LANDING_DIR", "SURGEHUB_ARCHIVE_DIR", "SURGEHUB_QUARANTINE_DIR"):
        env.pop(name, None)
    settings = load_settings(env)
    engine = ensure_warehouse(get_engine(settings.warehouse_url))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SURGEHUB_NOW", TIMELINE_NOW.isoformat())
        tokens = {
            loc.sub_icb_code: create_token(engine, loc.sub_icb_code, now=clock.now())[0]
            for loc in reference.localities()
        }
    port = _free_port()
    log = home / "serve.log"
    surgehub = Path(sys.executable).with_name("surgehub")
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(surgehub), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"surgehub serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"surgehub serve not ready in {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield Server(url, home, settings, engine, tokens, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def server_env(server: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    """This test process pointed at the server's data folder (for the in-process ingest)."""
    monkeypatch.setenv("SURGEHUB_HOME", str(server.home))
    monkeypatch.delenv("SURGEHUB_WAREHOUSE_URL", raising=False)
    return server
