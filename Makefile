# `make run` serves the API on the embedded database; `make test` runs the whole suite.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint

# Serving needs the project alone; the test tools come with `make test`.
$(BIN)/expensicat: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-tools: $(BIN)/expensicat
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/expensicat
	$(BIN)/expensicat serve

test: $(VENV)/.test-tools
	$(BIN)/pytest -n 2

lint: $(VENV)/.test-tools
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy expensicat tests bench
