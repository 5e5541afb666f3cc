# The two commands: `make demo` (trace a generated clip) and `make test` (the whole suite);
# `make test-fast` is the quick loop while developing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= out/demo

.PHONY: demo test test-fast lint bench bench-gate clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/axis sample $(DEMO_DIR)/sample.mp4 --width 1280 --height 720 --frames 48
	$(BIN)/axis trace $(DEMO_DIR)/sample.mp4 -o $(DEMO_DIR)/trace
	@echo "Output: $(abspath $(DEMO_DIR)/trace)/lines.json"

# `make lint`, then the whole suite.
# pytest's exit 5 (no tests collected) is a failure too; make would report it as a bare 2.
test: lint
	@$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests; that is a failure" >&2; fi; \
	exit $$rc

# The engine and the HTTP API contracts in this process (FastAPI TestClient): no servers or
# `axis` subprocesses, no PostgreSQL/Redis, nothing slow. Under a minute; `make test` runs all.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not e2e and not slow"

# ruff (lint rules and formatting), the layers of the code (pyproject.toml [tool.importlinter]:
# what may import what) and the types (mypy --strict, [tool.mypy]). .pre-commit-config.yaml runs
# the same before each commit.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The standard-clip benchmark (and the vectorizer comparison): out/bench/bench.json.
BENCH_DIR ?= out/bench
bench: $(STAMP)
	$(BIN)/axis bench -o $(BENCH_DIR) --compare

# The CI perf gate: a short serial benchmark against benchmarks/baseline.json.
bench-gate: $(STAMP)
	$(BIN)/axis bench --gate -o $(BENCH_DIR)/gate

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache

# Regenerate docs/images; TRACE=FILE first replaces the committed call log (e.g. the e2e test's).
.PHONY: diagrams
diagrams: $(STAMP)
	@if [ -n "$(TRACE)" ]; then cp "$(TRACE)" docs/traces/prompt-to-animation.jsonl; fi
	$(BIN)/axis diagrams
