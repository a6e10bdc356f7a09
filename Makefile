# The front door. Every target is idempotent and works on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := shared services/submission services/scoring services/notification services/portal cli
INSTALLED := $(VENV)/.installed

.PHONY: setup infra infra-stop test lint demo asyncapi clean images compose-up compose-down docker-engine docker-install

setup: $(INSTALLED) var/bin/ferretdb

$(INSTALLED): requirements-dev.txt $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(foreach p,$(PACKAGES),-e $(p)) -r requirements-dev.txt
	touch $@

var/bin/ferretdb: deploy/ferretdb/main.go deploy/ferretdb/go.mod deploy/ferretdb/go.sum $(wildcard deploy/ferretdb/patches/*.patch)
	@if [ -z "$${MONGODB_URL:-}" ]; then scripts/build-ferretdb.sh; fi

infra: setup
	scripts/infra.sh start

infra-stop:
	scripts/infra.sh stop

# tests/containers need a Docker engine: installed here when missing (as root), started by the test session
# when it is not running (and stopped after); without one they skip and say why (under CI=true they fail).
test: infra docker-install
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ruff check deploy/docker/local
	$(BIN)/ruff format --check deploy/docker/local
	$(BIN)/mypy shared/src services/*/src cli/src tests scripts/ferretdb_atomicity_probe.py scripts/bench.py \
		scripts/bench_portal.py scripts/bench_cost.py scripts/bench_floor.py scripts/chaos.py deploy/docker/local/mailsink.py deploy/docker/local/ferretdb_ping.py

demo: infra
	$(BIN)/inovda demo

asyncapi: setup
	for service in submission scoring notification portal; do \
		$(BIN)/faststream docs gen --factory inovda_$$service.app:asyncapi_app --yaml -o deploy/asyncapi/$$service.yaml; \
	done

clean:
	rm -rf $(VENV) var

.PHONY: bench
bench: infra
	$(BIN)/python scripts/bench.py

# The fault-injection suite (full form; its own broker, database and SMTP server). `--short` for the CI form.
.PHONY: chaos
chaos: setup
	$(BIN)/python scripts/chaos.py

# Containers (README "Containers and scaling"). A Docker engine: Debian's docker.io, the compose v2 plugin, dockerd.
docker-engine: docker-install
	scripts/docker-engine.sh start

docker-install:
	@if [ "$$(id -u)" = 0 ]; then scripts/docker-engine.sh install; \
	else echo "not root: not installing docker.io (tests/containers skip without an engine)"; fi

# Every image: the services', the CLI's, RabbitMQ, FerretDB and an SMTP sink; a local base where no registry answers.
images: setup var/bin/ferretdb
	scripts/images.sh

# The whole system from those images (docker-compose.yml + docker-compose.local.yml), every port on 127.0.0.1.
compose-up:
	scripts/compose.sh up

compose-down:
	scripts/compose.sh down
