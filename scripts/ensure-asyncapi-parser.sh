#!/usr/bin/env bash
# Make sure node and the official AsyncAPI parser (tools/asyncapi, pinned by its package-lock.json)
# are installed, for the test that checks linli's AsyncAPI document (tests/unit/test_asyncapi.py).
# node and npm come from Debian's packages when missing; the parser from the npm registry by
# `npm ci`, into tools/asyncapi/node_modules (not committed). Install scripts are not run: the
# parser needs none, and one of its dependencies' would only report usage.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
cd "$(dirname "$0")/../tools/asyncapi"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "Installing nodejs and npm from Debian's packages ..."
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
# Installed already from this very lock: nothing to do.
lock=$(sha256sum package-lock.json | cut -d' ' -f1)
[ "$(cat node_modules/.linli-lock 2>/dev/null)" = "$lock" ] && exit 0
echo "Installing the AsyncAPI parser (tools/asyncapi) with npm ci ..."
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
echo "$lock" > node_modules/.linli-lock
