# The memlab book: `make book` builds it, `make test` runs every test.
# Both create .venv on first use (Python 3.9+; tested with 3.11) and reinstall
# only when requirements.txt or pyproject.toml change.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.memlab-setup-stamp
PYTEST_ARGS ?=

# Training progress as one plain text line, never a widget, in built pages and tests.
export MEMLAB_PROGRESS := text
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: book test test-fast setup badges check-badges clean

book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going --all
	@echo "The book is at $(abspath _build/html/index.html)"

test: $(STAMP)
	$(BIN)/python -m pytest -ra $(PYTEST_ARGS)

# Only the quick tests (no book build, notebook runs or browser).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -ra -m "not slow" $(PYTEST_ARGS)

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install -e .
	touch $@

# Write (badges) or verify (check-badges) each chapter's Colab badge and install cell.
badges: $(STAMP)
	$(BIN)/python scripts/sync_badges.py

check-badges: $(STAMP)
	$(BIN)/python scripts/sync_badges.py --check

clean:
	rm -rf _build
