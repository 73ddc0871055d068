"""gunicorn settings for ``gunicorn app:server`` (read from the working directory), from the environment.

GSX_HOST (default 127.0.0.1: loopback; the container sets 0.0.0.0), GSX_PORT (8050),
GSX_WORKERS (2 processes), GSX_THREADS (4 threads each). Threads let a thumbnail be
served while another request of the same worker re-clusters; the explorer's
shared state is guarded by locks (explorer/data.py).
"""

import os

bind = f"{os.environ.get('GSX_HOST', '127.0.0.1')}:{os.environ.get('GSX_PORT', '8050')}"
workers = int(os.environ.get("GSX_WORKERS", "2"))
threads = int(os.environ.get("GSX_THREADS", "4"))
timeout = 120  # a min_samples rebuild runs in a background process, never this long in a request
graceful_timeout = 10
accesslog = os.environ.get("GSX_ACCESS_LOG") or None
