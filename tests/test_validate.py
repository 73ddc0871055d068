"""``python -m precompute validate``: generate, run, evaluate and tabulate, in one command, on a tiny plan."""

from __future__ import annotations

import json

import pytest

from precompute.cli import main
from precompute.validate import settings_for

from .helpers import dashboard_plan

pytestmark = pytest.mark.slow


def test_settings_follow_one_rule_fixed_in_advance():
    assert settings_for(300) == {"min_cluster_size": 5, "min_samples": 3, "umap_neighbors": 15}  # the demo's
    assert settings_for(2000) == {"min_cluster_size": 15, "min_samples": 5, "umap_neighbors": 15}
    assert settings_for(8000)["min_cluster_size"] == 62


def test_validate_generates_runs_evaluates_and_writes_its_table(tmp_path, capsys):
    plan = tmp_path / "tiny.json"
    plan.write_text(json.dumps(dashboard_plan(label_noise=0.1).source))
    doc = tmp_path / "validation.md"
    doc.write_text("before\n<!-- validate:tiny -->\nold table\n<!-- /validate:tiny -->\nafter\n")
    argv = ["validate", "--plans", str(plan), "--glitches", "40", "--seeds", "3", "--workdir", str(tmp_path / "work"),
            "--cache-dir", str(tmp_path / "cache"), "--stability", "--doc", str(doc), "--section", "tiny"]  # fmt: skip
    assert main(argv) == 0
    results = json.loads((tmp_path / "work" / "validation.json").read_text())
    assert [r["set"] for r in results] == ["tiny-40-s3"]
    result = results[0]
    assert result["settings"] == settings_for(40)
    assert 0.0 <= result["stability_ari"] <= 1.0
    assert result["suspicion"]["n_altered"] > 0
    text = doc.read_text()
    assert text.startswith("before\n<!-- validate:tiny -->\n| set |")
    assert text.endswith("<!-- /validate:tiny -->\nafter\n")
    assert "| tiny-40-s3 | 40 (5/3) |" in text
    assert "old table" not in text
    assert "tiny-40-s3" in capsys.readouterr().out
    # a rerun reuses the set and the embeddings: nothing is rendered or embedded again
    assert main(argv) == 0
    manifest = json.loads((tmp_path / "work" / "runs" / "tiny-40-s3" / "manifest.json").read_text())
    assert manifest["embedding"]["embedded"] == 0


def test_an_unknown_plan_is_refused_with_the_shipped_ones_named(tmp_path, capsys):
    assert main(["validate", "--plans", "nonesuch", "--glitches", "40", "--workdir", str(tmp_path)]) == 2
    assert "no shipped plan named 'nonesuch'; shipped: default," in capsys.readouterr().err
