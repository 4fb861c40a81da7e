# Lesson Forum — every entry point. `make run` serves the site, `make test` runs the suite.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
SEED := forum/seed/AI大模型实战高手课/01-洞察本质：从工程学角度看ChatGPT为什么会崛起.md
PYTEST_ARGS ?=
# pytest-xdist runs each half of `make test` in one process per core and one more: a third of the
# suite's time is spent waiting on servers, browsers and SMTP outages it started, which leaves a
# core idle (on 2 cores, 3 workers take 6:49 where 2 took 7:23 for the SQLite half). WORKERS=0
# runs in pytest's own process, as needed for -s or pdb; or give a number. Idle workers take tests
# queued for busy ones.
WORKERS ?= $(shell echo $$(( $$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) + 1 )))
PYTEST_PARALLEL = -n $(WORKERS) --dist worksteal
# Hypothesis: `make test` runs the small "ci" profile, `make test-full` the "full" one
# (tests/conftest.py).
HYPOTHESIS_PROFILE ?= ci

# A Python >= 3.12: python3.13/python3.12 on PATH, pyenv's, then python3.
define find_python
for candidate in python3.13 python3.12 \
    $$(ls -d "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python 2>/dev/null | sort -rV) \
    python3 python; do \
  if command -v "$$candidate" >/dev/null 2>&1 && \
     "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
    command -v "$$candidate"; exit 0; \
  fi; \
done; exit 1
endef

.PHONY: help
help:
	@echo "make run            serve the site on http://$(HOST):$(PORT)/ and run the task worker"
	@echo "make test           run the whole test suite on SQLite, then on PostgreSQL, on every core"
	@echo "make test-full      the same with ten times the Hypothesis examples (new ones each run)"
	@echo "make lint           ruff, Django checks, migrations check"
	@echo "make messages       update and compile the translation catalogues"
	@echo "make security-full  the whole XSS corpus through Chromium and the gate (~11 min)"
	@echo "make screenshots    every page at 1280 and 390 px, light and dark, into docs/screenshots/"
	@echo "make bench          measure speed against nginx, Django's floor and django-comments-xtd"
	@echo "make bench-quick    the same, short: 2 rounds of 1 s (also: make bench QUICK=1)"

$(PY):
	@python=$$($(find_python)) || { \
	  echo "error: Lesson Forum needs Python 3.12 or newer, and none was found." >&2; \
	  echo "       Install one (e.g. 'pyenv install 3.12') and run make again." >&2; exit 1; }; \
	echo "Creating $(VENV) with $$python"; \
	"$$python" -m venv $(VENV)

# Reinstall only when the dependency files change.
$(VENV)/.installed: pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e . --group dev
	@touch $@

.PHONY: install
install: $(VENV)/.installed

.PHONY: run
run: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py ensure_admin
	$(PY) manage.py import_lesson --keep-existing "$(SEED)"
	PATH="$(abspath $(VENV))/bin:$$PATH" PYTHONUNBUFFERED=1 HOST=$(HOST) \
	  FORUM_SITE_URL="$${FORUM_SITE_URL:-http://$(HOST):$(PORT)}" \
	  $(VENV)/bin/honcho start --procfile Procfile --port $(PORT)

.PHONY: test
test: install
	@echo "== Test suite on SQLite =="
	env -u TEST_DATABASE_URL HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) \
	  $(PY) -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)
	@echo "== Test suite on PostgreSQL ($(TEST_DATABASE_URL)) =="
	@if $(PY) -c 'import sys, psycopg; psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://", 1), connect_timeout=3).close()' "$(TEST_DATABASE_URL)" 2>/dev/null; then \
	  TEST_DATABASE_URL="$(TEST_DATABASE_URL)" HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) \
	    $(PY) -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS) && \
	  echo "== PostgreSQL restart under load (stops the server for a few seconds) ==" && \
	  LESSON_FORUM_PG_RESTART=1 TEST_DATABASE_URL="$(TEST_DATABASE_URL)" \
	    $(PY) -m pytest -q -s tests/reliability/test_pg_restart.py; \
	elif [ "$$CI" = "true" ]; then \
	  echo "error: PostgreSQL at $(TEST_DATABASE_URL) does not answer (required in CI)" >&2; exit 1; \
	else \
	  echo "PostgreSQL at $(TEST_DATABASE_URL) does not answer: the PostgreSQL half is skipped."; \
	fi

# `make test` with the "full" Hypothesis profile (the setting reaches `test` as its prerequisite).
.PHONY: test-full
test-full: HYPOTHESIS_PROFILE = full
test-full: test

.PHONY: lint
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

.PHONY: messages
messages: install
	$(PY) manage.py makemessages --locale zh_Hans --locale en --ignore '.venv/*' --ignore 'tests/*'
	$(PY) manage.py compilemessages --ignore '.venv/*'

# The benchmark (bench/run.py): writes docs/performance.md; ARGS passes options through, e.g.
# ARGS="--rounds 7 --python-client". The short version is `make bench-quick`,
# `make bench QUICK=1` or `make bench -- --quick`: GNU make refuses a bare `make bench --quick`
# as an unknown option of its own before it reads this file; after `--`, `--quick` arrives as
# a goal, which is passed on to bench/run.py and otherwise ignored.
BENCH_FLAGS := $(filter --%,$(MAKECMDGOALS))
QUICK ?=

.PHONY: bench
bench: install
	$(PY) bench/run.py $(if $(filter 1 yes true,$(QUICK)),--quick) $(BENCH_FLAGS) $(ARGS)

.PHONY: bench-quick
bench-quick: install
	$(PY) bench/run.py --quick $(ARGS)

ifneq ($(BENCH_FLAGS),)
.PHONY: $(BENCH_FLAGS)
$(BENCH_FLAGS):
	@:
endif

# Not part of `make test`: PNGs of every page (tests/site_pages.py) for docs/screenshots/.
.PHONY: screenshots
screenshots: install
	LESSON_FORUM_SCREENSHOTS="$(abspath docs/screenshots)" $(PY) -m pytest -q -p no:warnings \
	  tests/browser/test_screenshots.py $(PYTEST_ARGS)

# Not part of `make test`: every vector of ../shared/security through the browser harness
# (the suite's own run takes a 1,000-vector sample), and the browser-free gate with it.
.PHONY: security-full
security-full: install
	@echo "== XSS: the whole corpus through the browser harness and the browser-free gate =="
	XSS_FULL=1 $(PY) -m pytest tests/browser/test_xss_browser.py tests/security/test_xss_gate.py $(PYTEST_ARGS)
