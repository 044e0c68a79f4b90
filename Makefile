# Two commands: `make run` and `make test`. Each bootstraps its environment from uv.lock.
PYTHON ?= python3
TOOLS := .tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
VENV_STAMP := .venv/.synced

.PHONY: run test lint format bench territories centres clean

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv

$(VENV_STAMP): uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --extra build
	@touch $@

run: $(VENV_STAMP)
	$(UV) run --locked --no-sync streamlit run dashboard.py

test: $(VENV_STAMP)
	$(UV) run --locked --no-sync ruff check .
	$(UV) run --locked --no-sync pytest

lint: $(VENV_STAMP)
	$(UV) run --locked --no-sync ruff check .
	$(UV) run --locked --no-sync ruff format --check .

format: $(VENV_STAMP)
	$(UV) run --locked --no-sync ruff format .
	$(UV) run --locked --no-sync ruff check --fix .

bench: $(VENV_STAMP)
	$(UV) run --locked --no-sync python -m bench

territories: $(VENV_STAMP)
	$(UV) run --locked --no-sync python -m geo build-territories

centres: $(VENV_STAMP)
	$(UV) run --locked --no-sync python -m geo build-centres

clean:
	rm -rf .venv $(TOOLS) .pytest_cache .ruff_cache
