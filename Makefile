# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
TORCH  ?= torch==2.13.0
STAMP   = $(VENV)/.installed
# Python caches each module's bytecode the first time it is imported (a few hundred of the venv's
# files), so that the next process, every Ray worker included, does not compile it again: an
# environment with PYTHONDONTWRITEBYTECODE=1 made every import of torch + ray + mlflow cost 8 s
# instead of 3 s. (pip's own --compile would compile all of the venv's 20,000 files, most never used.)
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test lint docs bench screenshot venv clean postgres

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile "$(TORCH)"
	$(BIN)/python -m pip install --quiet --no-compile -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m physml demo

# lint (ruff, import layers) and the docs build run first: they take seconds and fail fast
test: lint $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir $$(mktemp -d)
	$(BIN)/python -m pytest -q --durations=15

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks deploy .ci docs
	$(BIN)/ruff format --check src tests benchmarks deploy .ci docs
	$(BIN)/lint-imports

# the documentation on http://127.0.0.1:8000, rebuilt on every change
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

bench: $(STAMP)
	$(BIN)/python -m benchmarks.ising_kernels
	$(BIN)/python -m benchmarks.ensemble_scaling
	$(BIN)/python -m benchmarks.table1
	$(BIN)/python -m benchmarks.train_throughput
	$(BIN)/python -m benchmarks.sweep_overhead
	$(BIN)/python -m benchmarks.prostate_throughput
	$(BIN)/python -m benchmarks.lensing_throughput
	$(BIN)/python -m benchmarks.jets_scale
	$(BIN)/python -m benchmarks.first_step
	$(BIN)/python -m benchmarks.cli_latency
	$(BIN)/python -m benchmarks.gpe_speed

# The README's MLflow UI screenshot: the latest sweep in the store of directory STORE, shown by
# headless Chromium from Debian's packages (installed here when missing; not part of `make test`).
STORE ?= .
screenshot: $(STAMP)
	@command -v chromium >/dev/null || apt-get install -y chromium || sudo apt-get install -y chromium
	$(BIN)/python .ci/ui_screenshot.py $(STORE) docs/sweep-ui.png compare

# PostgreSQL for the MLflow tracking-server test (tests/platform/test_remote.py starts a throwaway
# cluster on loopback when Debian's server binaries are present, else it uses SQLite) and for a lab's
# own tracking server: Debian's postgresql (installed here when missing) and the psycopg driver.
postgres: $(STAMP)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt-get install -y postgresql || sudo apt-get install -y postgresql
	$(BIN)/python -m pip install --quiet "psycopg[binary]"

clean:
	rm -rf $(VENV) mlruns mlflow.db physml-data .pytest_cache site
