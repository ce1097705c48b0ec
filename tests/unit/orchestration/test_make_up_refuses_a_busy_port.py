"""`make up` on a port something already listens on fails at once, naming the port and the setting."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import pytest

from surgehub.orchestration import live

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(("option", "setting"), [("--api-port", "API_PORT"), ("--smtp-port", "SMTP_PORT")])
def test_a_busy_port_is_refused_at_once_with_the_setting_that_moves_it(
    surgehub_home: Path, capsys: pytest.CaptureFixture[str], option: str, setting: str
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        other = live.free_port()
        ports = {"--api-port": other, "--smtp-port": other}
        ports[option] = port
        argv = ["up", "--api-port", str(ports["--api-port"]), "--smtp-port", str(ports["--smtp-port"])]
        assert live.main(argv) == 2
    err = capsys.readouterr().err
    assert f"port {port} (for " in err
    assert "is already in use on this machine" in err
    assert f"make up {setting}={port + 1}" in err
    assert not (surgehub_home / "run").exists() or not any((surgehub_home / "run").glob("*.pid"))
