#!/usr/bin/env bash
# /entrypoint of the apache/airflow stand-in. It does what docker-compose.yml relies on from the
# official image's entrypoint (scripts/docker/entrypoint_prod.sh in apache/airflow, documented at
# https://airflow.apache.org/docs/docker-stack/entrypoint.html), written afresh:
#   - refuse a group other than 0 (warn for uid 50000), umask 0002, and add an /etc/passwd entry for
#     an arbitrary uid;
#   - wait for the metadata database (`airflow db check`, CONNECTION_CHECK_MAX_COUNT tries,
#     CONNECTION_CHECK_SLEEP_TIME apart; 0 tries skips it);
#   - _AIRFLOW_DB_MIGRATE (or the older _AIRFLOW_DB_UPGRADE): `airflow db migrate` (a failure is
#     reported and, as in the official image, not fatal);
#   - _AIRFLOW_WWW_USER_CREATE: create the first UI user from _AIRFLOW_WWW_USER_* (the password from
#     _AIRFLOW_WWW_USER_PASSWORD or _AIRFLOW_WWW_USER_PASSWORD_CMD; an existing user is left alone);
#   - `bash ...` and `python ...` are run as they are; anything else is `airflow <args>` (a leading
#     `airflow` is accepted too); `scheduler` and `celery` wait for the Celery broker first;
#   - no arguments with _AIRFLOW_DB_MIGRATE=true: exit 0 after migrating.
# Not reproduced (this stack does not use them): _PIP_ADDITIONAL_REQUIREMENTS, the LD_PRELOAD of
# libstdc++, and the root-user PYTHONPATH for a --user installation (the environment is a virtualenv).
command="${1:-}"
set -euo pipefail

if [[ "$(id -g)" != "0" ]]; then
  if [[ "$(id -u)" == "50000" ]]; then
    echo "WARNING: run the image with group 0 (you used $(id -u):$(id -g))" >&2
  else
    echo "ERROR: run the image with group 0, whatever the uid (you used $(id -u):$(id -g))" >&2
    exit 1
  fi
fi
umask 0002
unset PIP_USER

if ! whoami >/dev/null 2>&1; then
  if [[ -w /etc/passwd ]]; then
    echo "${USER_NAME:-default}:x:$(id -u):0:${USER_NAME:-default} user:${AIRFLOW_USER_HOME_DIR}:/sbin/nologin" >>/etc/passwd
  fi
  export HOME="${AIRFLOW_USER_HOME_DIR}"
fi

max_tries="${CONNECTION_CHECK_MAX_COUNT:-20}"
sleep_s="${CONNECTION_CHECK_SLEEP_TIME:-3}"

retry() {
  local left="${max_tries}" output
  until output="$("$@" 2>&1)"; do
    left=$((left - 1))
    if ((left <= 0)); then
      printf 'ERROR: gave up after %s tries: %s\n%s\n' "${max_tries}" "$*" "${output}" >&2
      exit 1
    fi
    sleep "${sleep_s}"
  done
}

broker_reachable() {
  local url host port
  url="$(airflow config get-value celery broker_url)"
  host="$(python -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).hostname or "localhost")' "${url}")"
  port="$(python -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).port or 6379)' "${url}")"
  nc -z "${host}" "${port}"
}

if ((max_tries > 0)); then
  retry airflow db check
fi

if [[ -n "${_AIRFLOW_DB_MIGRATE:-}" || -n "${_AIRFLOW_DB_UPGRADE:-}" ]]; then
  airflow db migrate || echo "WARNING: airflow db migrate failed" >&2
fi

if [[ -n "${_AIRFLOW_WWW_USER_CREATE:-}" ]]; then
  password=""
  if [[ -n "${_AIRFLOW_WWW_USER_PASSWORD_CMD:-}" ]]; then
    password="$(eval "${_AIRFLOW_WWW_USER_PASSWORD_CMD}")"
  elif [[ -n "${_AIRFLOW_WWW_USER_PASSWORD:-}" ]]; then
    password="${_AIRFLOW_WWW_USER_PASSWORD}"
  fi
  unset _AIRFLOW_WWW_USER_PASSWORD _AIRFLOW_WWW_USER_PASSWORD_CMD
  if [[ -z "${password}" ]]; then
    echo "ERROR: set _AIRFLOW_WWW_USER_PASSWORD or _AIRFLOW_WWW_USER_PASSWORD_CMD for the first user" >&2
    exit 1
  fi
  airflow users create \
    --username "${_AIRFLOW_WWW_USER_USERNAME:-admin}" \
    --firstname "${_AIRFLOW_WWW_USER_FIRSTNAME:-Airflow}" \
    --lastname "${_AIRFLOW_WWW_USER_LASTNAME:-Admin}" \
    --email "${_AIRFLOW_WWW_USER_EMAIL:-airflowadmin@example.com}" \
    --role "${_AIRFLOW_WWW_USER_ROLE:-Admin}" \
    --password "${password}" || true
fi

case "${command}" in
  bash) shift; exec /bin/bash "$@" ;;
  python) shift; exec python "$@" ;;
esac

if [[ "${command}" == "airflow" ]]; then
  shift
  command="${1:-}"
fi

if [[ "${command}" =~ ^(scheduler|celery)$ ]] && ((max_tries > 0)) \
  && [[ "$(airflow config get-value core executor)" == "CeleryExecutor" ]]; then
  retry broker_reachable
fi

if [[ "$#" -eq 0 && "${_AIRFLOW_DB_MIGRATE:-}" == "true" ]]; then
  echo "No command and _AIRFLOW_DB_MIGRATE=true: migrated, exiting."
  exit 0
fi

exec airflow "$@"
