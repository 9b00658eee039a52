# Minutebook: `make run` to try it, `make test` to check it. Both start with `make setup`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app app
export MINUTEBOOK_ENV ?= development

.PHONY: help setup run serve test lint format check-system clean

help:
	@echo "make run    set everything up and serve the demo on http://127.0.0.1:$(PORT)"
	@echo "make serve  set everything up and serve with gunicorn (production; demo only if empty)"
	@echo "make test   set everything up and run the whole test suite"
	@echo "make setup  the idempotent set-up step both start with (.venv, assets, database)"
	@echo "make lint   ruff check and ruff format --check"

# Each step leaves a stamp so a second `make setup` only redoes what changed.
$(VENV)/.python-stamp:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "Minutebook needs Python 3.11 or newer (apt package: python3)."; exit 1; }
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || { \
	  echo "The Python venv module is missing: apt-get install python3-venv"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	touch $@

$(VENV)/.deps-stamp: $(VENV)/.python-stamp pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

node_modules/.stamp: package.json package-lock.json
	@command -v npm >/dev/null || { \
	  echo "npm is needed to build the page styles: apt-get install nodejs npm"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

app/static/govuk/.stamp: node_modules/.stamp $(shell find app/static/src -type f 2>/dev/null) scripts/build_assets.sh
	npm run --silent build
	touch $@

check-system: $(VENV)/.deps-stamp
	@$(BIN)/python scripts/check_system.py

setup: $(VENV)/.deps-stamp check-system app/static/govuk/.stamp
	$(FLASK) db upgrade

run: setup
	$(FLASK) demo load
	@echo "Serving Minutebook on http://127.0.0.1:$(PORT) (Ctrl-C to stop)"
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# The production server: workers from the CPU count (gunicorn.conf.py). The demo is loaded
# only into an empty database, so a real one is never touched.
serve: setup
	$(FLASK) demo load --if-empty
	@echo "Serving Minutebook with gunicorn on $${HOST:-127.0.0.1}:$(PORT) (Ctrl-C to stop)"
	PORT=$(PORT) $(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

lint: $(VENV)/.deps-stamp
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup lint
	MINUTEBOOK_ENV=testing $(BIN)/python -m pytest $(PYTEST_ARGS)

format: $(VENV)/.deps-stamp
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) node_modules app/static/govuk .pytest_cache .ruff_cache
