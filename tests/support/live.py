"""The live system in tests (real Airflow processes, the landing watcher, loopback SMTP): starting it on
the test timeline, dropping returns into landing as a sender does, and waiting for what must follow."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine

from surgehub.config import load_settings
from tests.support.timeline import TIMELINE_NOW

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from email.message import EmailMessage
    from pathlib import Path

    from sqlalchemy import Engine

    from surgehub.config import Settings
    from surgehub.orchestration.live import LiveSystem


@dataclass
class Live:
    system: LiveSystem
    settings: Settings
    engine: Engine


@contextmanager
def live_system(home: Path, *, warehouse_url: str | None = None, **start_options: Any) -> Iterator[Live]:
    """``surgehub.orchestration.live.start`` on the data folder ``home``, free ports and the frozen clock
    for every process; stopped afterwards, and this process's environment put back as it was."""
    from surgehub.orchestration.live import free_port, start, stop

    saved = dict(os.environ)
    os.environ["SURGEHUB_HOME"] = str(home)
    os.environ.pop("SURGEHUB_WAREHOUSE_URL", None)
    if warehouse_url is not None:
        os.environ["SURGEHUB_WAREHOUSE_URL"] = warehouse_url
    os.environ["SURGEHUB_NOW"] = TIMELINE_NOW.isoformat()
    settings = load_settings()
    try:
        system = start(
            settings,
            api_port=free_port(),
            smtp_port=free_port(),
            log_ports=(free_port(), free_port()),
            **start_options,
        )
        yield Live(system, settings, create_engine(settings.warehouse_url))
    finally:
        stop(settings)
        os.environ.clear()
        os.environ.update(saved)


def drop(landing: Path, code: str, name: str, content: bytes) -> Path:
    """Write then rename, as a well-behaved sender does."""
    target = landing / code / name
    partial = target.with_name(f".{name}.part")
    partial.write_bytes(content)
    partial.rename(target)
    return target


def wait_for(
    predicate: Callable[[], Any], timeout: float = 120, what: str = "condition", every: float = 1
) -> Any:
    """The first truthy value of ``predicate``, asked every ``every`` seconds; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def receipts(outbox: Path) -> list[EmailMessage]:
    """Every receipt the loopback SMTP server has kept, oldest file name first."""
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(outbox.glob("*-receipt-*.eml"))
    ]


def receipts_to(outbox: Path, fragment: str) -> list[EmailMessage]:
    """The receipts whose To: holds ``fragment`` (a locality's name, say)."""
    return [message for message in receipts(outbox) if fragment in str(message["To"])]
