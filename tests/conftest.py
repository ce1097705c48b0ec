"""Test session set-up: Airflow pointed at a throwaway home, and the shared fixtures registered.

The fixtures live in tests/support/fixtures/ (the fixed timeline and data folder, the warehouse on
SQLite and PostgreSQL, Chromium, loopback SMTP, a served API); helpers are in tests/support/.
"""

from __future__ import annotations

import os
from pathlib import Path

from surgehub.config import PROJECT_ROOT

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

pytest_plugins = [
    "tests.support.fixtures.timeline",
    "tests.support.fixtures.postgres",
    "tests.support.fixtures.warehouse",
    "tests.support.fixtures.browser",
    "tests.support.fixtures.smtp",
    "tests.support.fixtures.api_server",
]
