"""The whole hostile corpus against a real `surgehub serve`: clean answers, and memory held (issue 15).

The server's process tree (uvicorn and its parsing child) is measured (RSS, psutil) after one valid
upload, then sampled every few milliseconds while every hostile file is uploaded, by the API and by
the page: its peak must stay within 300 MB of that size, the server must still answer, and every file
must get its expected rule. Needs nothing but the machine: it runs (and is required) everywhere.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING

import psutil
import requests

from tests.hostile.corpus import CASES, valid_csv

if TYPE_CHECKING:
    from tests.support.api import Server

BUDGET_MB = 300


def server_process(server: Server) -> psutil.Process:
    port = server.url.rsplit(":", 1)[1]
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "serve" in cmdline and port in cmdline:
            return process
    raise AssertionError("surgehub serve's process not found")


def tree_rss(root: psutil.Process) -> int:
    total = 0
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total


class Peak:
    """Samples a process tree's RSS in a thread until stopped; keeps the highest."""

    def __init__(self, root: psutil.Process) -> None:
        self.root = root
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.root))
            time.sleep(0.005)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_the_hostile_corpus_gets_clean_answers_within_the_memory_budget(api_server: Server) -> None:
    server = api_server
    token = server.tokens["14L"]
    headers = {"Authorization": f"Bearer {token}"}
    first = requests.post(
        f"{server.url}/api/v1/returns",
        headers=headers,
        files={"file": ("valid.csv", valid_csv(seed=11))},
        timeout=120,
    )
    assert first.status_code == 201, first.text
    root = server_process(server)
    baseline = tree_rss(root)
    answers: dict[str, tuple[int, list[str]]] = {}
    with Peak(root) as peak:
        for case in CASES:
            data = case.build()
            response = requests.post(
                f"{server.url}/api/v1/returns",
                headers=headers,
                files={"file": (case.name, data)},
                timeout=120,
            )
            rules = [e["rule"] for e in response.json().get("errors", [])]
            answers[case.name] = (response.status_code, rules)
            page = requests.post(
                f"{server.url}/", files={"token": (None, token), "file": (case.name, data)}, timeout=120
            )
            assert page.status_code in (200, 422), (case.name, page.status_code)
            del data
    grown_mb = (peak.peak - baseline) / 1e6
    print(
        f"process tree: {baseline / 1e6:.0f} MB after one upload, peak {peak.peak / 1e6:.0f} MB (+{grown_mb:.0f} MB)"
    )
    for case in CASES:
        status, rules = answers[case.name]
        if case.rule is None:
            assert status == 201, (case.name, rules)
        else:
            assert status == 422, (case.name, status)
            assert case.rule in rules, (case.name, rules)
    assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
    assert grown_mb <= BUDGET_MB, (
        f"the server's process tree grew {grown_mb:.0f} MB over its size after one upload"
    )
