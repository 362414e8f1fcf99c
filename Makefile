# Terpadu — developer commands. Two matter: `make run` and `make test` (see README.md).
# GNU make 4+. Every recipe line runs in bash with -euo pipefail.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV  := .venv
BIN   := $(VENV)/bin
PY    := $(BIN)/python
STAMP := $(VENV)/.terpadu-installed

# The first Python >= 3.11 on PATH (override: make install PYTHON=/usr/bin/python3.12).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && { echo $$p; break; }; done)

PORT ?= 8000
HOST ?= 127.0.0.1
export PORT HOST

.PHONY: help install run serve test lint fmt messages bench clean distclean

help:
	@echo "make run      install, migrate, load demo data, serve on http://$(HOST):$(PORT)/ (+ task worker)"
	@echo "make test     install, lint, migration check, pytest on SQLite and PostgreSQL (+ browser)"
	@echo "make install  create $(VENV) and install pinned dependencies (skipped when up to date)"
	@echo "make lint | fmt | messages | bench | clean | distclean"

install: $(STAMP)

$(PY):
	@test -n "$(PYTHON)" || { echo "error: Python >= 3.11 not found on PATH (set PYTHON=...)" >&2; exit 1; }
	@echo "creating $(VENV) with $$($(PYTHON) --version)"
	$(PYTHON) -m venv $(VENV)

# Re-runs only when the direct dependencies or the lock change (or the venv is new).
$(STAMP): pyproject.toml requirements.lock | $(PY)
	scripts/ensure-pdf-libs
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev]"
	@touch $@

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_demo
	@$(MAKE) --no-print-directory serve

# Web server + task worker without the setup steps (both stop together).
serve:
	PY=$(PY) scripts/serve.sh

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	PY=$(PY) scripts/run-tests

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Indonesian is the source language; English lives in terpadu/locale/en.
messages: install
	@command -v xgettext >/dev/null || { echo "error: gettext is missing (apt-get install gettext)" >&2; exit 1; }
	mkdir -p terpadu/locale
	$(PY) manage.py makemessages -l en -d django -e html,txt,py \
		--ignore='.venv/*' --ignore='var/*' --ignore='bench/*' --ignore='test-results/*' \
		--ignore='*/migrations/*' --no-obsolete
	$(PY) manage.py compilemessages -l en --ignore='.venv/*'

# Every bench/bench_*.py, each printing rows, seconds, rows/s, peak memory (design.md §4).
bench: install
	@shopt -s nullglob; scripts=(bench/bench_*.py); \
	if [ $${#scripts[@]} -eq 0 ]; then echo "no bench/bench_*.py scripts yet"; exit 0; fi; \
	for s in "$${scripts[@]}"; do echo "== $$s"; DJANGO_SETTINGS_MODULE=config.settings $(PY) "$$s"; done

clean:
	rm -rf test-results .pytest_cache .ruff_cache .hypothesis build *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

# Also removes the virtualenv and the local SQLite database, media and collected static files.
distclean: clean
	rm -rf $(VENV) var
