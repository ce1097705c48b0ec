#!/bin/bash
# Runs once, when the PostgreSQL volume is first initialised: the warehouse gets its own database.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE DATABASE "${WAREHOUSE_DB:-surgehub}" OWNER "$POSTGRES_USER";
SQL
