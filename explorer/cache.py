"""The dashboard's shared cache, chosen by one setting: ``GSX_CACHE_URL``.

Views, findings and trees are computed once and shared by every worker
through a cache with Flask-Caching's interface (``get``, ``set``, ``has``),
whichever store is behind it:

- unset, or a folder: one host. `DiskCache` keeps the entries in diskcache
  (SQLite) under that folder (else ``$GSX_CACHE_DIR``), shared by the host's
  gunicorn workers. Flask-Caching's own ``FileSystemCache`` was the other
  candidate; it prunes by number of files (500 by default) and rewrites its
  count on every write, where diskcache evicts by size and is built for
  several processes writing at once.
- ``redis://host:port/db``: several hosts. Flask-Caching's ``RedisCache``, so
  a tree built for one host serves all of them (`explorer.jobs` runs the
  builds on Celery workers through the same Redis). If Redis goes away the
  dashboard keeps answering: `Tolerant` turns each failed call into a miss
  (and a set into nothing), logs a warning at most once a minute, and the
  callbacks compute what they need in the request instead.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from flask_caching.backends.base import BaseCache
from flask_caching.backends.rediscache import RedisCache

log = logging.getLogger("explorer.cache")

__all__ = ["CacheSettingError", "DiskCache", "Tolerant", "cache_url", "is_redis", "open_cache"]

#: Entries in Redis expire after a week unused, so a server with ``maxmemory-policy volatile-lru`` evicts them
#: first and never the job queue's keys (which have no expiry); diskcache evicts by size instead
REDIS_TTL_S = 7 * 24 * 3600
#: diskcache's bound on the one-host cache (trees, cuts, findings), least recently stored evicted first
DISK_LIMIT_BYTES = 2**30
#: How long a failing Redis waits before it is tried again, and between two warnings
RETRY_AFTER_S = 60.0


class CacheSettingError(ValueError):
    """``GSX_CACHE_URL`` names something the dashboard cannot use; the message says what to set instead."""


def cache_url() -> str:
    """``$GSX_CACHE_URL`` (empty when unset): a folder or a Redis URL, else `CacheSettingError` naming the fix."""
    url = os.environ.get("GSX_CACHE_URL", "").strip()
    if "://" in url and not is_redis(url):
        raise CacheSettingError(
            f"GSX_CACHE_URL={redacted(url)!r} is neither a folder nor a redis:// URL; "
            "leave it unset for one host, or set redis://HOST:6379/0 to share the cache between hosts"
        )
    return url


def is_redis(url: str) -> bool:
    return url.startswith(("redis://", "rediss://", "unix://"))


class DiskCache(BaseCache):
    """Flask-Caching's cache interface on a diskcache folder (one host: every worker shares it)."""

    def __init__(self, directory: Path, size_limit: int = DISK_LIMIT_BYTES):
        super().__init__(default_timeout=0)
        import diskcache

        self.directory = Path(directory)
        self._store = diskcache.Cache(str(self.directory), size_limit=size_limit)

    def get(self, key: str) -> Any:
        return self._store.get(key)

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        return bool(self._store.set(key, value, expire=timeout or None))

    def add(self, key: str, value: Any, timeout: int | None = None) -> bool:
        return bool(self._store.add(key, value, expire=timeout or None))

    def has(self, key: str) -> bool:
        return key in self._store

    def delete(self, key: str) -> bool:
        return bool(self._store.delete(key))

    def clear(self) -> bool:
        self._store.clear()
        return True


class Tolerant(BaseCache):
    """A shared cache whose failures cost only speed: a failed call is a miss, logged once a minute.

    After a failure the store is left alone for `RETRY_AFTER_S` (each request
    would otherwise wait for a connection timeout), then tried again.
    """

    def __init__(self, inner: BaseCache, where: str):
        super().__init__(default_timeout=0)
        self.inner, self.where = inner, where
        self._down_until = 0.0
        self._lock = threading.Lock()

    def _call(self, what: str, default: Any, *args: Any) -> Any:
        if time.monotonic() < self._down_until:
            return default
        try:
            return getattr(self.inner, what)(*args)
        except Exception as exc:  # redis and cachelib raise many kinds; each means "not now"
            with self._lock:
                if time.monotonic() >= self._down_until:
                    log.warning(
                        "the shared cache at %s failed (%s: %s); computing without it, retrying in %.0f s",
                        self.where, type(exc).__name__, exc, RETRY_AFTER_S,
                    )  # fmt: skip
                    self._down_until = time.monotonic() + RETRY_AFTER_S
            return default

    def get(self, key: str) -> Any:
        return self._call("get", None, key)

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        return bool(self._call("set", False, key, value, timeout))

    def add(self, key: str, value: Any, timeout: int | None = None) -> bool:
        return bool(self._call("add", False, key, value, timeout))

    def has(self, key: str) -> bool:
        return bool(self._call("has", False, key))

    def delete(self, key: str) -> bool:
        return bool(self._call("delete", False, key))


def redacted(url: str) -> str:
    """``url`` without its password, for logs and messages."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def open_cache(url: str, folder: Path) -> BaseCache:
    """The shared cache ``url`` names (checked by `cache_url`): Redis for ``redis://…``, else diskcache under
    ``url`` or ``folder``. Redis is not contacted here: an unreachable server is a warning at the first use.
    """
    if is_redis(url):
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
        inner = RedisCache(host=client, default_timeout=REDIS_TTL_S, key_prefix="gsx:")
        return Tolerant(inner, redacted(url))
    return DiskCache(Path(url) if url else folder)
