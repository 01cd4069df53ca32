# Quick start: `make demo` writes example .msg files, `make test` runs the test suite.
# Each creates (once) its own virtual environment in .venv with the project installed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test,dev]'
	touch $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" sh examples/demo.sh examples/out

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Thousands of damaged .msg files through dump, check and edit+close (needs ../shared/corpus);
# FUZZ_ARGS="--minutes 20" runs for a time instead, --keep DIR saves failing mutants.
FUZZ_ARGS ?= --mutants 3000
fuzz: $(STAMP)
	$(BIN)/python tests/fuzz/fuzzer.py $(FUZZ_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_codec.py
	$(BIN)/python benchmarks/bench_session.py

clean:
	rm -rf $(VENV) examples/out build dist *.egg-info
