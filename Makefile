# Set-up is automatic: every target that needs Python creates .venv and installs the project first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo dev test bench bench-sandbox sandbox clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/ns-pipelines demo

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: bench-sandbox

bench-sandbox: $(STAMP)
	$(BIN)/ns-pipelines bench sandbox

sandbox: $(STAMP)
	$(BIN)/ns-pipelines sandbox --scale small --credentials-out .data/sandbox-credentials.json

clean:
	rm -rf $(VENV) .data .pytest_cache
