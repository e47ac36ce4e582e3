# Wappin Portal. `make run` starts everything on the embedded defaults;
# `make test` runs the whole suite. Both bootstrap .venv when it is absent.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
SANDBOX_PORT ?= 9100
# PostgreSQL and Redis for `make test-services` (the machine's local services by default).
SERVICES_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wappin_portal
SERVICES_REDIS_URL ?= redis://127.0.0.1:6379

.PHONY: run test test-services test-all fuzz smoke lint format bench bench-services clean chromium lock screenshots

# Every dependency comes pinned, with its hashes, from requirements.lock (`make lock` writes
# it from pyproject.toml); the project itself is installed on top, without dependencies.
$(BIN)/.installed: pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

# After editing the dependencies in pyproject.toml: `make lock` pins what changed and keeps
# the rest; `make lock UPGRADE=1` moves every pin to its newest allowed release.
lock:
	@test -x $(BIN)/pip-compile || { test -d $(VENV) || $(PYTHON) -m venv $(VENV); $(BIN)/pip install --quiet pip-tools; }
	$(BIN)/pip-compile --quiet --extra dev --generate-hashes --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade) \
		--output-file requirements.lock pyproject.toml

# A developer's .env with fresh keys, written once and kept.
.env: | $(BIN)/.installed
	@echo "SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" > $@
	@echo "FIELD_ENCRYPTION_KEY=$$($(BIN)/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" >> $@
	@echo "Wrote .env with a fresh SECRET_KEY and FIELD_ENCRYPTION_KEY."

RUN_ENV := PORTAL_BASE_URL=http://127.0.0.1:$(PORT) \
	WAPPIN_BASE_URL=http://127.0.0.1:$(SANDBOX_PORT) \
	WAPPIN_SANDBOX_URL=http://127.0.0.1:$(SANDBOX_PORT) \
	WEB_PORT=$(PORT) SANDBOX_PORT=$(SANDBOX_PORT) PYTHONUNBUFFERED=1

run: $(BIN)/.installed .env
	@mkdir -p var
	@$(RUN_ENV) $(BIN)/python manage.py migrate --no-input -v 0
	@$(RUN_ENV) $(BIN)/python manage.py collectstatic --no-input -v 0
	@$(RUN_ENV) $(BIN)/python manage.py seed_demo
	@$(RUN_ENV) $(BIN)/python manage.py sandbox_world --output var/sandbox-world.json
	@echo
	@echo "  Wappin Portal:  http://127.0.0.1:$(PORT)/   (log in as admin / wappin-demo)"
	@echo "  Admin:          http://127.0.0.1:$(PORT)/admin/"
	@echo "  API docs:       http://127.0.0.1:$(PORT)/api/docs/"
	@echo "  Wappin sandbox: http://127.0.0.1:$(SANDBOX_PORT)/_sandbox/   (simulate a customer)"
	@echo "  Ctrl-C stops everything."
	@echo
	@$(RUN_ENV) $(BIN)/honcho -f Procfile start

test: $(BIN)/.installed chromium
	$(BIN)/pytest $(PYTEST_ARGS)

# The same suite on PostgreSQL and Redis, with a real Celery worker for the worker tests.
test-services: $(BIN)/.installed chromium
	DATABASE_URL=$(SERVICES_DATABASE_URL) CACHE_URL=$(SERVICES_REDIS_URL)/1 \
	CELERY_BROKER_URL=$(SERVICES_REDIS_URL)/2 $(BIN)/pytest $(PYTEST_ARGS)

# Schemathesis over the whole API schema against a live portal (test settings, the sandbox,
# an API key): every check, a fixed seed, a bounded number of examples (tests/fuzz/).
fuzz: $(BIN)/.installed
	$(BIN)/python -m tests.fuzz

test-all: lint test test-services fuzz

# Lint rules and formatting (`make format` fixes both).
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(BIN)/.installed
	$(BIN)/python -m tests.bench
	$(BIN)/python -m tests.bench.campaign --skip-cap

# The campaign benchmarks on PostgreSQL + Redis with real workers, and status callbacks on
# gunicorn against a bare INSERT view (issue 14), and the dashboard on 5 million messages (issue 12).
bench-services: $(BIN)/.installed
	$(BIN)/python -m tests.bench.campaign --services
	$(BIN)/python -m tests.bench.callbacks_http
	$(BIN)/python -m tests.bench.dashboard

# The README's screenshots (docs/screenshots/): desktop and phone, English and Indonesian.
screenshots: $(BIN)/.installed chromium
	SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/browser_tests/test_screenshots.py

# Browser tests drive Debian's Chromium (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing Debian's chromium for the browser tests..."; \
			(apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)); \
		else echo "Browser tests need chromium: sudo apt-get install chromium"; fi; }

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache

# The README's production deployment, run as written on PostgreSQL and Redis (dbs 13 and 14),
# then used over HTTP: see README.md, "The smoke test runs exactly this".
SMOKE_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wappin_smoke
smoke: $(BIN)/.installed
	SMOKE_DATABASE_URL=$(SMOKE_DATABASE_URL) SMOKE_REDIS_URL=$(SERVICES_REDIS_URL) \
	SMOKE_BROKER_DB=13 SMOKE_CACHE_DB=14 timeout 600 $(BIN)/python -m tests.smoke.run_smoke
