# The two commands of the README: `make run` and `make test`. Both create .venv and install first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint unit integration bench install clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m streams.gazetteer  # compile the place index once, not at the first article
	touch $@

install: $(BIN)/.installed

run: install  ## seed articles in, enriched events printed, on the embedded broker
	$(BIN)/newswire run

test: install lint  ## the whole suite: unit tests, then integration tests on both brokers
	scripts/ensure-java.sh
	$(BIN)/pytest -q -p no:cacheprovider

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: install
	$(BIN)/pytest -q tests/unit

integration: install
	scripts/ensure-java.sh
	$(BIN)/pytest -q tests/integration

bench: install  ## every benchmark; each prints its table (they read ../shared/bench-data)
	scripts/ensure-java.sh
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	$(BIN)/python -m bench.bench_dates
	$(BIN)/python -m bench.bench_places
	$(BIN)/python -m bench.bench_dedup
	$(BIN)/python -m bench.bench_pipeline

clean:
	rm -rf $(VENV) .kafka .cache
