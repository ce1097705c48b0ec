"""The Submission API as served by `surgehub serve`: all ten localities at once, and the `submit` client.

Every accepted return must be loaded exactly once by the ingest that follows (the landing zone is the
only way in), duplicates must add nothing, and the states must say so.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import requests
from sqlalchemy import func, select

from surgehub import reference
from surgehub.orchestration import tasks
from surgehub.resources import Resources
from surgehub.warehouse import tables
from tests.support.returns import rejected_return, valid_return

if TYPE_CHECKING:
    from tests.support.api import Server

SEEDS = (11, 12, 13)


def _post(server: Server, code: str, data: bytes, name: str) -> tuple[str, bytes, int, dict]:
    response = requests.post(
        f"{server.url}/api/v1/returns",
        headers={"Authorization": f"Bearer {server.tokens[code]}"},
        files={"file": (name, data, "text/csv")},
        timeout=120,
    )
    return code, data, response.status_code, response.json()


def test_all_ten_localities_at_once_every_accepted_return_loaded_exactly_once(api_server_env: Server) -> None:
    server = api_server_env
    codes = [loc.sub_icb_code for loc in reference.localities()]
    jobs = []
    for code in codes:
        for seed in SEEDS:
            data = valid_return(code, seed)
            jobs += [
                (code, data, f"{code}-{seed}.csv"),
                (code, data, f"{code}-{seed}-again.csv"),
            ]  # racing copies
        jobs.append((code, rejected_return(code), f"{code}-bad.csv"))
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda job: _post(server, *job), jobs))

    statuses = Counter(status for _code, _data, status, _body in answers)
    assert statuses == {201: 2 * len(SEEDS) * 10, 422: 10}
    accepted = [(code, data, body) for code, data, status, body in answers if status == 201]
    originals = {(code, data) for code, data, _ in accepted}
    assert len(originals) == len(SEEDS) * 10
    # Of each racing pair exactly one is the original; the other is recognised as its duplicate.
    per_return = Counter((code, data, body["duplicate"]) for code, data, body in accepted)
    assert all(per_return[(code, data, False)] == 1 for code, data in originals)
    landed = [p for code in codes for p in (server.settings.landing_dir / code).glob("api-*")]
    assert len(landed) == len(originals)

    result = tasks.ingest_files(
        tasks.files_from_context({}, Resources.from_env()), Resources.of(server.settings)
    )
    assert Counter(s["status"] for s in result["submissions"]) == {"accepted": len(originals)}
    assert not any(s["duplicate"] for s in result["submissions"])

    with server.engine.connect() as connection:
        s = tables.submission
        loaded = connection.execute(
            select(s.c.sub_icb_code, s.c.sha256, func.count())
            .where(s.c.outcome == "accepted")
            .group_by(s.c.sub_icb_code, s.c.sha256)
        ).all()
        versions = connection.execute(select(func.count()).select_from(tables.hub_day_version)).scalar_one()
        rejected = connection.execute(
            select(func.count()).select_from(s).where(s.c.outcome == "rejected", s.c.channel == "api")
        ).scalar_one()
    assert len(loaded) == len(originals)
    assert all(n == 1 for _c, _sha, n in loaded)
    rows_sent = sum(body["rows"] for _code, _data, body in accepted if not body["duplicate"])
    assert versions == rows_sent
    assert rejected == 10

    # Every answer now reads as loaded, a racing pair pointing at the same warehouse submission.
    behind: dict[tuple[str, bytes], set[int]] = {}
    for code, data, body in accepted:
        state = requests.get(
            f"{server.url}/api/v1/returns/{body['submission_id']}",
            headers={"Authorization": f"Bearer {server.tokens[code]}"},
            timeout=30,
        ).json()
        assert state["state"] == "loaded", state
        behind.setdefault((code, data), set()).add(state["warehouse_submission_id"])
    assert all(len(ids) == 1 for ids in behind.values())

    # Running the ingest again finds nothing to load twice.
    assert (
        tasks.ingest_files(tasks.files_from_context({}, Resources.from_env()), Resources.of(server.settings))[
            "submissions"
        ]
        == []
    )


def test_submit_command_against_the_server(api_server_env: Server, tmp_path: Path) -> None:
    server = api_server_env
    good = tmp_path / "trafford.csv"
    good.write_bytes(valid_return("02A", seed=99))
    bad = tmp_path / "trafford-bad.csv"
    bad.write_bytes(rejected_return("02A"))
    surgehub = str(Path(sys.executable).with_name("surgehub"))

    def run(path: Path, token: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [surgehub, "submit", str(path), "--url", server.url, "--token", token, "--retries", "0"],
            capture_output=True,
            text=True,
            timeout=120,
        )

    accepted = run(good, server.tokens["02A"])
    assert accepted.returncode == 0, accepted.stderr
    assert "ACCEPTED" in accepted.stdout
    assert "state queued" in accepted.stdout
    rejected = run(bad, server.tokens["02A"])
    assert rejected.returncode == 1
    assert "REJECTED" in rejected.stdout
    assert "R09" in rejected.stdout
    assert "appts_booked" in rejected.stdout
    refused = run(good, "sh_00000000_" + "x" * 43)
    assert refused.returncode == 2
    assert "token was not accepted" in refused.stderr
