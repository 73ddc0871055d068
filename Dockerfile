# Gravity Spy Glitch Explorer: two images from one file (docs/deploy.md).
#
#   serve       (default) the dashboard only: gunicorn serving app:server, no torch, non-root
#   precompute  the pipeline: torch + torchvision, `python -m precompute ...`, `--gpus all` on a CUDA host
#
#   docker build -t gsx-serve .
#   docker build --target precompute -t gsx-precompute .
#
# BASE_IMAGE lets a build start from a locally made image where no registry is reachable.
# WHEELS installs from a folder of wheels instead of PyPI, for hosts without an index (podman only: build volumes):
#   pip download --only-binary=:all: -r requirements.txt -d build/wheels   # on a host with Python 3.11 and an index
#   podman build --target precompute -v "$PWD/build/wheels:/wheels:ro" --build-arg WHEELS=/wheels -t gsx-precompute .
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# -- the dashboard's dependencies, in their own virtualenv -----------------------------------
FROM base AS serve-deps
ARG WHEELS=""
COPY requirements-serve.txt ./
RUN python -m venv /opt/venv && /opt/venv/bin/pip install ${WHEELS:+--no-index --find-links=$WHEELS} -r requirements-serve.txt

# -- precompute: the pipeline (torch); outputs go to a mounted volume ------------------------
# Its virtualenv is installed here, not copied from a stage of its own: with torch's CUDA libraries it is ~7.4 GB,
# and a copy between stages doubled that on the build host's disk (a build here ran out of space doing so).
FROM base AS precompute
ARG WHEELS=""
ENV PATH=/opt/venv/bin:$PATH \
    GSX_CACHE_DIR=/cache \
    MPLBACKEND=Agg
RUN useradd --create-home --uid 10001 gsx && mkdir -p /cache /data /runs && chown gsx /cache /data /runs
COPY requirements-serve.txt requirements.txt ./
RUN python -m venv /opt/venv && /opt/venv/bin/pip install ${WHEELS:+--no-index --find-links=$WHEELS} -r requirements.txt
COPY precompute/ precompute/
USER 10001
ENTRYPOINT ["python", "-m", "precompute"]
CMD ["--help"]

# -- serve (the default target, so last): the dashboard on a read-only run directory ---------
FROM base AS serve
COPY --from=serve-deps /opt/venv /opt/venv
# GSX_RUN: the run directory (mount it, read-only is fine); GSX_CACHE_DIR: writable caches shared by the workers;
# GSX_REVIEW_DB: the curators' decisions (SQLite; mount a volume at /review to keep them)
ENV PATH=/opt/venv/bin:$PATH \
    GSX_RUN=/run \
    GSX_CACHE_DIR=/cache \
    GSX_REVIEW_DB=/review/decisions.sqlite \
    NUMBA_CACHE_DIR=/opt/numba-cache \
    NUMBA_THREADING_LAYER=workqueue \
    GSX_WORKERS=2 \
    GSX_THREADS=4 \
    GSX_HOST=0.0.0.0 \
    GSX_PORT=8050
COPY app.py gunicorn.conf.py ./
COPY explorer/ explorer/
COPY precompute/ precompute/
COPY assets/ assets/
# Compile the clustering's numba code now (about a minute on 2 cores) instead of in the first request.
RUN useradd --create-home --uid 10001 gsx && mkdir -p /cache /review /opt/numba-cache \
    && python -c "import numpy as np; from precompute.cluster import ClusterParams as P, ClusterTree as T; \
t = T.build(np.random.default_rng(0).normal(size=(300, 2)), 3); t.cut(P(5, 3)); t.cut(P(5, 3, 'leaf', 0.1))" \
    && chown -R gsx /cache /review /opt/numba-cache
USER 10001
EXPOSE 8050
VOLUME ["/cache", "/review"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('GSX_PORT', '8050'), timeout=4)"]
# gunicorn's master handles SIGTERM (graceful stop within graceful_timeout) and reaps its workers as PID 1;
# its settings come from gunicorn.conf.py (GSX_WORKERS, GSX_THREADS, GSX_HOST, GSX_PORT)
STOPSIGNAL SIGTERM
CMD ["gunicorn", "app:server"]
