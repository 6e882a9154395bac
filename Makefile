# The 965808 platform. `make run` and `make test` are README's two commands.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-sqlite test-postgres lint format migrate seed bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m launcher run

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy services launcher gateway catalog_service ticket_service notification_service sla_worker

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: $(STAMP)
	$(BIN)/python -m launcher migrate

seed: $(STAMP)
	$(BIN)/python -m launcher seed

bench: $(STAMP)
	$(BIN)/python benchmarks/workdays.py
	$(BIN)/python benchmarks/gateway.py
	$(BIN)/python benchmarks/gateway_cost.py
	$(BIN)/python benchmarks/admission.py
	$(BIN)/python benchmarks/tickets.py
	$(BIN)/python benchmarks/sweep.py
	$(BIN)/python benchmarks/webhooks.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
