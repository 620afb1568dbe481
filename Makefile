# Two commands set everything up on a fresh machine (see README):
#   make run    - install the app's dependencies into .venv (and ONNX Runtime Web with npm) and start the app
#   make test   - install app + test dependencies (and Debian's chromium, ONNX Runtime Web), lint, run every test
#                 but the load tier (pytest -m "not load"), the 25 slowest shown
#   make test-load - the same dependencies, then the load tier (pytest -m load): class of 20, five sessions, ...
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: run test test-load lint bench screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.app-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.app-installed

# ONNX Runtime Web for "Measure on this device": `npm ci` from the lockfile, two files copied into the
# component's folder (git-ignored). Without npm the script says so and the app runs without that feature.
ORT_WEB = assets/ort-web
$(ORT_WEB)/component/ort/VERSION: $(ORT_WEB)/package.json $(ORT_WEB)/package-lock.json scripts/install-ort-web.sh
	bash scripts/install-ort-web.sh

run: $(VENV)/.app-installed $(ORT_WEB)/component/ort/VERSION
	$(BIN)/streamlit run streamlit_app.py

# ruff is the one formatter and linter (configured in pyproject.toml); make test runs it first.
lint: $(VENV)/.dev-installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

test: lint $(VENV)/.dev-installed $(ORT_WEB)/component/ort/VERSION
	bash scripts/install-system-deps.sh
	$(BIN)/python -m pytest -m "not load" --durations=25

test-load: $(VENV)/.dev-installed $(ORT_WEB)/component/ort/VERSION
	bash scripts/install-system-deps.sh
	$(BIN)/python -m pytest -m load --durations=25

bench: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/sizing.py
	$(BIN)/python benchmarks/app_rerun.py
	$(BIN)/python benchmarks/mixing.py
	$(BIN)/python benchmarks/latency.py
	$(BIN)/python benchmarks/classroom_speed.py
	$(BIN)/python benchmarks/budget.py

# Screenshots of the main pages for the README, from the running app in Debian's chromium (docs/screenshots/).
screenshots: $(VENV)/.dev-installed
	$(BIN)/python scripts/screenshots.py
