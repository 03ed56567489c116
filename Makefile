# Two commands for a new user: `make demo` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test pytest typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.core: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.core

demo: $(VENV)/.core
	$(BIN)/python -m servicekpi demo

test: pytest typecheck

pytest: $(VENV)/.dev
	$(BIN)/python -m pytest

typecheck: $(VENV)/.dev
	$(BIN)/python -m mypy --strict src tests

bench: $(VENV)/.dev
	$(BIN)/python benchmarks/bench_calendar.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .hypothesis
