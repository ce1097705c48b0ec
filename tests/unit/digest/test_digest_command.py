"""`surgehub digest`: writes message.eml and digest.html, and exits 0/2 as the other commands do."""

from __future__ import annotations

from email import message_from_bytes, policy
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from surgehub.cli import cli
from surgehub.cli.digest import digest as digest_command
from tests.support.digest_timeline import timeline_settings

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    settings = timeline_settings(tmp_path_factory.getbasetemp() / "digest-timeline")
    monkeypatch.setenv("SURGEHUB_HOME", str(settings.home))
    monkeypatch.delenv("SURGEHUB_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("SURGEHUB_CONFIG", raising=False)
    return settings.home


def run(*args: str):
    return CliRunner().invoke(cli, ["digest", *args], catch_exceptions=False)


def test_the_cli_group_finds_the_digest_command_lazily() -> None:
    from surgehub.cli import COMMANDS

    assert COMMANDS["digest"][0] == "surgehub.cli.digest:digest"
    assert digest_command.name == "digest"
    result = run("--help")
    assert result.exit_code == 0
    assert "--kind [board|daily]" in result.output
    assert "--send" in result.output
    assert "--out" in result.output


def test_writes_the_whole_mime_message_and_the_html_it_holds(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("--kind", "board", "--as-of", "2026-11-26T07:30", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "board:2026-11-26T07:30" in result.output
    message = message_from_bytes((out / "message.eml").read_bytes(), policy=policy.default)
    assert message["X-Surgehub-Period"] == "board:2026-11-26T07:30"
    assert message["To"] == "pcsb-board@gm-surgehub.example.nhs.uk"
    html_part = message.get_body(preferencelist=("html",))
    assert html_part.get_content() == (out / "digest.html").read_text(encoding="utf-8")
    text_part = message.get_body(preferencelist=("plain",))
    assert text_part.get_content() == (out / "digest.txt").read_text(encoding="utf-8")
    assert (out / "utilisation-trend.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "digest.csv").read_bytes().startswith("\ufeffperiod_key,".encode())


def test_default_as_of_is_the_injected_clock(home: Path, tmp_path: Path) -> None:
    # The test clock stands at Wed 25 Nov 09:00: the latest board digest then was Monday's.
    result = run("--out", str(tmp_path / "now"))
    assert result.exit_code == 0, result.output
    assert "board:2026-11-23T07:30" in result.output


def test_daily_kind_writes_the_operations_summary(home: Path, tmp_path: Path) -> None:
    result = run("--kind", "daily", "--as-of", "2026-11-25T13:45", "--out", str(tmp_path / "daily"))
    assert result.exit_code == 0, result.output
    message = message_from_bytes((tmp_path / "daily" / "message.eml").read_bytes(), policy=policy.default)
    assert message["X-Surgehub-Kind"] == "daily"
    assert message["To"] == "gm-primary-care-ops@gm-surgehub.example.nhs.uk"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--as-of", "next thursday"], "is not an ISO 8601 time"),
        (["--kind", "weekly"], "Invalid value for '--kind'"),
        ([], "Missing option '--out'"),
    ],
)
def test_usage_errors_exit_2_with_plain_words(
    home: Path, tmp_path: Path, args: list[str], words: str
) -> None:
    if "--out" not in args and words != "Missing option '--out'":
        args = [*args, "--out", str(tmp_path / "x")]
    result = CliRunner().invoke(cli, ["digest", *args])
    assert result.exit_code == 2
    assert words in result.output + result.stderr


def test_send_without_recipients_is_a_configuration_error(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "surgehub.yaml"
    config.write_text("email:\n  board: []\n", encoding="utf-8")
    monkeypatch.setenv("SURGEHUB_CONFIG", str(config))
    result = CliRunner().invoke(
        cli, ["digest", "--send", "--as-of", "2026-11-26T07:30", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "email.board in " in result.stderr
    assert "lists no one and no active account has the board role" in result.stderr
