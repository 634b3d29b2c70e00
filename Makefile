# The two commands of the README:
#   make book   build the HTML book (full mode) into _build/html
#   make test   run every test: unit tests, doctests, notebooks (quick mode), book build, browser check
# Both create .venv and install the pinned dependencies first, once.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
JB     := $(VENV)/bin/jupyter-book
STAMP  := $(VENV)/.installed
QUICK_BOOK := _build/quick/_build/html

.PHONY: book test install browser clean lint

book: $(STAMP)
	$(JB) build . -W -n --keep-going
	@echo "The book is at $(CURDIR)/_build/html/index.html"

test: $(STAMP) browser lint
	LRCOURSE_QUICK=1 $(JB) build . --path-output _build/quick -W -n --keep-going
	LRCOURSE_QUICK=1 LRCOURSE_BOOK_HTML=$(QUICK_BOOK) MPLBACKEND=Agg $(PY) -m pytest

install: $(STAMP)

# Static checks: ruff (lint and format) over the code, mypy over the package's type hints.
lint: $(STAMP)
	$(VENV)/bin/ruff check lrcourse tests benchmarks
	$(VENV)/bin/ruff format --check lrcourse tests benchmarks
	$(VENV)/bin/mypy

# Re-installs only when the dependencies change.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -c constraints.txt -e '.[book,test]'
	touch $(STAMP)

# The browser check of the rendered pages needs Debian's chromium.
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
	  else echo "make test needs chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

clean:
	rm -rf _build
