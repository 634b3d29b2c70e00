# The two commands of the README:
#   make book   build the HTML book (full mode) into _build/html
#   make test   run every test: unit tests, doctests, notebooks (quick mode, then again on other
#               seeds and one thread), book build, browser check
# Both create .venv and install the pinned dependencies first, once.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
JB     := $(VENV)/bin/jupyter-book
STAMP  := $(VENV)/.installed
NOTEBOOKS  := $(shell find book -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*')
BOOK_CACHE := _build/.jupyter_cache
QUICK      := _build/quick

.PHONY: book test install browser node clean lint wheel

# Full mode. Jupyter Book executes notebooks one after the other; tools/execute_chapters.py runs
# those whose code changed first, one per core, longest first, into the same execution cache
# (jupyter-cache), so the build only renders.
book: $(STAMP) node
	$(PY) tools/execute_chapters.py $(BOOK_CACHE) $(NOTEBOOKS)
	$(JB) build . -W -n --keep-going
	@echo "The book is at $(CURDIR)/_build/html/index.html"

# Quick mode. pytest runs unit tests, doctests and every chapter (nbval), one process per core and
# one thread per process (PyTorch's default, a thread per core in each, oversubscribes the cores);
# conftest.py keeps each executed chapter in the quick book's execution cache, so the build
# renders what the tests ran without executing it again. Then every chapter runs a second time on
# other seeds (LRCOURSE_SEED) and, on a CPU with AVX-512, with PyTorch's AVX2 kernels: the
# rounding of another machine. A claim that one seed or one machine's rounding decides fails
# there. Then Chromium checks the pages.
SECOND_SEED ?= 2026
ONE_THREAD  := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
# "ATEN_CPU_CAPABILITY=avx2" where the default kernels are AVX-512; elsewhere nothing (the seeds differ).
OTHER_CPU    = $(shell $(PY) -c "import torch; print('ATEN_CPU_CAPABILITY=avx2' \
                 if torch.backends.cpu.get_cpu_capability() == 'AVX512' else '')")
test: $(STAMP) browser lint
	LRCOURSE_QUICK=1 LRCOURSE_EXECUTED_CACHE=$(QUICK)/_build/.jupyter_cache $(ONE_THREAD) \
	  $(PY) -m pytest -n auto --dist loadscope
	LRCOURSE_QUICK=1 LRCOURSE_SEED=$(SECOND_SEED) $(ONE_THREAD) $(OTHER_CPU) $(PY) -m pytest -n auto --dist loadscope book
	LRCOURSE_QUICK=1 $(JB) build . --path-output $(QUICK) -W -n --keep-going
	LRCOURSE_BOOK_HTML=$(QUICK)/_build/html $(PY) -m pytest tests/test_rendered_book.py tests/test_page_weight.py \
	  tests/test_live_browser.py -k "not standalone"

install: $(STAMP)

# A wheel of the package alone (no book, no tests), to install where you train: pip install dist/*.whl
wheel: $(STAMP)
	$(PY) -m pip wheel --quiet --no-deps --wheel-dir dist .
	@ls dist/lrcourse-*.whl

# Static checks: ruff (lint and format) over the code, mypy over the package's type hints.
lint: $(STAMP)
	$(VENV)/bin/ruff check conftest.py lrcourse tests benchmarks tools
	$(VENV)/bin/ruff format --check conftest.py lrcourse tests benchmarks tools
	$(VENV)/bin/mypy

# Re-installs only when the dependencies change.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet --no-compile -c constraints.txt -e '.[book,test]'
	@# pip byte-compiles what it installs one file at a time; compileall does the same on every
	@# core (torch ships one file for Python 3.12 only, which 3.11 cannot compile: skipped).
	$(PY) -m compileall -q -j 0 -x py312_intrinsics $(VENV)/lib
	touch $(STAMP)

# The browser checks of the rendered pages need Debian's chromium, a CJK font (the glossary's
# Chinese terms are checked as drawn, not as boxes) and Node (the live figures' engine is checked
# against the package under it).
browser:
	@{ command -v chromium && command -v node && fc-list :lang=zh | grep -q .; } >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium fonts-noto-cjk nodejs; \
	  else echo "make test needs: sudo apt-get install chromium fonts-noto-cjk nodejs" >&2; exit 1; fi; }

# The tools chapter runs TensorBoard's own smoothing code (JavaScript) with Node to check ours.
node:
	@command -v node >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q nodejs; \
	  else echo "make book needs Node.js: sudo apt-get install nodejs" >&2; exit 1; fi; }

clean:
	rm -rf _build
