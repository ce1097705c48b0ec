#!/usr/bin/env bash
# airflow-init: make the stack ready before anything else starts. Safe on every `up`: each step does
# only what is missing. Run by docker-compose.yml's airflow-init service through the image's entrypoint,
# which has already waited for the metadata database, migrated it (_AIRFLOW_DB_MIGRATE) and created the
# first UI user (_AIRFLOW_WWW_USER_*), as in the official Airflow compose file.
#   1. Airflow's metadata is at its head revision (the entrypoint's migration does not fail the start);
#   2. the warehouse database exists, created if missing, also on an existing PostgreSQL volume;
#   3. the warehouse is migrated (Alembic: surgehub db upgrade);
#   4. the warehouse writers' pool exists (created with 4 slots; an operator's later change is kept);
#   5. every locality has its landing folder, also one recorded in the register as data since the
#      last start (re-run this service to make it: docker compose run --rm airflow-init);
#   6. as root: the data volumes and the logs belong to AIRFLOW_UID, group 0, group-writable, as the
#      official file does for its folders (named volumes start out owned by root).
set -euo pipefail
step() { printf '%s airflow-init: %s\n' "$(date -u +%H:%M:%S)" "$*"; }

step "Airflow $(airflow version): checking the metadata migrations"
airflow db check-migrations --migration-wait-timeout 60

step "warehouse database"
python - <<'PY'
import os

from sqlalchemy.engine import make_url

url = make_url(os.environ["SURGEHUB_WAREHOUSE_URL"])
if url.get_backend_name() == "postgresql":
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password,
        dbname="postgres", autocommit=True,
    ) as conn:
        if conn.execute("select 1 from pg_database where datname = %s", (url.database,)).fetchone():
            print(f"database {url.database} exists")
        else:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(url.database)))
            print(f"database {url.database} created")
PY

step "warehouse migrations"
surgehub db upgrade

step "pool surgehub_warehouse"
if airflow pools get surgehub_warehouse >/dev/null 2>&1; then
  echo "pool surgehub_warehouse exists: its slots are left as they are"
else
  airflow pools set surgehub_warehouse 4 "Warehouse writers (PostgreSQL takes concurrent loads)"
fi

step "landing folders: the shipped localities and any the warehouse's register holds as data"
python - <<'PY'
from surgehub.config import load_settings
from surgehub.landing import ensure_landing
from surgehub.warehouse.db import get_engine
from surgehub.warehouse.register import locality_codes

settings = load_settings()
folders = ensure_landing(settings.landing_dir, locality_codes(get_engine(settings.warehouse_url)))
print(f"{len(folders)} landing folders")
PY

if [[ "$(id -u)" == "0" ]]; then
  owner="${AIRFLOW_UID:-50000}:0"
  step "ownership of the data volumes and logs: ${owner}, group-writable"
  for folder in "${SURGEHUB_LANDING_DIR}" "${SURGEHUB_ARCHIVE_DIR}" "${SURGEHUB_QUARANTINE_DIR}" \
    "${SURGEHUB_HOME}/gx" /opt/airflow/logs; do
    [[ -d "${folder}" ]] || continue
    chown -R "${owner}" "${folder}"
    chmod -R g+rwX "${folder}"
  done
fi
step "done: Airflow metadata and the surgehub warehouse are migrated"
