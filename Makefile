# Clearloop: `make run` starts the whole portal locally, `make test` runs every test level.
# Both install what they need (the virtual environment, Debian's Chromium) and are quick when
# nothing changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM := /usr/lib/chromium/chromium
PYTEST := $(BIN)/pytest -p no:cacheprovider

# make run STORE=dynamodb  (the DynamoDB adapter against moto's server)
STORE ?= sqlite
API_PORT ?= 8000
SITE_PORT ?= 8001
RUN_ARGS ?=

.PHONY: run demo bench-publish test setup chromium lint typecheck unit contract functional fuzz infra integration e2e bench clean

run: $(STAMP)
	$(BIN)/clearloop run --store $(STORE) --api-port $(API_PORT) --site-port $(SITE_PORT) $(RUN_ARGS)

test: $(STAMP) chromium lint typecheck unit contract functional fuzz infra integration e2e
	@echo "All test levels passed: lint, typecheck, unit, contract, functional, fuzz, infra, integration, e2e."

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Clearloop needs Python 3.11 or newer as $(PYTHON)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

chromium:
	@test -x $(CHROMIUM) || { \
		echo "Installing Debian's Chromium for the browser tests..."; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@test -x $(CHROMIUM) || { echo "Chromium is missing at $(CHROMIUM)"; exit 1; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(PYTEST) tests/unit -q -n 2

contract: $(STAMP)
	$(PYTEST) tests/contract -q -n 2

functional: $(STAMP)
	$(PYTEST) tests/functional -q -n 2

# Schemathesis against api/openapi.json: every operation, a bounded number of derandomized
# examples (FUZZ_EXAMPLES), in-process on SQLite and on DynamoDB (moto); see tests/fuzz.
FUZZ_EXAMPLES ?= 30
fuzz: $(STAMP)
	CLEARLOOP_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTEST) tests/fuzz -q -n 2

# Packages the app, runs cfn-lint on the template and checks it (serially: one shared build).
infra: $(STAMP)
	$(PYTEST) tests/infra -q

integration: $(STAMP)
	$(PYTEST) tests/integration -q

e2e: $(STAMP) chromium
	$(PYTEST) tests/e2e -q

# Performance figures against their floors (issue #10): prints one table and rewrites the
# generated part of site/docs/performance.md. Not part of `make test` (a few minutes, and its
# figures are for reading, not for gating every change).
# Loads demo tickets into the local store (make demo run: then start the portal).
DEMO_ARGS ?=
demo: $(STAMP)
	$(BIN)/clearloop demo $(DEMO_ARGS)

bench-publish: $(STAMP)
	$(BIN)/python scripts/bench_publish.py

bench: $(STAMP) chromium
	$(BIN)/python scripts/bench.py

clean:
	rm -rf build .mypy_cache .ruff_cache .hypothesis
