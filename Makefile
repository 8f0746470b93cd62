# One entry point for people and CI. Every target bootstraps what it needs:
# a private uv in .tools/, the locked virtualenv in .venv/, generated stubs in libs/oms/.
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
GEN := libs/oms
PROTOS := $(shell find protos -name '*.proto' | sort)
STAMP_VENV := $(VENV)/.synced
STAMP_GEN := $(GEN)/.generated
UV_VERSION := 0.13.9

.PHONY: help setup proto run test test-postgres lint typecheck bench clean check-proto

help:
	@echo "make run        start the whole stack on embedded defaults (SQLite + embedded Redis)"
	@echo "make test       create the virtualenv, generate stubs, run every suite"
	@echo "make proto      regenerate Python code from protos/"
	@echo "make lint       ruff"
	@echo "make typecheck  mypy on libs and services"
	@echo "make bench      benchmarks (print figures)"
	@echo "make clean      remove generated code, virtualenvs and var/"

$(UV):
	@echo "==> bootstrapping uv $(UV_VERSION) into $(TOOLS)/"
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# --compile-bytecode: every service process (and the test suites start hundreds) would
# otherwise compile its dependencies again where PYTHONDONTWRITEBYTECODE is set
# (about 1.5 s of each start here).
$(STAMP_VENV): $(UV) pyproject.toml uv.lock
	@echo "==> syncing $(VENV)/ from uv.lock"
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $@

setup: $(STAMP_VENV) $(STAMP_GEN)

$(STAMP_GEN): $(STAMP_VENV) $(PROTOS) protos/generate.py
	@echo "==> generating Python stubs from protos/"
	$(PY) protos/generate.py --out libs
	@touch $@

proto: $(STAMP_VENV)
	$(PY) protos/generate.py --out libs
	@touch $(STAMP_GEN)

run: setup
	$(PY) -m oms_cli.main dev up

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test-postgres: setup
	$(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)

BUF_VERSION := 1.75.0

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@if command -v npx >/dev/null 2>&1; then \
		echo "==> buf lint protos/"; \
		cd protos && npx --yes @bufbuild/buf@$(BUF_VERSION) lint; \
	else echo "(npx not found: skipping buf lint of protos/)"; fi

typecheck: setup
	$(VENV)/bin/mypy libs/omslib libs/oms_cli services/*/oms_*

bench: setup
	$(PY) tests/bench/bench_tcc.py
	$(PY) tests/bench/bench_statements.py
	$(PY) tests/bench/bench_burst.py
	$(PY) tests/bench/bench_gateway.py
	$(PY) tests/bench/bench_events.py

clean:
	rm -rf $(VENV) $(TOOLS) $(GEN) libs/buf var .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
