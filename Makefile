# surgehub: `make demo` runs the whole pipeline on embedded defaults; `make test` runs the tests.
# Both create .venv from the committed uv.lock first (installing uv itself when it is missing).

SHELL := /bin/bash
UV := $(shell scripts/bootstrap-uv.sh)
VENV := .venv
PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: help venv demo test test-unit lint format bench bench-stack up down clean stack-test

help: ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# Bytecode is compiled once here: with none (uv's default, and PYTHONDONTWRITEBYTECODE set) every
# command compiles Great Expectations, pandas and the rest from source on each start (~3x slower).
$(VENV)/.synced: pyproject.toml uv.lock Makefile
	$(UV) sync --frozen --python 3.11 --compile-bytecode
	$(PY) -m compileall -q src/surgehub
	@touch $@

venv: $(VENV)/.synced ## Create or update .venv from uv.lock

demo: venv ## Run the whole pipeline on a fixed timeline and show the results
	$(PY) -m surgehub.demo

test: venv ## Run the test suite (CI=true makes PostgreSQL, SMTP and browser tests mandatory)
	$(PY) -m pytest

test-unit: venv ## Only the fast unit tests
	$(PY) -m pytest tests/unit

lint: venv ## ruff check, format check and pyright (as .pre-commit-config.yaml and CI run them)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pyright

format: venv ## Apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean: ## Remove the local data folder (warehouse, Airflow home, mail, logs)
	rm -rf var

up: venv ## Start the live system: Airflow standalone + loopback SMTP (API_PORT=8080, SMTP_PORT=8025 to move them)
	$(PY) -m surgehub.orchestration.live up $(if $(API_PORT),--api-port $(API_PORT)) $(if $(SMTP_PORT),--smtp-port $(SMTP_PORT))

down: ## Stop what `make up` started
	$(PY) -m surgehub.orchestration.live down

bench: venv ## Benchmarks (about 13 minutes on an idle machine; not part of `make test`): writes bench/results.json and prints a table
	$(PY) -m bench.run

bench-stack: venv ## The national burst on the production stack, 1 then 2 Celery workers (about 25 min, ~40 GB free disk; needs ../shared/tools/docker-engine.sh): writes bench/results-stack.json
	$(PY) -m bench.stack_burst

stack-test: venv ## The production stack for real on Docker (about 27 min; needs ../shared/tools/docker-engine.sh; not in `make test`)
	$(PY) -m tests.stack.run_stack
