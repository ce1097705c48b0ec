#!/usr/bin/env bash
# Print the path of a uv binary, installing uv into .tools/ first when none is on PATH.
set -euo pipefail
if command -v uv >/dev/null 2>&1; then
  command -v uv
  exit 0
fi
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -x "$here/.tools/bin/uv" ]; then
  echo "uv not found on PATH: installing it into .tools/ from the package registry" >&2
  python3 -m venv "$here/.tools" >&2
  "$here/.tools/bin/python" -m pip install --quiet --disable-pip-version-check uv >&2
fi
echo "$here/.tools/bin/uv"
