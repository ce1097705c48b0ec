"""Shared fixtures: a fixed timeline, an isolated data folder, and required-on-CI service checks."""

from __future__ import annotations

import importlib.util
import os
import socket
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from surgehub.clock import LONDON
from surgehub.config import PROJECT_ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator

# Airflow reads its configuration when first imported: point it at a throwaway home for the whole
# session before any test imports it (SQLite metadata, this repo's dags/ and plugins/).
_AIRFLOW_HOME = (
    Path(os.environ.get("SURGEHUB_TEST_AIRFLOW_HOME", "/tmp")) / f"surgehub-test-airflow-{os.getpid()}"
)
os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(_AIRFLOW_HOME / "logs"),
    }
)

#: The fixed "now" of the test timeline: inside the configured season, never today's date.
TIMELINE_NOW = datetime(2026, 11, 25, 9, 0, tzinfo=LONDON)

ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, what: str) -> None:
    """Skip when a real service is missing on a developer's machine; fail on CI, where it is required."""
    if condition:
        return
    if ON_CI:
        pytest.fail(f"{what} is required when CI=true but is not available")
    pytest.skip(f"SKIPPED LOUDLY: {what} is not available on this machine")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def fixed_timeline(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Every test runs with the injected clock frozen on the test timeline."""
    monkeypatch.setenv("SURGEHUB_NOW", TIMELINE_NOW.isoformat())
    # Files written by a test just before an ingest are complete: a short quiet period (spec §4).
    monkeypatch.setenv("SURGEHUB_LANDING_QUIET_SECONDS", "0.2")
    return TIMELINE_NOW


@pytest.fixture
def surgehub_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated data folder (warehouse, landing, archive, mail) for one test."""
    home = tmp_path / "var"
    home.mkdir()
    monkeypatch.setenv("SURGEHUB_HOME", str(home))
    monkeypatch.delenv("SURGEHUB_WAREHOUSE_URL", raising=False)
    return home


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium for this module (skipped loudly where missing; required when CI=true)."""
    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    require(CHROMIUM.exists(), f"Debian's chromium at {CHROMIUM}")
    require(importlib.util.find_spec("playwright") is not None, "the playwright package")
    require(
        importlib.util.find_spec("axe_playwright_python") is not None, "the axe-playwright-python package"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
