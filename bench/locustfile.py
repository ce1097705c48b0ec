"""The clients of ``bench/api_upload.py``: each Locust user is one locality's client with its own token.

Run by that step (``locust -f bench/locustfile.py --headless …``), never on its own: it reads the
clients (``client``, ``code``, ``token``) from the JSON file named by ``BENCH_API_CLIENTS`` and writes
each upload's result (``client``, ``upload``, ``status``, ``kind``, ``seconds``, ``at``) to the file
named by ``BENCH_API_RESULTS`` when Locust quits. ``kind`` is ``ok`` only for the documented answer to
a valid return: 201 with ``status`` accepted, ``state`` queued, not a duplicate, the token's locality.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

from locust import HttpUser, events, task
from locust.exception import StopUser

from bench.api_upload import kind_of, upload_for

CLIENTS: list[dict[str, Any]] = json.loads(Path(os.environ["BENCH_API_CLIENTS"]).read_text())
WAIT_S: tuple[float, float] = tuple(json.loads(os.environ.get("BENCH_API_WAIT", "[2, 3]")))  # type: ignore[assignment]
RESULTS: list[dict[str, Any]] = []
_next_client = itertools.count()


class Submitter(HttpUser):
    """One client: a distinct valid return for its locality, then 2–3 s, then the next."""

    def wait_time(self) -> float:
        return self._rng.uniform(*WAIT_S)

    def on_start(self) -> None:
        import random

        index = next(_next_client)
        if index >= len(CLIENTS):
            raise StopUser  # more users than tokens: each client must have its own
        self.me = CLIENTS[index]
        self._rng = random.Random(index)
        self.sent = 0
        self.client.headers["Authorization"] = f"Bearer {self.me['token']}"

    @task
    def upload(self) -> None:
        name, data = upload_for(self.me["client"], self.sent, self.me["code"])
        with self.client.post(
            "/api/v1/returns",
            files={"file": (name, data, "text/csv")},
            name="POST /api/v1/returns",
            timeout=60,
            catch_response=True,
        ) as response:
            try:
                body = response.json()
            except Exception:
                body = None
            kind = kind_of(response.status_code, body, self.me["code"])
            RESULTS.append(
                {
                    "client": self.me["client"],
                    "upload": self.sent,
                    "status": response.status_code,
                    "kind": kind,
                    "seconds": response.request_meta["response_time"] / 1000,
                    "at": response.request_meta["start_time"],
                }
            )
            if kind == "ok":
                response.success()
            else:
                response.failure(f"{kind}: {response.status_code} {str(body)[:200]}")
        self.sent += 1


@events.quitting.add_listener
def _write_results(environment: Any, **_kwargs: Any) -> None:
    Path(os.environ["BENCH_API_RESULTS"]).write_text(json.dumps(RESULTS))
