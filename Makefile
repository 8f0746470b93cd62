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
STAMP_RUN := $(VENV)/.synced-run
STAMP_GEN := $(GEN)/.generated
UV_VERSION := 0.13.9

.PHONY: help setup proto run test test-postgres lint proto-breaking typecheck bench clean check-proto eval train

help:
	@echo "make run        start the whole stack on embedded defaults (SQLite + embedded Redis)"
	@echo "make test       create the virtualenv, generate stubs, run every suite"
	@echo "make proto      regenerate Python code from protos/"
	@echo "make lint       ruff"
	@echo "make typecheck  mypy on libs and services"
	@echo "make bench      benchmarks (print figures)"
	@echo "make eval       the return-intent/mood classifier's scores on its held-out split"
	@echo "make train      retrain the classifier from its data set (deterministic)"
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

# What `make run` needs: the runtime dependencies and the code generator, not the test
# and lint tools. --inexact keeps those if `make test` installed them already, so
# `make test` after `make run` and `make run` after `make test` both just work.
$(STAMP_RUN): $(UV) pyproject.toml uv.lock
	@echo "==> syncing $(VENV)/ from uv.lock (runtime only)"
	$(UV) sync --frozen --inexact --no-dev --group codegen --compile-bytecode --python $(PYTHON)
	@touch $@

setup: $(STAMP_VENV) $(STAMP_GEN)

$(STAMP_GEN): $(STAMP_RUN) $(PROTOS) protos/generate.py
	@echo "==> generating Python stubs from protos/"
	$(PY) protos/generate.py --out libs
	@touch $@

proto: $(STAMP_RUN)
	$(PY) protos/generate.py --out libs
	@touch $(STAMP_GEN)

run: $(STAMP_RUN) $(STAMP_GEN)
	$(PY) -m oms_cli.main dev up

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test-postgres: setup
	$(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)

BUF_VERSION := 1.75.0

# buf reads our protos as an image built by protos/generate.py: buf/validate comes from
# the protovalidate wheel, not from a registry this machine cannot reach. The breaking
# check compares with PROTO_BASE (default: the main branch); on main itself it is a no-op.
PROTO_BASE ?= main
BUF := npx --yes @bufbuild/buf@$(BUF_VERSION)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@if command -v npx >/dev/null 2>&1; then \
		echo "==> buf lint protos/"; \
		$(PY) protos/generate.py --image $(TOOLS)/protos.binpb && \
		(cd protos && $(BUF) lint ../$(TOOLS)/protos.binpb --exclude-path buf --exclude-path google) && \
		$(MAKE) --no-print-directory proto-breaking; \
	else echo "(npx not found: skipping buf lint of protos/)"; fi

proto-breaking:
	@if git rev-parse --verify --quiet $(PROTO_BASE) >/dev/null; then \
		echo "==> buf breaking protos/ against $(PROTO_BASE)"; \
		rm -rf $(TOOLS)/protos-base && mkdir -p $(TOOLS)/protos-base && \
		git archive $(PROTO_BASE) protos | tar -x -C $(TOOLS)/protos-base && \
		$(PY) protos/generate.py --root $(TOOLS)/protos-base/protos --image $(TOOLS)/protos-base.binpb && \
		(cd protos && $(BUF) breaking ../$(TOOLS)/protos.binpb --against ../$(TOOLS)/protos-base.binpb \
			--exclude-path buf --exclude-path google); \
	else echo "(no $(PROTO_BASE) branch here: skipping the breaking check)"; fi

typecheck: setup
	$(VENV)/bin/mypy libs/omslib libs/oms_cli libs/oms_intent services/*/oms_*

bench: setup
	$(PY) tests/bench/bench_tcc.py
	$(PY) tests/bench/bench_statements.py
	$(PY) tests/bench/bench_burst.py
	$(PY) tests/bench/bench_gateway.py
	$(PY) tests/bench/bench_events.py

eval: setup
	$(PY) -m oms_intent.evaluate

train: setup
	$(PY) -m oms_intent.compose
	$(PY) -m oms_intent.train

clean:
	rm -rf $(VENV) $(TOOLS) $(GEN) libs/buf var .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
