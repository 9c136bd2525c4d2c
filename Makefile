# `make run` serves the API on the embedded database; `make test` runs the whole suite.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint

$(BIN)/expensicat: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/expensicat
	$(BIN)/expensicat serve

test: $(BIN)/expensicat
	$(BIN)/pytest

lint: $(BIN)/expensicat
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy expensicat tests bench
