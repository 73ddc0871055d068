# Gravity Spy Glitch Explorer: the two set-up commands are `make demo` and `make test`.
# Each creates .venv when it is missing and installs what it needs; nothing is
# installed globally except Debian's Chromium, redis-server and podman for the tests (make test, as root).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_DIR ?= data/demo
DEMO_RUN ?= data/runs/demo
DEMO_GLITCHES ?= 300
DEMO_SEED ?= 42
# offline machines: ImageNet weights fall back to random ones, with a warning in the run's manifest.
# Map and clusters sized for a few hundred glitches (the seed's 30/50 suit ~34k points).
DEMO_RUN_ARGS ?= --weights imagenet-or-random --umap-neighbors 15 --min-cluster-size 5 --min-samples 3 --cache-dir data/cache
PYTEST_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 8050

export SE_OFFLINE := true
export DASH_TEST_CHROMEPATH ?= /usr/bin/chromium
export MPLBACKEND := Agg

.PHONY: help install install-dev demo demo-data demo-run serve test test-portability test-images lint format bench bench-scale plotly-bundle clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-serve.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed  ## create .venv and install the runtime requirements

# the GPU extra (cuML, requirements-gpu.txt) only where nvidia-smi lists a GPU: tests/test_gpu_paths.py then runs
$(VENV)/.installed-gpu: requirements-gpu.txt $(VENV)/.installed
	if nvidia-smi -L 2>/dev/null | grep -q GPU; then $(PY) -m pip install --quiet -r requirements-gpu.txt; fi
	touch $@

install-dev: $(VENV)/.installed-dev  ## install the test and lint tools too

$(DEMO_DIR)/trainingset_v1d1_metadata.csv: | $(VENV)/.installed
	$(PY) -m precompute synth --out $(DEMO_DIR) --glitches $(DEMO_GLITCHES) --seed $(DEMO_SEED) --hdf5

demo-data: $(DEMO_DIR)/trainingset_v1d1_metadata.csv  ## build the synthetic demo data set (resumes if interrupted)

$(DEMO_RUN)/manifest.json: $(DEMO_DIR)/trainingset_v1d1_metadata.csv
	$(PY) -m precompute run --data $(DEMO_DIR) --out $(DEMO_RUN) $(DEMO_RUN_ARGS)

demo-run: $(DEMO_RUN)/manifest.json  ## embed, map and cluster the demo data set into its run directory

demo: install demo-run  ## install, build the demo data set and its run (reused when present), serve the dashboard
	$(PY) -m precompute inspect --run $(DEMO_RUN)
	$(MAKE) --no-print-directory serve RUN=$(DEMO_RUN)

# The production server (gunicorn, settings in gunicorn.conf.py), as the container runs it; `python app.py`
# is Flask's development server, for `--debug` work on the dashboard itself.
serve: install  ## serve the dashboard on RUN=path (default: the demo run) at HOST:PORT with gunicorn
	@echo "Serving $(or $(RUN),$(DEMO_RUN)) at http://$(HOST):$(PORT)/ (gunicorn; Ctrl-C stops it)"
	GSX_RUN=$(or $(RUN),$(DEMO_RUN)) GSX_HOST=$(HOST) GSX_PORT=$(PORT) exec $(VENV)/bin/gunicorn app:server

test: install-dev $(VENV)/.installed-gpu  ## install everything (Chromium, Redis and podman too) and run the whole test suite
	scripts/ensure-chromium.sh
	scripts/ensure-redis.sh
	GSX_CONTAINERS_CONF=$(CURDIR)/build/containers.conf scripts/ensure-podman.sh
	CONTAINERS_CONF=$(CURDIR)/build/containers.conf GSX_REQUIRE_CONTAINER_TEST=1 GSX_REQUIRE_REDIS_TEST=1 GSX_REQUIRE_BROWSER_TEST=1 \
	  $(PY) -m pytest $(PYTEST_ARGS)

# The suite as another machine would see it: the small runs' maps drawn with another seed (other random weights,
# another UMAP layout), the math libraries held to older instruction sets (other kernels, other rounding: OpenBLAS for
# numpy/scipy, MKL and oneDNN for torch), the browser in a 1920x1080 window. A test that passes only at the defaults
# encodes one machine's layout (docs/architecture.md, "Tests"). ~20 minutes; the container tests are left out.
PORTABILITY_SEED ?= 7
PORTABILITY_WINDOW ?= 1920,1080
test-portability: install-dev  ## the suite with perturbed map layouts, BLAS kernels and window size (~20 min)
	scripts/ensure-chromium.sh
	scripts/ensure-redis.sh
	OPENBLAS_CORETYPE=Nehalem MKL_ENABLE_INSTRUCTIONS=SSE4_2 ONEDNN_MAX_CPU_ISA=SSE41 GSX_REQUIRE_BROWSER_TEST=1 \
	  $(PY) -m pytest -m 'not container and not images' --map-seed $(PORTABILITY_SEED) \
	  --browser-window $(PORTABILITY_WINDOW) $(PYTEST_ARGS)

# The precompute image (torch's CUDA build: a 7.6 GB image) and deploy/compose.yaml, really built and run: too long for
# make test's 30 minutes on CI. pip fetches the pinned wheels first (from this machine's index or pip's cache) and
# the build installs from them, so it never downloads torch itself. Needs ~25 GB of free disk while it builds.
test-images: install-dev  ## build the precompute image from local wheels and run it; run the compose stack (~20 min)
	GSX_CONTAINERS_CONF=$(CURDIR)/build/containers.conf scripts/ensure-podman.sh
	$(PY) -m pip download -q --only-binary=:all: -r requirements.txt -d build/wheels
	CONTAINERS_CONF=$(CURDIR)/build/containers.conf GSX_REQUIRE_CONTAINER_TEST=1 GSX_WHEELS=$(CURDIR)/build/wheels \
	  $(PY) -m pytest -m images $(PYTEST_ARGS)

lint: install-dev  ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev  ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install  ## run the benchmarks at everyday sizes (prints tables; see docs/benchmarks.md)
	$(PY) benchmarks/bench_synth.py
	$(PY) benchmarks/bench_embed.py
	$(PY) benchmarks/bench_engines.py
	$(PY) benchmarks/bench_knn.py --sizes 20000 --methods exact,ours
	$(PY) benchmarks/bench_umap.py
	$(PY) benchmarks/bench_recluster.py
	$(PY) benchmarks/bench_explorer.py

# Hours on 2 cores: the archive's sizes (issue 18); synthetic vectors after the embedding stage.
bench-scale: install  ## the benchmarks at the archive's size: k-NN, UMAP, re-cut, audit and dashboard at 100k-700k
	$(PY) benchmarks/bench_knn.py --sizes 100000 --methods exact,faiss-ivf,ours
	$(PY) benchmarks/bench_knn.py --sizes 700000 --methods ours --search-k 60
	$(PY) benchmarks/bench_umap.py --sizes 100000,300000,700000 --transform 10000
	$(PY) benchmarks/bench_recluster.py --sizes 100000,300000,700000
	$(PY) benchmarks/bench_audit.py --sizes 100000,300000,700000
	$(PY) benchmarks/bench_explorer.py --sizes 100000,300000,700000

# The dashboard's plotly.js, vendored in assets/: only the traces it draws (a quarter of the full bundle's 4.8 MB, so
# the first screen parses a second less). Rebuild it with the plotly.js version plotly.py ships when plotly is
# upgraded: tests/test_explorer_assets.py fails until then. Needs Node.js and npm (the registry, not a CDN).
plotly-bundle:  ## rebuild assets/vendor's plotly.js bundle from npm (scripts/plotly-bundle)
	cd scripts/plotly-bundle && npm ci --silent && node build.js

clean:  ## remove caches (keeps .venv and data/)
	rm -rf .pytest_cache .ruff_cache test-artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
