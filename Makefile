# The two commands: `make run` and `make test`. Everything else they need, they build.
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: run test lint format clean bench bench-rescore bench-pages bench-search bench-build mutation

# The stamps re-install only when a requirements file changes.
$(VENV)/.run-installed: requirements.txt
	@test -x $(PY) || { PYTHON=$$(scripts/find-python) && echo "Creating $(VENV) with $$PYTHON" && $$PYTHON -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.run-installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.run-installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_sample
	$(PY) manage.py rescore
	@# The FAIR evaluation asks DataCite and doi.org: queued for the worker, so the site starts at once.
	@$(VENV)/bin/celery -A datarank_site call scoring.tasks.evaluate_stale_fair_task >/dev/null
	@echo "Serving http://$(HOST):$(PORT)/ with a Celery worker; Ctrl-C stops both."
	@$(VENV)/bin/celery -A datarank_site worker -B -Q celery,openalex --loglevel=INFO --pool=threads --concurrency=$(WORKERS) & \
	worker=$$!; trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# Tests get their own var/ (SQLite file, broker folder) so they never touch the site's.
test: $(VENV)/.dev-installed
	DATARANK_VAR_DIR=$${DATARANK_VAR_DIR:-$(CURDIR)/var/test} $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Mutation testing (mutmut) of the pure modules, each against its own tests only: prints each module's
# share of results-changing mutants killed and the survivors (scripts/mutation says how). Slow, so not
# part of `make test`. MUTATION_ARGS="records engine" runs only those; MUTATION_JOBS=2 sets the workers.
mutation: $(VENV)/.dev-installed
	$(PY) scripts/mutation $(MUTATION_ARGS)

format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf var staticfiles

# The benchmarks (bench/README.md) at full size, one target each; `make bench` runs them all, one
# after the other, and says which is running. Each works in its own database, test_<name>, created and
# dropped on the PostgreSQL server DATABASE_URL names:
# - bench-rescore: rescoring 100,000 papers x 200 citers from 1,000,000 citing works, full and incremental
#   (shrink with RESCORE_BENCH_ARGS="--papers 10000 --pool 100000");
# - bench-pages: the paper page at that size and search at 1,000,000 papers under gunicorn
#   (PAGES_BENCH_ARGS="--papers 10000 --pool 100000 --search-papers 100000");
# - bench-search: search at 1,000,000 titles from a Zipf vocabulary, per query class (SEARCH_BENCH_ARGS);
# - bench-build: build_index on a synthetic snapshot of 10M works, 200M references, 1M corpus papers,
#   against a bare DuckDB scan of the same files (BUILD_BENCH_ARGS="--works 1000000 --papers 100000
#   --references 20000000" for a tenth).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/datarank_bench
BENCH_ENV = DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} DATARANK_VAR_DIR=$${DATARANK_VAR_DIR:-$(CURDIR)/var/bench}
BENCHMARKS = bench-rescore bench-pages bench-search bench-build
bench: $(VENV)/.dev-installed
	@for target in $(BENCHMARKS); do echo "== make $$target"; $(MAKE) --no-print-directory $$target || exit 1; done

bench-rescore: $(VENV)/.dev-installed
	$(BENCH_ENV) $(PY) bench/rescore.py $(RESCORE_BENCH_ARGS)

bench-pages: $(VENV)/.dev-installed
	$(BENCH_ENV) $(PY) bench/pages.py $(PAGES_BENCH_ARGS)

bench-search: $(VENV)/.dev-installed
	$(BENCH_ENV) $(PY) bench/search.py $(SEARCH_BENCH_ARGS)

bench-build: $(VENV)/.dev-installed
	$(BENCH_ENV) $(PY) bench/build.py $(BUILD_BENCH_ARGS)
