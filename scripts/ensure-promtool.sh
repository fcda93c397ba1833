#!/usr/bin/env bash
# Make sure promtool (from Debian's `prometheus` package) is at .tools/bin/promtool, for the tests
# of deploy/monitoring/prometheus (`promtool check config`, `check rules`, `test rules`). The
# package is downloaded and unpacked into the project, never installed: no Prometheus server is
# started on this machine, and nothing outside .tools/ changes.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
[ -x "$tools/bin/promtool" ] && exit 0
echo "Unpacking promtool from Debian's prometheus package into $tools ..."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && apt-get download prometheus >/dev/null 2>&1); then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq; else sudo apt-get update -qq; fi
  (cd "$work" && apt-get download prometheus >/dev/null)
fi
dpkg-deb -x "$work"/prometheus_*.deb "$work/unpacked"
mkdir -p "$tools/bin"
install -m 0755 "$work/unpacked/usr/bin/promtool" "$tools/bin/promtool"
"$tools/bin/promtool" --version | head -1
