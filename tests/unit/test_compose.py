"""The production stack, checked without Docker: docker-compose.yml has every service, variable and
volume the code needs, in the shape of the official Airflow compose file; every secret is required,
every image pinned, every long-running service health-checked, each data volume mounted only where it
is used; the Dockerfiles build on the Airflow version the lockfile pins and are hadolint clean.
`make stack-test` (tests/stack/) runs the same stack for real on a Docker engine."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from surgehub.config import PROJECT_ROOT

COMPOSE_TEXT = (PROJECT_ROOT / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text()
INIT_SCRIPT = (PROJECT_ROOT / "deploy" / "airflow-init.sh").read_text()
AIRFLOW_SERVICES = [
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
]
LONG_RUNNING = [name for name in SERVICES if name != "airflow-init"]
SECRETS = {
    "POSTGRES_PASSWORD",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "_AIRFLOW_WWW_USER_PASSWORD",
    "AIRFLOW_CONN_SMTP_DEFAULT",
    "SURGEHUB_SECRET_KEY",
}

#: Deployment switches the code reads that the stack must set (the rest are test/demo knobs with defaults).
DEPLOYMENT_ENV = {
    "SURGEHUB_WAREHOUSE_URL",
    "SURGEHUB_HOME",
    "SURGEHUB_LANDING_DIR",
    "SURGEHUB_ARCHIVE_DIR",
    "SURGEHUB_QUARANTINE_DIR",
    "SURGEHUB_CONFIG",
    "SURGEHUB_REDIS_URL",  # rate limits and sessions, shared by the API's replicas
    "SURGEHUB_SECRET_KEY",
    "SURGEHUB_OIDC_ISSUER",  # optional single sign-on (empty: off)
    "SURGEHUB_OIDC_CLIENT_ID",
    "SURGEHUB_OIDC_CLIENT_SECRET",
    "SURGEHUB_OIDC_NAME",
    "SURGEHUB_AIRFLOW_ROLE",  # the FAB role the data team gets through that sign-on
}
NOT_FOR_DEPLOYMENT = {
    "SURGEHUB_NOW",  # the frozen clock: never in production
    "SURGEHUB_TASK_RETRIES",
    "SURGEHUB_PRELOAD",  # on by default: the scheduler and workers preload the validation stack
    "SURGEHUB_DEADLINE_ALERTS",
    "SURGEHUB_LANDING_POLL_SECONDS",  # the landing watcher's poll: 1 s by default
    "SURGEHUB_LANDING_QUIET_SECONDS",  # the demo's and tests' override of limits.landing_quiet_seconds
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


def _mounts(service: str) -> dict[str, str]:
    """Container path -> source (volume name or host path) of a service's mounts."""
    mounts = {}
    for volume in SERVICES[service].get("volumes") or []:
        source, target = volume.split(":")[:2]
        mounts[target] = source
    return mounts


def _lock_version(name: str) -> str:
    lock = tomllib.loads((PROJECT_ROOT / "uv.lock").read_text())
    return next(p["version"] for p in lock["package"] if p["name"] == name)


def test_every_service_of_the_stack_is_there() -> None:
    assert set(AIRFLOW_SERVICES) | {"postgres", "redis", "mailpit", "surgehub-api"} <= set(SERVICES)


def test_submission_api_runs_through_the_image_entrypoint_beside_the_ingest() -> None:
    api = SERVICES["surgehub-api"]
    assert "entrypoint" not in api, "dumb-init and the arbitrary-uid handling come from the entrypoint"
    assert api["command"][:2] == ["surgehub", "serve"]
    assert _env("surgehub-api")["SURGEHUB_WAREHOUSE_URL"] == _env("airflow-worker")["SURGEHUB_WAREHOUSE_URL"]
    landing = _env("surgehub-api")["SURGEHUB_LANDING_DIR"]
    assert _mounts("surgehub-api")[landing] == _mounts("airflow-worker")[landing]
    entrypoint = (PROJECT_ROOT / "deploy" / "entrypoint.sh").read_text()
    assert '"surgehub"' in entrypoint
    assert "exec /entrypoint" in entrypoint


def test_airflow_services_share_the_common_block_with_celery_and_postgres() -> None:
    for name in [*AIRFLOW_SERVICES, "surgehub-api"]:
        env = _env(name)
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert "@redis:6379" in env["AIRFLOW__CELERY__BROKER_URL"], name
        assert "@postgres/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert SERVICES[name]["build"]["context"] == "."
        assert SERVICES[name]["user"].endswith(":0"), "group 0, as the Airflow image requires"


def test_ui_accounts_are_real_and_kept_in_the_metadata_database() -> None:
    env = _env("airflow-scheduler")
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("fab_auth_manager.FabAuthManager")
    init = _env("airflow-init")
    assert init["_AIRFLOW_WWW_USER_CREATE"] == "true"
    assert "_AIRFLOW_WWW_USER_PASSWORD" not in _env("airflow-apiserver"), "only airflow-init needs it"
    assert "SIMPLE_AUTH_MANAGER" not in COMPOSE_TEXT


def test_metadata_and_warehouse_are_separate_databases_and_the_warehouse_is_made_if_missing() -> None:
    env = _env("airflow-scheduler")
    metadata_db = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].rsplit("/", 1)[1]
    warehouse_db = env["SURGEHUB_WAREHOUSE_URL"].rsplit("/", 1)[1]
    assert metadata_db != warehouse_db
    assert env["SURGEHUB_WAREHOUSE_URL"].startswith("postgresql+psycopg://")
    # airflow-init creates it on every start when it is missing, not only on a new PostgreSQL volume
    assert "create database" in INIT_SCRIPT
    assert "SURGEHUB_WAREHOUSE_URL" in INIT_SCRIPT


def test_every_deployment_variable_the_code_reads_is_set() -> None:
    used = set()
    for folder in ("src", "dags", "plugins"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            used |= set(re.findall(r"SURGEHUB_[A-Z_]+", path.read_text()))
    unknown = used - DEPLOYMENT_ENV - NOT_FOR_DEPLOYMENT
    assert not unknown, f"new environment variables: decide whether the stack sets them: {unknown}"
    for name in [*AIRFLOW_SERVICES, "surgehub-api"]:
        assert set(_env(name)) >= DEPLOYMENT_ENV, name
        assert not set(_env(name)) & NOT_FOR_DEPLOYMENT, name


@pytest.mark.parametrize(
    ("service", "folders"),
    [
        ("airflow-worker", {"LANDING", "ARCHIVE", "QUARANTINE"}),  # runs every task
        ("airflow-init", {"LANDING", "ARCHIVE", "QUARANTINE"}),  # sets their ownership
        ("airflow-triggerer", {"LANDING"}),  # the landing watcher
        ("airflow-apiserver", {"LANDING"}),  # /surgehub/health checks it
        ("surgehub-api", {"LANDING", "ARCHIVE"}),  # hands off accepted, archives rejected returns
        ("airflow-scheduler", set()),
        ("airflow-dag-processor", set()),
    ],
)
def test_each_data_volume_is_mounted_only_where_it_is_used(service: str, folders: set[str]) -> None:
    env = _env("airflow-worker")
    mounts = _mounts(service)
    for folder in ("LANDING", "ARCHIVE", "QUARANTINE"):
        path = env[f"SURGEHUB_{folder}_DIR"]
        assert (path in mounts) == (folder in folders), f"{service} and {path}"
        if path in mounts:
            assert mounts[path] in COMPOSE["volumes"], "a named volume, shared between services"
    assert "/opt/airflow/dags" not in mounts, "they are in the image"
    assert "/opt/airflow/plugins" not in mounts, "they are in the image"


def test_the_quarantine_never_reaches_the_submission_api() -> None:
    assert not any(source == "surgehub-quarantine" for source in _mounts("surgehub-api").values())
    assert _env("surgehub-api")["SURGEHUB_QUARANTINE_DIR"] not in _mounts("surgehub-api")


def test_init_runs_both_migrations_and_the_others_wait_for_it() -> None:
    assert SERVICES["airflow-init"]["command"] == ["bash", "/opt/surgehub/deploy/airflow-init.sh"]
    assert _env("airflow-init")["_AIRFLOW_DB_MIGRATE"] == "true"
    assert "airflow db check-migrations" in INIT_SCRIPT
    assert "surgehub db upgrade" in INIT_SCRIPT
    for name in LONG_RUNNING:
        depends = SERVICES[name].get("depends_on") or {}
        if name.startswith("airflow-") or name == "surgehub-api":
            assert depends["airflow-init"]["condition"] == "service_completed_successfully", name


def test_init_owns_the_volumes_like_the_official_file() -> None:
    assert SERVICES["airflow-init"]["user"] == "0:0"
    assert 'chown -R "${owner}"' in INIT_SCRIPT
    assert "chmod -R g+rwX" in INIT_SCRIPT
    assert "install -d -o 50000 -g 0" in DOCKERFILE, "new named volumes start out owned by airflow"


def test_init_makes_a_landing_folder_for_every_locality_the_register_holds_and_then_owns_them() -> None:
    """A locality recorded as data gets its folder when airflow-init runs again (`make bench-stack` does
    it for 420); the ownership step comes after, so the new folders are group-writable too."""
    landing = INIT_SCRIPT.index("ensure_landing(settings.landing_dir, locality_codes(")
    assert landing < INIT_SCRIPT.index('chown -R "${owner}"')


def test_the_pool_is_created_once_and_never_reset() -> None:
    create = INIT_SCRIPT.index("airflow pools set surgehub_warehouse")
    assert "airflow pools get surgehub_warehouse" in INIT_SCRIPT[:create]


def test_every_secret_is_required_and_comes_from_an_uncommitted_env_file() -> None:
    referenced = set(re.findall(r"(?<!\$)\$\{([A-Za-z0-9_]+)", COMPOSE_TEXT))
    example = dict(
        line.split("=", 1)
        for line in (PROJECT_ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert referenced <= set(example), f"variables without an example: {referenced - set(example)}"
    for secret in SECRETS:
        uses = re.findall(r"\$\{" + secret + r"(:?[?-]?)", COMPOSE_TEXT)
        assert uses, f"{secret} is not used"
        assert set(uses) == {":?"}, f"{secret} must be required everywhere (${{{secret}:?...}})"
        assert example[secret] == "", f"{secret} has no usable default in .env.example"
    assert ".env" in (PROJECT_ROOT / ".gitignore").read_text().split()
    assert not any("env_file" in service for service in SERVICES.values()), "no whole .env in containers"


def test_the_mail_catcher_is_opt_in_on_localhost_and_not_the_relay() -> None:
    mailpit = SERVICES["mailpit"]
    assert mailpit["profiles"] == ["mailcatcher"]
    assert all(port.startswith("127.0.0.1:") for port in mailpit["ports"])
    assert mailpit["healthcheck"]["test"]
    assert (
        "mailpit" not in (PROJECT_ROOT / ".env.example").read_text().split("AIRFLOW_CONN_SMTP_DEFAULT=")[-1]
    )


def test_images_are_pinned_and_default_to_the_official_ones() -> None:
    airflow = _lock_version("apache-airflow")
    defaults = {
        name: re.fullmatch(r"\$\{[A-Z_]+:-([^}]+)\}", service["image"]).group(1)  # type: ignore[union-attr]
        for name, service in SERVICES.items()
        if "build" not in service
    }
    assert defaults == {
        "postgres": "postgres:16",
        "redis": "redis:7.2-bookworm",
        "mailpit": defaults["mailpit"],
    }
    assert re.fullmatch(r"axllent/mailpit:v\d+\.\d+\.\d+", defaults["mailpit"])
    assert SERVICES["airflow-worker"]["build"]["args"]["AIRFLOW_IMAGE"] == (
        f"${{AIRFLOW_IMAGE:-apache/airflow:{airflow}-python3.11}}"
    )


@pytest.mark.parametrize("service", LONG_RUNNING)
def test_long_running_services_have_healthchecks(service: str) -> None:
    assert SERVICES[service]["healthcheck"]["test"]


def test_dockerfile_extends_the_locked_airflow_version_with_a_plain_install() -> None:
    airflow = _lock_version("apache-airflow")
    assert f"ARG AIRFLOW_IMAGE=apache/airflow:{airflow}-python3.11" in DOCKERFILE
    assert "uv export --frozen" in DOCKERFILE
    assert "--require-hashes" in DOCKERFILE
    assert "pip install --no-cache-dir --no-deps /opt/surgehub" in DOCKERFILE
    assert "--editable" not in DOCKERFILE
    assert " -e " not in DOCKERFILE
    assert "--mount=type=secret,id=ca_bundle" in DOCKERFILE
    standin = (PROJECT_ROOT / "deploy" / "local-images" / "airflow" / "Dockerfile").read_text()
    assert f"ARG AIRFLOW_VERSION={airflow}" in standin
    assert "ARG AIRFLOW_UID=50000" in standin


def test_build_context_leaves_out_the_venv_local_data_and_secrets() -> None:
    lines = (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
    ignore = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert ignore[0] == "*", "an allow-list: whatever is not named is left out"
    for kept in ("!src/", "!config/", "!dags/", "!plugins/", "!uv.lock", "!pyproject.toml"):
        assert kept in ignore
    assert not any(line.startswith(("!.venv", "!var", "!.env", "!.git")) for line in ignore)


def test_everything_the_dockerfile_copies_is_in_the_build_context() -> None:
    """Each COPY source is let in by the allow-list (a file left out fails only at `docker compose
    build`: the stack test's upgrade step found deploy/webserver_config.py missing)."""
    allowed = [
        line.strip()[1:].rstrip("/")
        for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip().startswith("!")
    ]
    sources = []
    for line in DOCKERFILE.replace("\\\n", " ").splitlines():
        words = [w for w in line.split() if not w.startswith("--")]
        if words[:1] == ["COPY"]:
            sources += words[1:-1]
    assert sources, "no COPY found"
    for source in sources:
        assert (PROJECT_ROOT / source).exists(), source
        assert any(source.rstrip("/") == a or source.startswith(f"{a}/") for a in allowed), (
            f"{source} is copied but .dockerignore leaves it out"
        )


def _hadolint() -> str | None:
    return shutil.which("hadolint") or next(
        (str(p) for p in [Path(sys.executable).parent / "hadolint"] if p.exists()), None
    )


def test_dockerfiles_are_hadolint_clean() -> None:
    hadolint = _hadolint()
    if hadolint is None:
        pytest.skip("hadolint is not installed (it comes with the dev dependencies: make venv)")
    dockerfiles = [PROJECT_ROOT / "Dockerfile", *sorted((PROJECT_ROOT / "deploy").rglob("Dockerfile"))]
    result = subprocess.run(
        [hadolint, "--no-color", *map(str, dockerfiles)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_smtp_connections_are_valid_json() -> None:
    text = (PROJECT_ROOT / ".env.example").read_text()
    for line in text.splitlines():
        if line.startswith("# {"):
            json.loads(line[2:])


def test_the_gx_results_volume_is_shared_by_every_service_that_ingests() -> None:
    """Each ingest stores its GX result under $SURGEHUB_HOME/gx (docs/gx.md): the workers and the API
    (which records rejected returns) share one named volume; airflow-init owns it."""
    path = _env("airflow-worker")["SURGEHUB_HOME"] + "/gx"
    for service in ("airflow-worker", "surgehub-api", "airflow-init"):
        assert _mounts(service).get(path) == "surgehub-gx", service
    for service in ("airflow-triggerer", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor"):
        assert path not in _mounts(service), service
    assert "surgehub-gx" in COMPOSE["volumes"]
    assert '"${SURGEHUB_HOME}/gx"' in INIT_SCRIPT
    assert "/opt/surgehub-data/gx" in DOCKERFILE
