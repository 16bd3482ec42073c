# Two commands do all the set-up on a fresh machine:
#   make demo   the main job end to end on the embedded default (SQLite, sample data)
#   make test   the test suite (starts PostgreSQL if it is not running)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)

.PHONY: demo demo-province ui test test-fast lint typecheck format bench-intake bench-hostile bench-report bench-linkage \
	bench-province venv postgres \
	integration clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

postgres:
	scripts/ensure_postgres.sh

demo: venv
	$(BIN)/python scripts/demo.py

# After the reform: a fortnight of 2025-26 (report date 17/10/2025) for the merged Lào Cai province
# (~1,200 schools, ~100 communes), in var/demo-province; see docs/organisation.md.
demo-province: venv
	$(BIN)/python scripts/demo.py --province

# The Airflow UI on the demo's history (run `make demo` first): http://127.0.0.1:8080, admin/admin.
ui: venv
	$(BIN)/python scripts/ui.py

test: venv postgres
	$(BIN)/ruff check .
	PYTHONPATH=plugins $(BIN)/lint-imports
	$(BIN)/mypy plugins/chuyencan devtools/chuyencan_dev
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# The fast lane: no PostgreSQL server, no Airflow at run time (metadata DB, DAG parsing,
# `dag.test()`), property-based tests with a fifth of their examples.
test-fast: venv
	CHUYENCAN_FAST_TESTS=1 $(BIN)/python -m pytest -q -n 2 --dist loadfile -m "not postgres and not airflow"

lint: venv typecheck
	$(BIN)/ruff check .
	PYTHONPATH=plugins $(BIN)/lint-imports
	$(BIN)/ruff format --check .

# The package and the dev tools, type-checked; the core (pyproject.toml, [tool.mypy]) to --strict.
typecheck: venv
	$(BIN)/mypy plugins/chuyencan devtools/chuyencan_dev

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench-intake: venv postgres
	$(BIN)/python bench/intake.py

# The worst file of each class (far cell, tag flood, 2 GiB file, 1 GiB CSV): seconds and peak
# memory, and a weekly collection with and without them; see docs/faults.md.
bench-hostile: venv
	$(BIN)/python bench/hostile.py

bench-report: venv postgres
	$(BIN)/python bench/report.py

# The merged province on PostgreSQL: a Friday's intake (1,200+ files) and a report date's
# fortnightly sequence, each against Bát Xát's (14 schools); targets 60 s and 5 min.
bench-province: venv postgres
	$(BIN)/python bench/province.py

bench-linkage: venv
	$(BIN)/pip install --quiet -r requirements-bench.txt
	$(BIN)/python bench/linkage.py

# The docker-compose topology started natively (api-server, scheduler, dag-processor,
# triggerer, Celery worker, Redis, PostgreSQL), every DAG through the REST API, a worker killed
# mid-load; see docs/deploying.md.
integration: venv postgres
	PYTHONPATH=plugins:devtools $(BIN)/python -m scripts.integration.run

clean:
	rm -rf var/demo .pytest_cache
