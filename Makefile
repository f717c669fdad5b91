# cmtui developer tasks. Every target creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check bench screenshots clean mutants

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cmtui --demo

test: $(STAMP)
	$(BIN)/python -m pytest

check: $(STAMP)
	$(BIN)/ruff check cmtui tests bench
	$(BIN)/ruff format --check cmtui tests bench
	$(BIN)/mypy

bench: $(STAMP)
	for f in bench/*.py; do $(BIN)/python $$f || exit 1; done

# Mutation testing of the critical modules (configured in pyproject.toml, [tool.mutmut]):
# results are kept in mutants/, so a second run checks only what changed. MUTANTS narrows
# the run to a glob of mutant names (re-checked even if decided), e.g. MUTANTS='cmtui.views*'.
# mutmut maps tests to functions once: after adding tests, `rm mutants/mutmut-stats.json`
# so the new ones are run too (seen with mutmut 3.8). A full run takes about an hour here.
MUTANTS ?=
mutants: $(STAMP)
	$(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/python tests/mutation_score.py

screenshots: $(STAMP)
	$(BIN)/python -m cmtui.ui.screenshots screenshots

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
