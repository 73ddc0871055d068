"""The command line: plain messages and exit code 2 for user errors, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "precompute", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_inspect_reports_a_data_set(synth_set):
    result = _run("inspect", "--data", str(synth_set.root))
    assert result.returncode == 0, result.stderr
    assert "trainingset data set" in result.stdout
    assert "30 glitches, 120 images, windows 0.5, 1.0, 2.0, 4.0" in result.stdout


def test_missing_data_is_a_message_not_a_traceback(tmp_path):
    result = _run("inspect", "--data", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "error: data set path" in result.stderr
    assert "Traceback" not in result.stderr


def test_synth_refuses_too_few_glitches_before_writing_anything(tmp_path):
    result = _run("synth", "--out", str(tmp_path / "out"), "--glitches", "20")
    assert result.returncode == 2
    assert "--glitches 20 is too few" in result.stderr
    assert not (tmp_path / "out").exists()


def test_argument_errors_name_the_option():
    result = _run("synth", "--out", "x", "--glitches", "-3")
    assert result.returncode == 2
    assert "--glitches: must be at least 1" in result.stderr


def test_a_synthetic_archive_is_written_and_inspected_with_its_consensus(tmp_path):
    out = tmp_path / "archive"
    result = _run("synth", "--archive", "--out", str(out), "--glitches", "400", "--seed", "4", "--votes", "50")
    assert result.returncode == 0, result.stderr
    assert (out / "gravity-spy-classifications.csv").is_file()
    consensus = out / "retired_fulldata_min2_max50_ret0p9.hdf5"
    result = _run("inspect", "--archive", str(out), "--consensus", str(consensus))
    assert result.returncode == 0, result.stderr
    assert "archive classifications: 400 glitches from 8 file(s)" in result.stdout
    assert "volunteer consensus for" in result.stdout
    missing = _run("inspect", "--archive", str(tmp_path / "none"))
    assert missing.returncode == 2
    assert "error: archive catalogue" in missing.stderr
    assert "Traceback" not in missing.stderr
