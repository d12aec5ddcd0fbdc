# SEJAGAD SEHAT. Needs only Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run setup test lint bench loadtest vendor clean

## make run: install, migrate, load Luwu Utara and demo data, then serve web + worker + beat.
run: setup
	@echo "==> [4/4] Menjalankan web, worker dan beat (Ctrl-C untuk berhenti) ..."
	$(PY) manage.py serve

## make setup: everything `make run` does before it starts the processes (safe to repeat).
setup: $(VENV)/.installed
	@echo "==> [2/4] Menyiapkan terjemahan dan basis data (migrate) ..."
	$(PY) manage.py compile_translations
	$(PY) manage.py migrate --noinput
	@echo "==> [3/4] Mengisi data demo Luwu Utara (sekitar 15 detik) ..."
	$(PY) manage.py seed_demo

$(VENV)/.installed: requirements.txt
	@echo "==> [1/4] Memasang paket Python ke $(VENV) (sekali saja; beberapa menit pada sambungan lambat) ..."
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --progress-bar off -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

## make test: install the test tools and run the whole suite (DATABASE_URL / CELERY_BROKER_URL honoured).
test: $(VENV)/.installed-dev
	$(PY) manage.py compile_translations
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)
	tmp=$$(mktemp -d) && env -u DATABASE_URL -u CELERY_BROKER_URL SEJAGAD_VAR_DIR=$$tmp $(VENV)/bin/pytest -q -m both_databases -p no:cacheprovider; rc=$$?; rm -rf $$tmp; exit $$rc

## make bench: performance figures on PostgreSQL (outside the test suite), each beside its comparison; see
## docs/BENCHMARKS.md. Any database name: created when missing, refused when it holds data that is not the bench's.
## One suite: make bench BENCH_ARGS="enrollment.bench --quick".
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/sejagad_bench
bench: $(VENV)/.installed-dev
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py bench $(BENCH_ARGS)

## make loadtest: Locust (10 users) against gunicorn with production settings, on the district demo and the
## national table; prints req/s, p50/p95/p99 and errors per page. Settings: LOADTEST_DATASETS="district national",
## LOADTEST_USERS, LOADTEST_RUN_TIME (60s), LOADTEST_NATIONAL_ROWS (4500000),
## LOADTEST_CONNECTION=close (a connection per request); see loadtest/run.py.
LOADTEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/sejagad_loadtest
loadtest: $(VENV)/.installed-dev
	LOADTEST_DATABASE_URL=$(LOADTEST_DATABASE_URL) $(PY) loadtest/run.py

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## make vendor: refresh the front-end assets in static/vendor from the npm registry.
vendor:
	bash scripts/vendor_assets.sh

clean:
	rm -rf $(VENV) var
