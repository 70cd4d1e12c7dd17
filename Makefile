# respijt — the two set-up commands are `make run` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint install install-test bench bench-reports

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Run the service with demo data on the embedded SQLite default (instance/respijt.db).
# Local http: session cookies without the Secure flag, or nobody could sign in (see README).
run: install
	$(BIN)/respijt db upgrade
	$(BIN)/respijt demo
	RESPIJT_COOKIE_SECURE=$${RESPIJT_COOKIE_SECURE:-off} $(BIN)/respijt serve --host $(HOST) --port $(PORT)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## Install the test dependencies and run every check and test (SQLite and PostgreSQL).
test: install-test
	bash scripts/ensure-test-services
	bash scripts/ensure-spectral
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest $(PYTEST_ARGS)

## Benchmarks (README, "Performance"); BENCH_ARGS shrinks them, e.g. BENCH_ARGS="--no-10x --requests 500".
bench: install-test
	bash scripts/ensure-test-services
	$(BIN)/python -m bench.run_all $(BENCH_ARGS)

## The reports on years of history (bench/reports.py): 1 and 10 years on SQLite and PostgreSQL.
bench-reports: install-test
	bash scripts/ensure-test-services
	$(BIN)/python -m bench.reports $(BENCH_ARGS)
