"""The browser tests' set-up states the Chromium it supports (scripts/ensure-chromium.sh): checked on stand-in
``chromium`` and ``chromedriver`` programs that print a version, as Debian's do."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT

SCRIPT = ROOT / "scripts" / "ensure-chromium.sh"


def _check(tmp_path: Path, **versions: str) -> subprocess.CompletedProcess:
    """``ensure-chromium.sh --check`` with only the named programs on PATH, each printing its version line."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for program in ("bash", "grep", "head", "cut", "id"):
        (bin_dir / program).symlink_to(
            subprocess.run(["which", program], capture_output=True, text=True).stdout.strip()
        )
    for program, line in versions.items():
        fake = bin_dir / program
        fake.write_text(f"#!/bin/sh\necho '{line}'\n")
        fake.chmod(0o755)
    return subprocess.run(
        ["bash", SCRIPT, "--check"], capture_output=True, text=True, env={"PATH": str(bin_dir)}, timeout=30
    )


def test_a_supported_pair_passes(tmp_path):
    done = _check(
        tmp_path,
        chromium="Chromium 156.0.8078.73 built on Debian GNU/Linux 12 (bookworm)",
        chromedriver="ChromeDriver 156.0.8078.73 (0123abcd-refs/branch-heads/8078@{#1})",
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("versions", "reason"),
    [
        ({"chromium": "Chromium 120.0.6099.224", "chromedriver": "ChromeDriver 120.0.6099.224"}, "Chromium 120 is older than 150"),
        ({"chromium": "Chromium 156.0.8078.73", "chromedriver": "ChromeDriver 150.0.7871.100"}, "chromedriver 150 does not match Chromium 156"),
        ({"chromedriver": "ChromeDriver 156.0.8078.73"}, "Chromium is not installed"),
        ({"chromium": "Chromium 156.0.8078.73"}, "chromedriver is not installed"),
    ],
)  # fmt: skip
def test_an_unsupported_chromium_is_named_with_the_fix(tmp_path, versions, reason):
    done = _check(tmp_path, **versions)
    assert done.returncode == 1
    assert reason in done.stderr
    assert "run scripts/ensure-chromium.sh" in done.stderr
