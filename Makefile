# cmtui developer tasks. Every target creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo team-demo serve test check bench screenshots catalogs clean mutants

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cmtui --demo

# Team mode, tried: a throwaway PostgreSQL (pgserver, from the test extra), the sandbox and its
# sync worker here; two teammates' screens (Léa, a senior; Tom, an agent) side by side inside
# tmux, else the commands to open them in two other terminals.
team-demo: $(STAMP)
	$(BIN)/cmtui team demo

# The inbox in a web page on http://localhost:8000 (ARGS are cmtui's: make serve ARGS=--demo).
ARGS ?=
serve: $(STAMP)
	$(BIN)/python -m cmtui.ui.serve -- $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest

check: $(STAMP)
	$(BIN)/ruff check cmtui tests bench
	$(BIN)/ruff format --check cmtui tests bench
	$(BIN)/mypy

bench: $(STAMP)
	for f in bench/*.py; do $(BIN)/python $$f || exit 1; done

# Extract the strings marked with _(), N_() and ngettext() into the template, merge it into
# each language's catalog (translate what is new in cmtui/locale/*/LC_MESSAGES/cmtui.po),
# then compile the catalogs the app reads. tests/test_i18n.py fails until all three agree.
catalogs: $(STAMP)
	$(BIN)/pybabel extract --no-location --sort-output --no-wrap --project=cmtui \
		-o cmtui/locale/cmtui.pot cmtui
	$(BIN)/pybabel update --no-wrap --ignore-obsolete --no-fuzzy-matching \
		--init-missing --ignore-pot-creation-date -l fr \
		-i cmtui/locale/cmtui.pot -d cmtui/locale -D cmtui
	$(BIN)/pybabel compile --statistics -d cmtui/locale -D cmtui

# Mutation testing of the critical modules (configured in pyproject.toml, [tool.mutmut]):
# results are kept in mutants/, so a second run checks only what changed. MUTANTS narrows
# the run to a glob of mutant names (re-checked even if decided), e.g. MUTANTS='cmtui.views*'.
# mutmut maps tests to functions once: after adding tests, `rm mutants/mutmut-stats.json`
# so the new ones are run too (seen with mutmut 3.8). A full run takes about an hour here.
# Quicker, for one module: keep only its own test files in `pytest_add_cli_args_test_selection`
# (a local edit) and pass its MUTANTS glob; fewer tests can only kill fewer mutants, so the
# score is a lower bound (text.py with tests/test_text.py alone: about 7 minutes).
MUTANTS ?=
mutants: $(STAMP)
	$(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/python tests/mutation_score.py

screenshots: $(STAMP)
	$(BIN)/python -m cmtui.ui.screenshots screenshots

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
