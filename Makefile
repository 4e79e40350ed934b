# Set-up is part of every target: a fresh clone needs only `make test` or `make prove`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: test prove check bench lint typecheck clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

prove: $(STAMP)
	$(BIN)/proofs prove

check: $(STAMP)
	$(BIN)/proofs check

bench: $(STAMP)
	$(BIN)/python bench/run.py

typecheck: $(STAMP)
	$(BIN)/mypy src/proofs

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
