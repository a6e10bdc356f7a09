# The front door. Every target is idempotent and works on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := shared services/submission services/scoring services/notification cli
INSTALLED := $(VENV)/.installed

.PHONY: setup infra infra-stop test lint demo asyncapi clean

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

test: infra
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared/src services/*/src cli/src tests scripts/ferretdb_atomicity_probe.py scripts/bench.py scripts/chaos.py

demo: infra
	$(BIN)/inovda demo

asyncapi: setup
	for service in submission scoring notification; do \
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
