"""Atomic file output: a reader sees the old file or the complete new one, never half.

Everything the project writes goes through these helpers: write to a temporary
file in the destination's folder, flush it to disk, then ``os.replace`` it over
the destination (atomic on POSIX within one file system).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["atomic_path", "json_default", "write_bytes_atomic", "write_text_atomic"]


def _default_file_mode() -> int:
    """The mode ``open()`` would give a new file: 0o666 less the process umask (read once, at import)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


#: mkstemp creates 0600 files; outputs get the usual mode, so a run can be served by another account.
_FILE_MODE = _default_file_mode()


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike[str], *, suffix: str = "", durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; move it over ``dest`` on success.

    On an exception the temporary file is removed and ``dest`` is left as it was.
    ``suffix`` lets libraries that infer the format from the name (h5py, pandas)
    see the right extension. ``durable=False`` skips the ``fsync``: still atomic
    for readers, but an OS crash may lose the file (fine for thousands of PNGs
    that a resumed run rewrites).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=suffix + ".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, _FILE_MODE)
        if durable:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(dest: str | os.PathLike[str], data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``dest`` atomically (see `atomic_path`)."""
    with atomic_path(dest, durable=durable) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(dest: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``dest`` atomically."""
    write_bytes_atomic(dest, text.encode("utf-8"))


def json_default(value: Any) -> Any:
    """``json.dumps(default=...)`` for what our outputs hold besides plain types: numpy scalars, arrays, paths."""
    import numpy as np

    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
