# `make run` runs the whole system; `make test` runs the whole suite. Each installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/linli
export RABBITMQ_URL ?= amqp://guest:guest@127.0.0.1:5672/
# The systems allowed to publish on this machine, with their development API keys.
export INTAKE_SOURCES_FILE ?= $(CURDIR)/deploy/sources.dev.json
# People's tokens: the development issuer's public key (python -m shared.tokens issue signs with
# deploy/dev-token-key.pem). A city names its single sign-on's keys instead (LINLI_TOKEN_JWKS_URL).
export LINLI_TOKEN_JWKS_FILE ?= $(CURDIR)/deploy/dev-token-jwks.json
# The streets and communities matching widens its search to.
export MATCHING_AREAS_FILE ?= $(CURDIR)/deploy/areas.dev.json
# How notify reaches each community's staff.
export NOTIFY_STAFF_FILE ?= $(CURDIR)/deploy/staff.dev.json
# Each service works in PostgreSQL as its own role, linli_<service> (development passwords:
# a city sets its own, as secrets).
export INTAKE_DATABASE_PASSWORD ?= dev-db-intake
export MATCHING_DATABASE_PASSWORD ?= dev-db-matching
export NOTIFY_DATABASE_PASSWORD ?= dev-db-notify
export REPORTING_DATABASE_PASSWORD ?= dev-db-reporting
# reporting counts distinct people by an HMAC under this key (a city keeps its own, as a secret).
export REPORTING_PERSON_KEY ?= dev-person-key
# Every service and every outside system connects to RabbitMQ as its own user (linli-<service>,
# each source by its id, linli-observer, linli-ops): their development passwords; `make
# broker-users` creates them with their permissions (a city sets <SERVICE>_RABBITMQ_PASSWORD as secrets).
export BROKER_USERS_FILE ?= $(CURDIR)/deploy/broker-users.dev.json
# Development: the default webhook secret `change-me` is accepted (a service refuses it otherwise).
export LINLI_DEVELOPMENT ?= true

.PHONY: run test faults bench install servers broker-users browser asyncapi-parser promtool migrate clean

# Processes of each service under `make run` (REPLICAS=2: competing consumers of the same queues;
# replica k listens on the service's port + 10·(k−1), e.g. matching-2 on 8012).
REPLICAS ?= 1

run: install servers broker-users migrate
	@echo "linli is starting (supervised: a service that dies is restarted; Ctrl-C stops every service):"
	@echo "  intake     http://127.0.0.1:$${INTAKE_PORT:-8001}   (POST /api/v1/requests, GET /api/v1/requests/{id})"
	@echo "  matching   http://127.0.0.1:$${MATCHING_PORT:-8002}   (GET /api/v1/volunteers, /api/v1/assignments/{id})"
	@echo "  notify     http://127.0.0.1:$${NOTIFY_PORT:-8003}   (GET /api/v1/inbox/{recipient}, /api/v1/notifications)"
	@echo "  reporting  http://127.0.0.1:$${REPORTING_PORT:-8004}   (the dashboard at /dashboard, GET /api/v1/reports/summary)"
	@echo "  each: /healthz /readyz /metrics   broker: $$RABBITMQ_URL   database: $$DATABASE_URL"
	@if [ "$(REPLICAS)" != 1 ]; then echo "  $(REPLICAS) processes of each: replica k on its port + 10·(k−1) (matching-2: $$(( $${MATCHING_PORT:-8002} + 10 )))"; fi
	$(BIN)/python -m services run --replicas $(REPLICAS)

# The whole suite, then the fault suite at its small size (a few hundred requests, each fault once).
test: install servers browser asyncapi-parser promtool
	$(BIN)/python -m pytest
	$(BIN)/python -m faults --size small --replicas 2

# The fault suite at full size (README, Faults): its own PostgreSQL and RabbitMQ, the four services
# supervised, 1,000 requests, every fault; one JSON document, non-zero on any loss or duplicate.
faults: install servers
	$(BIN)/python -m faults --size full

install: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c "import ensurepip" 2>/dev/null || { \
	  echo "Installing python3-venv from Debian's packages ..."; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq python3-venv; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq python3-venv; fi; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

servers:
	scripts/ensure-servers.sh

# promtool from Debian's prometheus package, unpacked into .tools/ (the monitoring tests use it).
promtool:
	scripts/ensure-promtool.sh

# Debian's chromium and CJK fonts, for the dashboard's browser test.
browser:
	scripts/ensure-browser.sh

# node and the official AsyncAPI parser (tools/asyncapi), for the test that checks docs/asyncapi.json.
asyncapi-parser:
	scripts/ensure-asyncapi-parser.sh

bench: install servers broker-users
	$(BIN)/python -m bench

# The broker's users and permissions, for RABBITMQ_URL's vhost (idempotent).
broker-users: install servers
	$(BIN)/python -m services broker-users

migrate: install
	$(BIN)/python -m services migrate

clean:
	rm -rf $(VENV) *.egg-info
