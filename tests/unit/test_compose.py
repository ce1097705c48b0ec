"""The production stack, checked without Docker: docker-compose.yml has every service, variable and
volume the code needs, in the shape of the official Airflow compose file, and the Dockerfile builds on
the Airflow version the lockfile pins."""

from __future__ import annotations

import json
import re
import tomllib

import pytest
import yaml

from surgehub.config import PROJECT_ROOT

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
AIRFLOW_SERVICES = [
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
]

#: Deployment switches the code reads that the stack must set (the rest are test/demo knobs with defaults).
DEPLOYMENT_ENV = {
    "SURGEHUB_WAREHOUSE_URL",
    "SURGEHUB_HOME",
    "SURGEHUB_LANDING_DIR",
    "SURGEHUB_ARCHIVE_DIR",
    "SURGEHUB_QUARANTINE_DIR",
    "SURGEHUB_CONFIG",
}
NOT_FOR_DEPLOYMENT = {
    "SURGEHUB_NOW",  # the frozen clock: never in production
    "SURGEHUB_TASK_RETRIES",
    "SURGEHUB_PRELOAD",  # on by default: the scheduler and workers preload the validation stack
    "SURGEHUB_DEADLINE_ALERTS",
    "SURGEHUB_LANDING_POLL_SECONDS",  # the landing watcher's poll: 1 s by default
    "SURGEHUB_DEMO_HOME",
    "SURGEHUB_OUTBOX_DIR",  # the loopback server's folder; production uses a relay
    "SURGEHUB_API_PORT",
    "SURGEHUB_SMTP_PORT",
    "SURGEHUB_TOKEN",  # the submit client's, on a locality's machine
    "SURGEHUB_URL",
    "SURGEHUB_API_READS_PER_MINUTE",
    "SURGEHUB_API_UPLOADS_PER_MINUTE",
    "SURGEHUB_PAUSE_DIR",  # pause points for the stack test only (surgehub.orchestration.pause)
}


def _env(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in (SERVICES[service].get("environment") or {}).items()}


def test_every_service_of_the_stack_is_there() -> None:
    assert set(AIRFLOW_SERVICES) | {"postgres", "redis", "mailpit", "surgehub-api"} <= set(SERVICES)


def test_submission_api_shares_the_warehouse_and_landing_volume_with_the_ingest() -> None:
    api, worker = SERVICES["surgehub-api"], SERVICES["airflow-worker"]
    assert api["entrypoint"][:2] == ["surgehub", "serve"]
    assert _env("surgehub-api")["SURGEHUB_WAREHOUSE_URL"] == _env("airflow-worker")["SURGEHUB_WAREHOUSE_URL"]
    landing = _env("surgehub-api")["SURGEHUB_LANDING_DIR"]
    assert next(v for v in api["volumes"] if v.endswith(":" + landing)) == next(
        v for v in worker["volumes"] if v.endswith(":" + landing)
    )


def test_airflow_services_share_the_common_block_with_celery_and_postgres() -> None:
    for name in AIRFLOW_SERVICES:
        env = _env(name)
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert "@redis:6379" in env["AIRFLOW__CELERY__BROKER_URL"], name
        assert "@postgres/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert SERVICES[name]["build"] == "."


def test_metadata_and_warehouse_are_separate_databases() -> None:
    env = _env("airflow-scheduler")
    metadata_db = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].rsplit("/", 1)[1]
    warehouse_db = env["SURGEHUB_WAREHOUSE_URL"].rsplit("/", 1)[1]
    assert metadata_db != warehouse_db
    assert env["SURGEHUB_WAREHOUSE_URL"].startswith("postgresql+psycopg://")
    init_script = (PROJECT_ROOT / "deploy" / "postgres-init" / "10-create-warehouse.sh").read_text()
    assert "CREATE DATABASE" in init_script and "WAREHOUSE_DB" in init_script


def test_every_deployment_variable_the_code_reads_is_set() -> None:
    used = set()
    for folder in ("src", "dags", "plugins"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            used |= set(re.findall(r"SURGEHUB_[A-Z_]+", path.read_text()))
    unknown = used - DEPLOYMENT_ENV - NOT_FOR_DEPLOYMENT
    assert not unknown, f"new environment variables: decide whether the stack sets them: {unknown}"
    for name in AIRFLOW_SERVICES:
        assert set(_env(name)) >= DEPLOYMENT_ENV, name


def test_landing_archive_and_quarantine_are_volumes_shared_by_every_airflow_service() -> None:
    env = _env("airflow-worker")
    for name in AIRFLOW_SERVICES:
        mounts = {v.split(":")[1]: v.split(":")[0] for v in SERVICES[name]["volumes"]}
        for key in ("SURGEHUB_LANDING_DIR", "SURGEHUB_ARCHIVE_DIR", "SURGEHUB_QUARANTINE_DIR"):
            assert env[key] in mounts, f"{name} lacks a volume at {env[key]}"
            assert mounts[env[key]] in COMPOSE["volumes"]
        assert mounts["/opt/airflow/dags"] == "./dags" and mounts["/opt/airflow/plugins"] == "./plugins"


def test_init_runs_both_migrations_and_the_others_wait_for_it() -> None:
    script = "\n".join(SERVICES["airflow-init"]["command"])
    assert "airflow db migrate" in script and "surgehub db upgrade" in script
    for name in AIRFLOW_SERVICES[:-1]:
        assert SERVICES[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_secrets_come_from_an_uncommitted_env_file() -> None:
    referenced = set(
        re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)\}", (PROJECT_ROOT / "docker-compose.yml").read_text())
    )
    example = dict(
        line.split("=", 1)
        for line in (PROJECT_ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert referenced <= set(example), f"variables without an example: {referenced - set(example)}"
    assert ".env" in (PROJECT_ROOT / ".gitignore").read_text().split()
    smtp = json.loads(example["AIRFLOW_CONN_SMTP_DEFAULT"])
    assert smtp["host"] == "mailpit" and smtp["port"] == 1025
    assert "mailpit" in SERVICES


def test_dockerfile_extends_the_locked_airflow_version() -> None:
    lock = tomllib.loads((PROJECT_ROOT / "uv.lock").read_text())
    airflow = next(p["version"] for p in lock["package"] if p["name"] == "apache-airflow")
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert f"FROM apache/airflow:{airflow}-python3.11" in dockerfile
    assert "uv export --frozen" in dockerfile


@pytest.mark.parametrize(
    "service", ["airflow-apiserver", "airflow-scheduler", "airflow-worker", "airflow-triggerer"]
)
def test_long_running_services_have_healthchecks(service: str) -> None:
    assert SERVICES[service]["healthcheck"]["test"]
