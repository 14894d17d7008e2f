# Two entry points: `make demo` runs the product on a demo, `make test` runs every test.
# Both create the virtual environment in .venv on first use (Python 3.11+ required).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install

$(BIN)/annops: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("annops needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/annops

demo: $(BIN)/annops
	$(BIN)/annops demo

test: $(BIN)/annops
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n auto
