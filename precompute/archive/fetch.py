"""Fetching the archive's images into the training-set layout: resumable, polite, and checked image by image.

``python -m precompute fetch --catalog PATH --out DIR`` downloads the
``url1``..``url4`` images of the chosen glitches into
``DIR/TrainingSet/<ml_label>/<ifo>_<id>_spectrogram_<window>.png`` and writes
``DIR/trainingset_v1d1_metadata.csv`` (the machine label as ``label``), so
``precompute run --data DIR`` reads the result like a training set.

How it behaves, and why:

- **Resumes**: an image already on disk that decodes as an 800×600 colour
  figure is not fetched again; one that does not (a truncated earlier
  download) is fetched again. Gone images (404, 410) are remembered in
  ``DIR/fetch-failures.csv`` and not asked for again unless ``--retry-gone``.
- **Retries** server errors, timeouts, broken connections, truncated bodies
  and bodies that are not a valid figure, with exponential back-off and
  jitter, ``--retries`` times.
- **Polite**: at most ``--concurrency`` requests at once and ``--rate``
  requests per second in all.
- **Stays on the host it was sent to**: a redirect to another host is not
  followed (recorded as a failure): detector data must not leak, and images
  come from the archive's own server.
- **Loses nothing**: every image is written atomically after it is checked;
  a full disk stops the fetch with a message, keeping what was fetched.
"""

from __future__ import annotations

import errno
import http.client
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..atomic import atomic_path, write_text_atomic
from ..classes import WINDOWS, png_name
from ..errors import DataError
from ..io.images import check_image
from ..progress import counter
from .classifications import Classifications

__all__ = ["FetchConfig", "FetchSummary", "fetch_images", "select"]

FAILURES_FILE = "fetch-failures.csv"
METADATA_FILE = "trainingset_v1d1_metadata.csv"
FIGURE_SIZE = (800, 600)
#: HTTP statuses that mean the image is gone for good: not retried.
_GONE = frozenset({404, 410})


@dataclass(frozen=True)
class FetchConfig:
    """How to fetch: which windows, how many at once, how fast, how stubbornly."""

    windows: tuple[str, ...] = WINDOWS
    concurrency: int = 4
    rate: float = 10.0  #: requests per second, all workers together
    retries: int = 4
    timeout_s: float = 30.0
    backoff_s: float = 1.0  #: the first retry's wait; doubled each time, with jitter
    retry_gone: bool = False

    def __post_init__(self) -> None:
        unknown = [w for w in self.windows if w not in WINDOWS]
        if unknown or not self.windows:
            raise DataError(f"--windows must be some of {', '.join(WINDOWS)}, got {', '.join(self.windows) or 'none'}")
        if not 1 <= self.concurrency <= 64:
            raise DataError(f"--concurrency must be in [1, 64], got {self.concurrency}")
        if not 0 < self.rate <= 1000:
            raise DataError(f"--rate must be in (0, 1000] requests per second, got {self.rate}")
        if not 0 <= self.retries <= 20:
            raise DataError(f"--retries must be in [0, 20], got {self.retries}")


@dataclass
class FetchSummary:
    """What a fetch did: counts, and each failure with its reason."""

    fetched: int = 0
    already_there: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"fetched {self.fetched}, already there {self.already_there}, failed {len(self.failures)}"]
        for reason, n in Counter(f["reason"] for f in self.failures).most_common():
            example = next(f["url"] for f in self.failures if f["reason"] == reason)
            out.append(f"  {n} × {reason} (e.g. {example})")
        return out


class _Gone(Exception):
    """The server says the image does not exist (404, 410): not retried."""


class _Retry(Exception):
    """A failure worth another try (5xx, timeout, truncated or invalid body)."""


class _Refused(Exception):
    """A failure another try will not fix (a redirect off-site, a URL that is not http)."""


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only within the host a request was sent to."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            raise _Refused(f"redirected off-site to {newurl}; not followed")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _RateLimit:
    """At most ``rate`` starts per second across threads (a shared schedule of start times)."""

    def __init__(self, rate: float) -> None:
        self.interval, self.next_start, self.lock = 1.0 / rate, time.monotonic(), threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            start = max(now, self.next_start)
            self.next_start = start + self.interval
        time.sleep(max(0.0, start - now))


def select(archive: Classifications, *, where: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """The glitches to fetch: ``where`` (a pandas query on the catalogue's columns), the first ``limit`` of them."""
    glitches = archive.glitches
    if where:
        try:
            glitches = glitches.query(where, engine="python")
        except Exception as exc:  # pandas raises many kinds for a bad expression
            raise DataError(
                f"--where {where!r} is not a usable filter ({type(exc).__name__}: {exc}); "
                f"columns are {', '.join(archive.glitches.columns)}"
            ) from None
    if limit is not None:
        glitches = glitches.head(limit)
    return glitches


def _download(opener: urllib.request.OpenerDirector, url: str, timeout_s: float) -> bytes:
    """The body at ``url``, or the failure classified as gone, worth a retry, or refused."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise _Refused(f"not an http(s) URL: {url!r}")
    try:
        with opener.open(url, timeout=timeout_s) as response:
            kind = response.headers.get_content_type()
            body = response.read()
    except urllib.error.HTTPError as exc:
        if exc.code in _GONE:
            raise _Gone(f"HTTP {exc.code}") from None
        raise _Retry(f"HTTP {exc.code}") from None
    except http.client.IncompleteRead as exc:
        raise _Retry(f"truncated body ({len(exc.partial)} bytes)") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, _Refused):
            raise exc.reason from None
        raise _Retry(f"connection failed ({exc.reason})") from None
    except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
        raise _Retry(f"{type(exc).__name__}: {exc}") from None
    if kind not in ("image/png", "application/octet-stream"):
        raise _Retry(f"wrong content type {kind}")
    return body


def _store(body: bytes, dest: Path) -> None:
    """Write ``body`` to ``dest`` atomically if it is a valid figure; a full disk is the caller's to stop on."""
    with atomic_path(dest, durable=False) as tmp:
        tmp.write_bytes(body)
        problem = check_image(tmp, expect_size=FIGURE_SIZE, expect_colour=True)
        if problem:
            raise _Retry(f"invalid image ({problem})")


def _fetch_one(opener, url: str, dest: Path, config: FetchConfig, limiter: _RateLimit) -> str:
    """Fetch one image to ``dest``; return "" on success or the reason it was given up."""
    reason = ""
    for attempt in range(config.retries + 1):
        if attempt:
            time.sleep(config.backoff_s * 2 ** (attempt - 1) * random.uniform(0.5, 1.5))
        limiter.wait()
        try:
            _store(_download(opener, url, config.timeout_s), dest)
            return ""
        except _Gone as exc:
            return f"gone ({exc})"
        except _Refused as exc:
            return str(exc)
        except _Retry as exc:
            reason = str(exc)
    return f"{reason}, after {config.retries + 1} tries"


def _jobs(glitches: pd.DataFrame, out: Path, config: FetchConfig, gone: set[str]) -> tuple[list, int, list]:
    """(url, dest) pairs still to fetch, how many are already there, and the rows without a URL."""
    jobs, there, missing = [], 0, []
    columns = {w: f"url{WINDOWS.index(w) + 1}" for w in config.windows}
    for row in glitches.itertuples(index=False):
        folder = out / "TrainingSet" / str(row.ml_label)
        for window, column in columns.items():
            url = getattr(row, column, None)
            if not isinstance(url, str) or not url:
                missing.append({"gravityspy_id": row.gravityspy_id, "window": window, "url": "", "reason": "no URL"})
                continue
            dest = folder / png_name(row.ifo, row.gravityspy_id, window)
            if dest.is_file() and check_image(dest, expect_size=FIGURE_SIZE, expect_colour=True) is None:
                there += 1
            elif url not in gone or config.retry_gone:
                jobs.append((row.gravityspy_id, window, url, dest))
    return jobs, there, missing


def _gone_before(out: Path) -> set[str]:
    path = out / FAILURES_FILE
    if not path.is_file():
        return set()
    failures = pd.read_csv(path, dtype=str, keep_default_na=False)
    return set(failures.loc[failures["reason"].str.startswith("gone"), "url"])


def fetch_images(glitches: pd.DataFrame, out: Path | str, config: FetchConfig | None = None,
                 *, show_progress: bool = True) -> FetchSummary:  # fmt: skip
    """Fetch the chosen glitches' images into ``out`` (resuming), write the metadata CSV and the failures.

    Raises `DataError` when the disk fills: what was fetched is kept, and the
    same command resumes.
    """
    config = config or FetchConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs, there, missing = _jobs(glitches, out, config, _gone_before(out))
    summary = FetchSummary(already_there=there, failures=list(missing))
    opener = urllib.request.build_opener(_SameHostRedirects())
    limiter = _RateLimit(config.rate)
    full_disk = threading.Event()

    def work(job) -> tuple[tuple, str]:
        _, _, url, dest = job
        if full_disk.is_set():
            return job, "not tried: the disk is full"
        try:
            return job, _fetch_one(opener, url, dest, config, limiter)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                full_disk.set()
                return job, "not written: the disk is full"
            return job, f"not written ({exc})"

    try:
        with counter(total=len(jobs), desc="fetch", unit="image", enabled=show_progress) as bar, \
                ThreadPoolExecutor(config.concurrency) as pool:  # fmt: skip
            for (gid, window, url, _), reason in pool.map(work, jobs):
                bar.update()
                if reason:
                    summary.failures.append({"gravityspy_id": gid, "window": window, "url": url, "reason": reason})
                else:
                    summary.fetched += 1
    finally:
        _write_records(glitches, out, summary)
    if full_disk.is_set():
        raise DataError(
            f"the disk under {out} is full: {summary.fetched} images were fetched and kept; "
            "free some space and run the same command again to fetch the rest"
        )
    return summary


def _write_records(glitches: pd.DataFrame, out: Path, summary: FetchSummary) -> None:
    """The metadata CSV (machine label as ``label``) and the failures, both atomically; best effort on a full disk."""
    metadata = glitches.rename(columns={"ml_label": "label"}).assign(ml_label=glitches["ml_label"])
    metadata["sample_type"] = "archive"
    failures = pd.DataFrame(summary.failures, columns=["gravityspy_id", "window", "url", "reason"])
    try:
        with atomic_path(out / METADATA_FILE) as tmp:
            metadata.to_csv(tmp, index=False)
        write_text_atomic(out / FAILURES_FILE, failures.to_csv(index=False))
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
