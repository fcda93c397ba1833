#!/usr/bin/env bash
# Regenerate deploy/requirements.lock from pyproject.toml's runtime dependencies (no test
# extras): a fresh virtualenv, the project installed into it, and its packages frozen.
# Run with the Python of the image (3.11), from the checkout's top: deploy/refresh-lock.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT
"$python" -m venv "$venv"
"$venv/bin/pip" install -q .
{
  sed -n '/^#/p' deploy/requirements.lock
  "$venv/bin/pip" freeze --exclude linli
} > deploy/requirements.lock.new
mv deploy/requirements.lock.new deploy/requirements.lock
echo "deploy/requirements.lock: $(grep -vc '^#' deploy/requirements.lock) packages"
