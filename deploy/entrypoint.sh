#!/usr/bin/env bash
# The surgehub image's entrypoint, run under dumb-init: the Airflow image's own /entrypoint for
# everything (group-0 and arbitrary-uid handling, waiting for the metadata database, _AIRFLOW_DB_MIGRATE,
# the first UI user, `bash`/`python` as they are, anything else as `airflow <command>`), plus `surgehub`
# commands, which go through the same checks:
#   docker compose run --rm airflow-worker surgehub token create --locality 14L
set -euo pipefail
if [[ "${1:-}" == "surgehub" ]]; then
  exec /entrypoint bash -c 'exec "$@"' surgehub "$@"
fi
exec /entrypoint "$@"
