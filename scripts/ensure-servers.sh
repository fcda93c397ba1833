#!/usr/bin/env bash
# Make sure PostgreSQL and RabbitMQ answer at DATABASE_URL and RABBITMQ_URL. When one does not
# and it is meant to run on this machine, install it from Debian's packages and start it.
set -euo pipefail

DATABASE_URL=${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/linli}
RABBITMQ_URL=${RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672/}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
host_port() { python3 -c "import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(p.hostname or '127.0.0.1', p.port or sys.argv[2])" "$1" "$2"; }
answers() { timeout 2 bash -c "echo > /dev/tcp/$1/$2" 2>/dev/null; }
wait_for() {  # name host port seconds
  for _ in $(seq "$4"); do answers "$2" "$3" && return 0; sleep 1; done
  echo "$1 does not answer at $2:$3 after $4 s" >&2; return 1
}
local_host() { case "$1" in 127.*|localhost|::1) return 0;; *) return 1;; esac; }
apt_install() {
  if [ -z "${APT_UPDATED:-}" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  read -r host port < <(host_port "$DATABASE_URL" 5432)
  answers "$host" "$port" && return 0
  local_host "$host" || { echo "PostgreSQL does not answer at $host:$port (DATABASE_URL)" >&2; exit 1; }
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "Installing PostgreSQL from Debian's packages ..."
    apt_install postgresql
    # A fresh cluster asks for a password on TCP; linli's local default connects as postgres without one.
    version=$(ls /etc/postgresql | head -n 1)
    as_root sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' \
      "/etc/postgresql/$version/main/pg_hba.conf"
  fi
  echo "Starting PostgreSQL ..."
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  wait_for PostgreSQL "$host" "$port" 30
}

ensure_rabbitmq() {
  read -r host port < <(host_port "$RABBITMQ_URL" 5672)
  answers "$host" "$port" && return 0
  local_host "$host" || { echo "RabbitMQ does not answer at $host:$port (RABBITMQ_URL)" >&2; exit 1; }
  if ! command -v rabbitmq-server >/dev/null; then
    echo "Installing RabbitMQ from Debian's packages ..."
    apt_install rabbitmq-server
  fi
  echo "Starting RabbitMQ ..."
  # With the shell's usual 1024 open files RabbitMQ's file handle cache allows 927, and a few
  # hundred quorum queues (every test run declares ~60) use them all up: the broker then accepts
  # TCP connections but never answers the AMQP handshake, and never finishes booting.
  # Debian's rabbitmq-server switches to the rabbitmq user with su, whose pam_limits puts the soft
  # limit back to 1024: so raise it as that user, in the shell that starts the node.
  if id rabbitmq >/dev/null 2>&1; then
    as_root su rabbitmq -s /bin/sh -c "ulimit -n 65536 2>/dev/null || ulimit -n \$(ulimit -Hn); cd /var/lib/rabbitmq; exec $(command -v rabbitmq-server) -detached" || true
  else
    as_root bash -c 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec rabbitmq-server -detached' || true
  fi
  wait_for RabbitMQ "$host" "$port" 90
}

# The largest message the broker takes (RabbitMQ's default is 128 MiB): 1 MiB, far above any
# event or submission of linli (intake refuses a submission over 64 KiB with the reason). For
# the broker of this machine it is set at run time; elsewhere put `max_message_size = 1048576`
# in rabbitmq.conf.
MAX_MESSAGE_BYTES=${RABBITMQ_MAX_MESSAGE_BYTES:-1048576}
limit_rabbitmq_messages() {
  read -r host _ < <(host_port "$RABBITMQ_URL" 5672)
  local_host "$host" && command -v rabbitmqctl >/dev/null || return 0
  as_root rabbitmqctl eval "application:set_env(rabbit, max_message_size, $MAX_MESSAGE_BYTES)." >/dev/null
}

# The management API (queues' depths, consumers and rates for `linli status` and `linli dlq`, on
# 15672) and the Prometheus plugin (per-queue series at /metrics/detailed, on 15692, which the
# alert rules read). Enabling is idempotent and takes effect on the running node.
enable_rabbitmq_plugins() {
  read -r host _ < <(host_port "$RABBITMQ_URL" 5672)
  local_host "$host" && command -v rabbitmq-plugins >/dev/null || return 0
  as_root rabbitmq-plugins enable rabbitmq_management rabbitmq_prometheus >/dev/null
  wait_for "RabbitMQ's management API" "$host" 15672 60
  wait_for "RabbitMQ's Prometheus endpoint" "$host" 15692 60
}

# The database DATABASE_URL names (linli's default `linli`), made when a local server lacks it:
# a fresh server has only `postgres`, and the services and the tests connect to this one.
ensure_database() {
  read -r host port < <(host_port "$DATABASE_URL" 5432)
  local_host "$host" && command -v psql >/dev/null || return 0
  name=$(python3 -c "import sys, urllib.parse as u; print(u.unquote(u.urlsplit(sys.argv[1]).path.lstrip('/')) or 'postgres')" "$DATABASE_URL")
  admin=$(python3 -c "import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path='/postgres', query='')))" "$DATABASE_URL")
  if [ -z "$(psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '${name//\'/\'\'}'")" ]; then
    echo "Creating the database $name ..."
    psql "$admin" -qc "CREATE DATABASE \"${name//\"/\"\"}\""
  fi
}

ensure_postgres
ensure_database
ensure_rabbitmq
limit_rabbitmq_messages
enable_rabbitmq_plugins
