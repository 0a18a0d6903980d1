# Two commands for a fresh machine: `make run` (the app with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run worker test lint typecheck messages clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		(echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_order_system --orders 2000 --if-empty
	$(BIN)/python manage.py load_reference
	$(BIN)/python manage.py seed_demo_warehouses
	$(BIN)/python manage.py seed_demo_activity
	$(BIN)/python manage.py seed_demo --url http://$(HOST):$(PORT)/
	@if [ -n "$$REDIS_URL" ]; then \
		echo "REDIS_URL is set: starting an RQ worker for the default and backups queues"; \
		$(BIN)/python manage.py rqworker default backups & \
	fi; \
	echo "Starting the scheduler (manage.py run_scheduler)"; \
	$(BIN)/python manage.py run_scheduler & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# An RQ worker, the scheduler (several `make worker` hosts may run: each schedule runs once
# per interval) and the change journal (PostgreSQL order systems; it exits at once on SQLite,
# and a second one on the same slot fails to read it while the first holds it). In production
# run them as separate services instead.
worker: install
	@$(BIN)/python manage.py run_scheduler & scheduler=$$!; \
	$(BIN)/python manage.py run_journal & journal=$$!; \
	trap 'kill $$scheduler $$journal 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py rqworker default backups

# The tests run against a private PostgreSQL cluster and Redis started for this run on free
# loopback ports (and stopped after); DATABASE_URL / REDIS_URL given explicitly still win.
# Tests run in parallel (pytest-xdist), each worker with its own databases; TEST_WORKERS=0 for one.
TEST_WORKERS ?= auto
test: install
	$(BIN)/python scripts/testservers.py run -- \
		$(BIN)/pytest -n $(TEST_WORKERS) --maxprocesses 8 $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy with django-stubs on the apps listed in pyproject.toml ([tool.mypy] files).
typecheck: install
	$(BIN)/mypy

# Refresh the catalogs after changing user-visible strings (needs GNU gettext).
messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans --no-location --ignore '.venv/*' --ignore "var/*" --ignore "tests/*" --ignore "bench/*"
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) var/staticfiles .pytest_cache
