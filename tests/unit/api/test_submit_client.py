"""`surgehub submit`'s client: retries on network errors, waits on 429, clear failures and exit codes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import requests
from click.testing import CliRunner

from surgehub.api import client
from surgehub.cli import cli

if TYPE_CHECKING:
    from pathlib import Path


class Reply:
    def __init__(self, status_code: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status_code = status_code
        self._body = body
        self.headers = headers or {}
        self.reason = "reason"

    def json(self) -> Any:
        if self._body is None:
            raise ValueError("no JSON")
        return self._body


class Session:
    """Plays back a script of replies (or exceptions to raise), recording each call."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.calls: list[dict[str, Any]] = []

    def post(self, url: str, **kwargs: Any) -> Reply:
        self.calls.append({"url": url, **kwargs})
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


ACCEPTED = {
    "status": "accepted",
    "rows": 3,
    "state": "queued",
    "submission_id": "api-1",
    "errors": [],
    "warnings": [],
}


@pytest.fixture
def return_file(tmp_path: Path) -> Path:
    path = tmp_path / "return.csv"
    path.write_bytes(b"activity_date\r\n")
    return path


def test_network_errors_are_retried_with_growing_pauses(return_file: Path) -> None:
    pauses: list[float] = []
    session = Session(requests.ConnectionError("refused"), requests.Timeout("slow"), Reply(201, ACCEPTED))
    status, body = client.submit_file(return_file, "http://h:1/", "tok", session=session, sleep=pauses.append)  # type: ignore[arg-type]
    assert (status, body["state"]) == (201, "queued")
    assert pauses == [1.0, 2.0]
    assert session.calls[0]["url"] == "http://h:1/api/v1/returns"
    assert session.calls[0]["headers"]["Authorization"] == "Bearer tok"
    assert session.calls[0]["files"]["file"][0] == "return.csv"


def test_gives_up_after_the_retries_with_a_clear_message(return_file: Path) -> None:
    session = Session(*[requests.ConnectionError("refused")] * 3)
    with pytest.raises(client.SubmitError) as failure:
        client.submit_file(
            return_file, "http://h:1", "tok", retries=2, session=session, sleep=lambda _s: None
        )  # type: ignore[arg-type]
    assert failure.value.code == 2
    assert "after 3 attempt(s)" in str(failure.value)


def test_busy_server_and_rate_limit_are_waited_out(return_file: Path) -> None:
    pauses: list[float] = []
    session = Session(
        Reply(503, {"error": "x"}),
        Reply(429, {"error": "slow down"}, {"Retry-After": "7"}),
        Reply(422, {"status": "rejected"}),
    )
    status, _body = client.submit_file(return_file, "http://h:1", "tok", session=session, sleep=pauses.append)  # type: ignore[arg-type]
    assert status == 422
    assert pauses == [1.0, 7.0]


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [(401, 2, "token was not accepted"), (413, 1, "too large"), (415, 2, "answered 415")],
)
def test_refusals_are_errors_with_their_exit_code(
    return_file: Path, status: int, code: int, words: str
) -> None:
    session = Session(Reply(status, {"error": "because"}))
    with pytest.raises(client.SubmitError) as failure:
        client.submit_file(return_file, "http://h:1", "tok", session=session, sleep=lambda _s: None)  # type: ignore[arg-type]
    assert failure.value.code == code
    assert words in str(failure.value)
    assert "because" in str(failure.value)


def test_command_exit_codes_follow_the_outcome(return_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    rejected = {
        **ACCEPTED,
        "status": "rejected",
        "state": "rejected",
        "errors": [{"rule": "R09", "row": 2, "column": "appts_booked", "message": "booked 90 > offered 80"}],
    }
    for status, body, code in ((201, ACCEPTED, 0), (422, rejected, 1)):
        monkeypatch.setattr(client, "submit_file", lambda *a, _r=(status, body), **k: _r)
        result = runner.invoke(cli, ["submit", str(return_file), "--url", "http://h:1", "--token", "t"])
        assert result.exit_code == code, result.output
    assert "R09" in result.stdout
    assert "appts_booked" in result.stdout
    assert "booked 90 > offered 80" in result.stdout
    missing = runner.invoke(cli, ["submit", "nope.csv", "--url", "http://h:1", "--token", "t"])
    assert missing.exit_code == 2
    assert "file not found" in missing.stderr
    bad_url = runner.invoke(cli, ["submit", str(return_file), "--url", "h:1", "--token", "t"])
    assert bad_url.exit_code == 2


def test_unreachable_server_exits_2_after_retrying(return_file: Path) -> None:
    result = CliRunner().invoke(
        cli, ["submit", str(return_file), "--url", "http://127.0.0.1:9", "--token", "t", "--retries", "0"]
    )
    assert result.exit_code == 2
    assert "could not reach" in result.stderr
