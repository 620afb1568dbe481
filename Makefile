# Two commands set everything up on a fresh machine (see README):
#   make run    - install the app's dependencies into .venv and start the app
#   make test   - install app + test dependencies (and Debian's chromium), run every test
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: run test bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.app-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.app-installed

run: $(VENV)/.app-installed
	$(BIN)/streamlit run streamlit_app.py

test: $(VENV)/.dev-installed
	bash scripts/install-system-deps.sh
	$(BIN)/python -m pytest

bench: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/sizing.py
	$(BIN)/python benchmarks/app_rerun.py
	$(BIN)/python benchmarks/mixing.py
	$(BIN)/python benchmarks/latency.py
	$(BIN)/python benchmarks/classroom_speed.py
