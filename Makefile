# Gravity Spy Glitch Explorer: the two set-up commands are `make demo` and `make test`.
# Each creates .venv when it is missing and installs what it needs; nothing is
# installed globally except Debian's Chromium for the browser tests (make test, as root).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_DIR ?= data/demo
DEMO_GLITCHES ?= 400
DEMO_SEED ?= 42
PYTEST_ARGS ?=

export SE_OFFLINE := true
export DASH_TEST_CHROMEPATH ?= /usr/bin/chromium
export MPLBACKEND := Agg

.PHONY: help install install-dev demo demo-data test lint format bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed  ## create .venv and install the runtime requirements

install-dev: $(VENV)/.installed-dev  ## install the test and lint tools too

$(DEMO_DIR)/trainingset_v1d1_metadata.csv: | $(VENV)/.installed
	$(PY) -m precompute synth --out $(DEMO_DIR) --glitches $(DEMO_GLITCHES) --seed $(DEMO_SEED) --hdf5

demo-data: $(DEMO_DIR)/trainingset_v1d1_metadata.csv  ## build the synthetic demo data set (resumes if interrupted)

demo: install demo-data  ## install, build the demo data set, and report what it holds
	$(PY) -m precompute inspect --data $(DEMO_DIR) --no-verify
	@echo "Demo data set ready in $(DEMO_DIR). The dashboard arrives with the explorer (see README: Status)."

test: install-dev  ## install everything (Chromium too) and run the whole test suite
	scripts/ensure-chromium.sh
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev  ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev  ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install  ## run the benchmarks (prints tables; see docs/benchmarks.md)
	$(PY) benchmarks/bench_synth.py

clean:  ## remove caches (keeps .venv and data/)
	rm -rf .pytest_cache .ruff_cache test-artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
