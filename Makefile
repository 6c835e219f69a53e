# jianguan — two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JG := $(VENV)/bin/jianguan
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/jianguan
DEMO_SEED ?= 20261121
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo serve test lint test-sqlite test-postgres install browser services reset bench clean

## install: Python packages into .venv, front-end packages from npm, compiled translations
install: $(VENV)/.installed node_modules/.installed src/jianguan/locale/en/LC_MESSAGES/django.mo

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

src/jianguan/locale/en/LC_MESSAGES/django.mo: src/jianguan/locale/en/LC_MESSAGES/django.po $(VENV)/.installed
	$(PY) scripts/compile_messages.py

## browser: Debian's chromium for the browser tests (never a downloaded browser)
browser:
	@command -v chromium >/dev/null || scripts/apt-install.sh chromium

## services: start PostgreSQL / Redis / Mosquitto / NATS if they are installed but stopped
services:
	@scripts/ensure-services.sh

## demo: install, build a synthetic facility in var/, serve it at http://$(HOST):$(PORT)
demo: install
	rm -rf var && mkdir -p var
	$(JG) migrate --noinput -v0
	$(JG) codes load
	$(JG) seed --seed $(DEMO_SEED)
	JIANGUAN_SIMULATE=1 $(MAKE) --no-print-directory serve

## serve: web (gunicorn) and background worker (huey) against the existing database
serve: install
	mkdir -p var
	$(JG) migrate --noinput -v0
	$(JG) collectstatic --noinput -v0
	scripts/serve.sh $(HOST) $(PORT)

## test: every check, then the test suite on SQLite and on PostgreSQL
test: install browser services lint test-sqlite test-postgres

lint: install
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(JG) makemigrations --check --dry-run
	JIANGUAN_SECRET_KEY=$$(openssl rand -hex 32) JIANGUAN_HTTPS=1 JIANGUAN_SECURE_COOKIES=1 \
	  $(JG) check --deploy --fail-level WARNING

test-sqlite: install
	$(VENV)/bin/pytest -q -p no:cacheprovider

test-postgres: install
	JIANGUAN_DATABASE_URL=$(PG_TEST_URL) $(VENV)/bin/pytest -q -p no:cacheprovider

## bench: the benchmarks of bench/ (figures go to docs/performance.md by hand)
bench: install
	$(PY) bench/api_list.py
	$(PY) bench/deadline_recompute.py
	$(PY) bench/duty_routing.py
	$(PY) bench/live_latency.py
	$(PY) bench/device_ingest.py --messages 30000 --seconds 30
	$(PY) bench/risk_rescore.py  # reuses its seeded million-person database

reset:
	rm -rf var

clean: reset
	rm -rf $(VENV) node_modules
