"""The local Airflow home on embedded defaults: SQLite metadata, LocalExecutor, this repo's dags/ and plugins/."""

from __future__ import annotations

import os
from pathlib import Path

from surgehub.config import PROJECT_ROOT, Settings

DAGS_FOLDER = PROJECT_ROOT / "dags"
PLUGINS_FOLDER = PROJECT_ROOT / "plugins"


def airflow_home(settings: Settings) -> Path:
    return settings.home / "airflow"


def airflow_environment(settings: Settings, *, smtp_connection_json: str | None = None) -> dict[str, str]:
    """Environment variables that configure Airflow for this project (set them before importing airflow)."""
    home = airflow_home(settings)
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Europe/London",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "SURGEHUB_HOME": str(settings.home),
        "SURGEHUB_WAREHOUSE_URL": settings.warehouse_url,
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(PLUGINS_FOLDER), os.environ.get("PYTHONPATH", "")) if p
        ),
    }
    if settings.config_file is not None:
        env["SURGEHUB_CONFIG"] = str(settings.config_file)
    if smtp_connection_json is not None:
        env["AIRFLOW_CONN_SMTP_DEFAULT"] = smtp_connection_json
    return env


def apply_environment(env: dict[str, str]) -> None:
    os.environ.update(env)
    airflow_home_path = Path(env["AIRFLOW_HOME"])
    airflow_home_path.mkdir(parents=True, exist_ok=True)
    (airflow_home_path / "logs").mkdir(exist_ok=True)
