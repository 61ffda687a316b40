# Set-up is automatic: every target that needs Python creates .venv and installs the project first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo dev test bench bench-sandbox bench-sync bench-webhooks bench-latency bench-reconciliation bench-writeback sandbox clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# `make demo` and `make dev` share one Dagster instance (absolute path; dagster.yaml is copied in),
# so the UI of `make dev` shows the demo's runs.
DAGSTER_HOME := $(CURDIR)/.dagster_home

demo: $(STAMP)
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/ns-pipelines demo

dev: $(STAMP)
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/ns-pipelines dev

# The SuiteScript's tests (Node's built-in runner, no dependencies), then the Python suite.
test: $(STAMP)
	@command -v node >/dev/null || { echo "make test: Node.js 18+ is needed for the SuiteScript tests (apt-get install nodejs)"; exit 1; }
	node --test suitescript/test/
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: bench-sandbox bench-sync bench-webhooks bench-latency bench-reconciliation bench-writeback

bench-sandbox: $(STAMP)
	$(BIN)/ns-pipelines bench sandbox

bench-sync: $(STAMP)
	$(BIN)/ns-pipelines bench sync

# PostgreSQL figures need NS_TEST_POSTGRES_URL (else they are skipped, saying so).
bench-webhooks: $(STAMP)
	$(BIN)/ns-pipelines bench webhooks

bench-latency: $(STAMP)
	$(BIN)/ns-pipelines bench latency --changes 50

bench-reconciliation: $(STAMP)
	$(BIN)/python -m ns_pipelines.reconciliation.bench

bench-writeback: $(STAMP)
	$(BIN)/python -m ns_pipelines.writeback.bench

sandbox: $(STAMP)
	$(BIN)/ns-pipelines sandbox --scale small --credentials-out .data/sandbox-credentials.json

clean:
	rm -rf $(VENV) .data .pytest_cache
