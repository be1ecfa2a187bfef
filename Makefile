# `make run` starts the whole app; `make test` runs every test. Both make .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The translation catalogs (app/translations): compiled here at install, never committed.
PO     := $(wildcard app/translations/*/LC_MESSAGES/messages.po)
MO     := $(PO:.po=.mo)

.PHONY: run test lint bench screenshots messages clean

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@

run: $(STAMP) $(MO)
	$(BIN)/python run.py

lint: $(STAMP) $(MO)
	$(BIN)/ruff check .

test: lint
	$(BIN)/python scripts/run_tests.py

bench: $(STAMP) $(MO)
	$(BIN)/python bench/run_all.py

screenshots: $(STAMP) $(MO)
	$(BIN)/python scripts/screenshots.py

# After marking new words: extract them, merge them into every catalog and compile (Korean
# is filled in; translate the new English entries, or pass a translator's .po with
# `python scripts/messages.py --from FILE`).
messages: $(STAMP)
	$(BIN)/python scripts/messages.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
