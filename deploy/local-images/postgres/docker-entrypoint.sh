#!/usr/bin/env bash
# Entrypoint of the postgres stand-in, written for this stack after the official image's documented
# behaviour (https://hub.docker.com/_/postgres): on an empty PGDATA, initdb with POSTGRES_USER as the
# superuser and POSTGRES_PASSWORD as its password (required unless POSTGRES_HOST_AUTH_METHOD=trust),
# create POSTGRES_DB, run /docker-entrypoint-initdb.d/*.sh and *.sql against a server listening only
# on its socket, then start the server for the network with password authentication.
set -euo pipefail

if [[ "${1:-}" != "postgres" ]]; then
  exec "$@"
fi

if [[ "$(id -u)" == "0" ]]; then
  mkdir -p "${PGDATA}"
  chown -R postgres:postgres "${PGDATA}" /var/run/postgresql
  chmod 0700 "${PGDATA}"
  exec gosu postgres "$0" "$@"
fi

export POSTGRES_USER="${POSTGRES_USER:-postgres}"
export POSTGRES_DB="${POSTGRES_DB:-${POSTGRES_USER}}"
auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"

if [[ ! -s "${PGDATA}/PG_VERSION" ]]; then
  if [[ -z "${POSTGRES_PASSWORD:-}" && "${auth}" != "trust" ]]; then
    echo "Error: the database is uninitialised and POSTGRES_PASSWORD is not set." >&2
    exit 1
  fi
  pwfile="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:-}" >"${pwfile}"
  initdb --username="${POSTGRES_USER}" --pwfile="${pwfile}" --auth-local=trust \
    --auth-host="${auth}" --encoding=UTF8 --locale=C.UTF-8 -D "${PGDATA}" >/dev/null
  rm -f "${pwfile}"
  printf "\nlisten_addresses = '*'\n" >>"${PGDATA}/postgresql.conf"
  printf 'host all all all %s\n' "${auth}" >>"${PGDATA}/pg_hba.conf"

  pg_ctl -D "${PGDATA}" -o "-c listen_addresses=''" -w start >/dev/null
  psql=(psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER}" --no-password --no-psqlrc)
  if [[ "${POSTGRES_DB}" != "postgres" ]]; then
    "${psql[@]}" --dbname postgres --set db="${POSTGRES_DB}" <<<'CREATE DATABASE :"db";' >/dev/null
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "${f}" in
      *.sh) echo "running ${f}"; if [[ -x "${f}" ]]; then "${f}"; else . "${f}"; fi ;;
      *.sql) echo "running ${f}"; "${psql[@]}" --dbname "${POSTGRES_DB}" -f "${f}" ;;
      *) ;;
    esac
  done
  pg_ctl -D "${PGDATA}" -m fast -w stop >/dev/null
  echo "PostgreSQL init process complete; ready for start up."
fi

exec postgres -D "${PGDATA}"
