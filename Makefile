# The memlab book: `make book` builds it, `make test` runs every test.
# Both create .venv on first use (Python 3.9+; tested with 3.11) and reinstall
# only when requirements.txt or pyproject.toml change.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.memlab-setup-stamp
PYTEST_ARGS ?=
# pytest-xdist workers of `make test` (the built-site tests share one: tests/conftest.py)
JOBS ?= 2

# Training progress as one plain text line, never a widget, in built pages and tests.
export MEMLAB_PROGRESS := text
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: book test test-fast lint setup badges check-badges pdf linkcheck colab-check lint-workflows clean

# Every chapter is executed afresh (execute_notebooks: force in _config.yml).
# `make book EXECUTE=cache` reuses the outputs stored in _build/.jupyter_cache
# for the notebooks that did not change (the publishing workflow does this).
EXECUTE ?= force
ifeq ($(EXECUTE),force)
BOOK_CONFIG :=
else
BOOK_CONFIG := --config _build/_config.$(EXECUTE).yml
endif

book: $(STAMP)
ifneq ($(EXECUTE),force)
	mkdir -p _build
	$(BIN)/python -c "import sys, yaml; c = yaml.safe_load(open('_config.yml')); c['execute']['execute_notebooks'] = sys.argv[1]; yaml.safe_dump(c, open(sys.argv[2], 'w'), sort_keys=False)" $(EXECUTE) _build/_config.$(EXECUTE).yml
endif
	$(BIN)/jupyter-book build . -W -n --keep-going --all $(BOOK_CONFIG)
	@echo "The book is at $(abspath _build/html/index.html)"

# The whole book as one PDF, _build/pdf/memlab.pdf, printed from the built site
# by headless Chromium (no TeX) and also copied to _build/html/memlab.pdf, where
# the site links to it. Builds the site first if there is none: after a change,
# run `make book pdf`.
pdf: $(STAMP)
	test -f _build/html/index.html || $(MAKE) book
	$(BIN)/python scripts/build_pdf.py

# The book's external links, checked (jupyter-book's linkcheck builder).
linkcheck: $(STAMP)
	$(BIN)/jupyter-book build . --builder linkcheck $(BOOK_CONFIG)

# Run every chapter with the Python of the machine, not .venv: inside Colab's
# runtime container this checks the chapters against Colab's own packages.
colab-check:
	$(PYTHON) -m pip install -e .
	$(PYTHON) scripts/colab_check.py

# ruff over the Python files, then mypy over memlab/, scripts/ and benchmarks/; their
# settings are in pyproject.toml (also run by the tests: tests/test_lint.py).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# actionlint over .github/workflows (also run by the tests).
lint-workflows: $(STAMP)
	$(BIN)/actionlint

test: $(STAMP)
	$(BIN)/python -m pytest -ra --durations=25 -n $(JOBS) $(PYTEST_ARGS)

# Only the quick tests (no book build, notebook runs or browser).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -ra -m "not slow" -n $(JOBS) $(PYTEST_ARGS)

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
