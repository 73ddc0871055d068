"""The shared cache's one setting (``GSX_CACHE_URL``) and its two stores, without a server (explorer/cache.py).

The stores with real servers behind them are in tests/test_multihost.py.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from explorer.cache import CacheSettingError, DiskCache, cache_url, open_cache
from explorer.client import free_port

ROOT = Path(__file__).resolve().parent.parent


def test_one_host_keeps_arrays_in_diskcache_behind_flask_cachings_interface(tmp_path):
    cache = open_cache("", tmp_path / "shared")
    assert isinstance(cache, DiskCache)
    linkage = np.arange(12.0).reshape(3, 4)
    assert not cache.has("tree/x/5")
    assert cache.get("tree/x/5") is None
    assert cache.set("tree/x/5", linkage)
    again = open_cache("", tmp_path / "shared")  # another worker on the same host
    assert again.has("tree/x/5")
    np.testing.assert_array_equal(again.get("tree/x/5"), linkage)
    assert again.delete("tree/x/5")
    assert not cache.has("tree/x/5")


def test_a_folder_in_the_setting_is_the_one_host_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GSX_CACHE_URL", str(tmp_path / "elsewhere"))
    cache = open_cache(cache_url(), tmp_path / "default")
    cache.set("k", 1)
    assert cache.directory == tmp_path / "elsewhere"
    assert not (tmp_path / "default").exists()


def test_an_unreachable_redis_is_a_miss_and_one_warning_not_an_error(caplog):
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    cache = open_cache(url, Path("/nonexistent"))
    with caplog.at_level(logging.WARNING, logger="explorer.cache"):
        assert cache.get("view/a") is None
        assert cache.set("view/a", np.zeros(3)) is False
        assert cache.has("view/a") is False
        assert cache.get("view/b") is None
    warnings = [r.getMessage() for r in caplog.records if r.name == "explorer.cache"]
    assert len(warnings) == 1, warnings  # then left alone for a minute: no connection timeout per request
    assert f"the shared cache at {url} failed" in warnings[0]
    assert "computing without it" in warnings[0]


@pytest.mark.parametrize("url", ["ftp://cache.example/x", "memcached://127.0.0.1:11211", "http://h/"])
def test_a_setting_of_another_kind_is_refused_with_the_fix(url, monkeypatch):
    monkeypatch.setenv("GSX_CACHE_URL", url)
    with pytest.raises(CacheSettingError, match=r"neither a folder nor a redis:// URL; leave it unset"):
        cache_url()


def test_a_bad_setting_stops_the_server_before_the_run_is_read_and_hides_the_password(small_run, monkeypatch):
    monkeypatch.setenv("GSX_CACHE_URL", "memcached://curator:hunter2@cache.example:11211")
    started = subprocess.run(
        [sys.executable, "app.py", "--run", str(small_run)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert started.returncode == 2
    assert "error: GSX_CACHE_URL='memcached://curator:***@cache.example:11211' is neither" in started.stderr
    assert "hunter2" not in started.stderr
    assert "Traceback" not in started.stderr
