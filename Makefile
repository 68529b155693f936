# The targets README and CI share. Everything runs from the project's own .venv, and the venv's
# bin goes first on PATH because dagster-dbt runs the `dbt` executable it finds there.

PYTHON ?= python3.11
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed

export PATH := $(BIN):$(PATH)
export KK_DATA_DIR ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(KK_DATA_DIR)/dagster
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: install run test dev daemon docs lint audit clean bench lock

install: $(STAMP)

# The exact dependency set of requirements.lock (every package pinned, with its sha256), so a
# night runs tomorrow on what it ran on today; then the project itself, without resolving.
# -qq: errors only; a machine's pip configuration can name index folders that do not exist,
# and pip then warns once per package (over 200 lines before the first line of a run).
$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (set PYTHON=...)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq --require-hashes -r requirements.lock
	$(BIN)/python -m pip install -qq --no-deps -e .
	@# dbt's manifest, parsed at install as dagster-dbt's deploy step does rather than inside
	@# the first night (re-parsed on demand after an edit: pipelines/warehouse/dbt_project.py)
	$(BIN)/python -c 'from pipelines.warehouse.dbt_project import dbt_project; dbt_project()'
	touch $(STAMP)

# Refresh requirements.lock from pyproject.toml's ranges (the newest versions inside them),
# with hashes; commit the result. Needs the package registry.
lock:
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --upgrade --extra=dev --extra=bench --generate-hashes \
	  --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
	  --output-file=requirements.lock pyproject.toml

# The nightly refresh on the bundled offline (synthetic) sample.
run: install
	$(BIN)/kommunkvalitet refresh --source sample

test: install
	$(BIN)/python -m pytest

dev: install
	mkdir -p $(DAGSTER_HOME)
	test -f $(DAGSTER_HOME)/dagster.yaml || cp pipelines/orchestration/instance/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dg dev --host 127.0.0.1 --port 3000 -w workspace.yaml

# The nightly service: the schedule (02:00 Europe/Stockholm) and the sensors (landing folder,
# run-failure alerts) on the same instance the CLI and `make dev` use. docs/operations.md has
# systemd units for running it and the UI as services.
daemon: install
	mkdir -p $(DAGSTER_HOME)
	test -f $(DAGSTER_HOME)/dagster.yaml || cp pipelines/orchestration/instance/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster schedule start nightly_refresh_schedule -w workspace.yaml || true
	$(BIN)/dagster-daemon run -w workspace.yaml

# The dbt docs site (models, columns, tests, lineage, the warehouse's catalog) for the data dir:
# one self-contained HTML file, $(KK_DATA_DIR)/dbt/docs/static_index.html.
docs: install
	$(BIN)/kommunkvalitet docs

# The benchmark of issue 13 (docs/performance.md): workload M by default, `make bench BENCH=S`
# for a quick one. BENCH_PEER=auto (default) also runs the dlt peer in its own venv when dlt
# can be installed, BENCH_PEER=1 insists on it, BENCH_PEER=0 skips it.
BENCH ?= M
BENCH_PEER ?= auto
bench: install
	BENCH_PEER=$(BENCH_PEER) $(BIN)/python -m bench.run --workload $(BENCH)

lint: install
	$(BIN)/ruff check pipelines assets tests

# Known vulnerabilities in the installed dependency set (pip-audit, PyPI's advisory data).
audit: install
	.ci/audit

clean:
	rm -rf $(VENV) data
