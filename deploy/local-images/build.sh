#!/usr/bin/env bash
# Build the local stand-ins for the upstream images docker-compose.yml uses (apache/airflow, postgres,
# redis, Mailpit), on a machine where no container registry can be reached.
#
#   deploy/local-images/build.sh        # idempotent: unchanged images come from the build cache
#
# Needs a Docker engine with the compose plugin and the base image local/debian:bookworm (both from
# ../shared/tools/docker-engine.sh on this project's machines). PyPI is reached through the machine's
# TLS-inspecting proxy, so the Airflow build trusts CA_BUNDLE (default: the machine's bundle,
# /etc/ssl/certs/ca-certificates.crt), passed as a BuildKit secret and not kept in the image.
# Then point the compose file at them: cat deploy/local-images/standins.env >> .env
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

if ! docker image inspect local/debian:bookworm >/dev/null 2>&1; then
  echo "build.sh: no local/debian:bookworm image: run ../shared/tools/docker-engine.sh first" >&2
  exit 2
fi
export CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
[[ -r "${CA_BUNDLE}" ]] || { echo "build.sh: cannot read CA_BUNDLE=${CA_BUNDLE}" >&2; exit 2; }

docker compose --file "${here}/compose.yml" build "$@"
docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' 'surgehub-standin/*'
