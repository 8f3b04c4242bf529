# make demo  - set up and run the demo on the embedded default data
# make test  - set up and run the whole test suite (LibreOffice and database tests included)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint system-deps services template picture bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/reliquat demo --dir demo-output

# LibreOffice (with its Python bridge) checks the workbooks, hledger checks the postings.
system-deps:
	@bash scripts/system-deps.sh

# PostgreSQL and MariaDB for the database tests: started if installed and down.
services:
	@bash scripts/services.sh

test: $(STAMP) system-deps services
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not libreoffice and not database and not slow"

lint: $(STAMP)
	$(BIN)/ruff check addin udfs tests benchmarks
	$(BIN)/mypy addin udfs

template: $(STAMP)
	$(BIN)/reliquat template

picture: $(STAMP) system-deps
	$(BIN)/python scripts/picture.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --json benchmarks/last.json

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
