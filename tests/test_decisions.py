"""apply-decisions: a corrected copy of a real-layout metadata CSV, the original untouched, bad files named."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from explorer.review import NewDecision, ReviewStore
from precompute.decisions import EXPORT_COLUMNS, read_decisions
from precompute.errors import DataError

ROOT = Path(__file__).resolve().parent.parent


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "precompute", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _metadata(root: Path) -> pd.DataFrame:
    return pd.read_csv(root / "trainingset_v1d1_metadata.csv", dtype=str, keep_default_na=False)


def _store_with_decisions(tmp_path: Path, metadata: pd.DataFrame) -> ReviewStore:
    """Four decisions (one of each action) on the first four glitches, the first decided twice."""
    (tmp_path / "review").mkdir()
    store = ReviewStore(tmp_path / "review" / "decisions.sqlite")
    rows = metadata.head(4).to_dict(orient="records")
    other = sorted(set(metadata["label"]) - {rows[0]["label"]})[0]

    def decide(row: dict, action: str, new_label: str, reviewer: str = "ada") -> None:
        store.decide([NewDecision(row["gravityspy_id"], action, row["label"], new_label, reviewer, "run-1",
                                  {"min_cluster_size": 5}, {"agreement": 0.2})])  # fmt: skip

    decide(rows[0], "reject", rows[0]["label"])
    decide(rows[0], "accept", other, reviewer="grace")  # supersedes the reject
    decide(rows[1], "relabel", "Blip")
    decide(rows[2], "reject", rows[2]["label"])
    decide(rows[3], "new_class", rows[3]["label"])
    return store


def test_apply_decisions_writes_a_corrected_copy_and_leaves_the_original(trainingset_copy: Path, tmp_path: Path):
    metadata = _metadata(trainingset_copy)
    store = _store_with_decisions(tmp_path, metadata)
    exported = tmp_path / "decisions.csv"
    exported.write_text(store.export_csv())
    before = _digest(trainingset_copy / "trainingset_v1d1_metadata.csv")

    out = tmp_path / "corrected.csv"
    result = _cli("apply-decisions", "--data", str(trainingset_copy), "--decisions", str(exported), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "accept 1" in result.stdout
    assert "relabel 1" in result.stdout
    assert "reject 1" in result.stdout

    assert _digest(trainingset_copy / "trainingset_v1d1_metadata.csv") == before
    corrected = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(corrected.columns[: len(metadata.columns)]) == list(metadata.columns)
    assert len(corrected) == len(metadata)
    current = store.current().set_index("gravityspy_id")
    for i in range(4):
        gid = metadata["gravityspy_id"].iat[i]
        expected = (
            current.loc[gid, "new_label"]
            if current.loc[gid, "action"] in ("accept", "relabel")
            else metadata["label"].iat[i]
        )
        assert corrected["label"].iat[i] == expected
        assert corrected["label_before_review"].iat[i] == metadata["label"].iat[i]
        assert corrected["review_action"].iat[i] == current.loc[gid, "action"]
    assert corrected["reviewer"].iat[0] == "grace"
    # every other row and column is the original, byte for byte as text
    untouched = corrected.iloc[4:][list(metadata.columns)].reset_index(drop=True)
    pd.testing.assert_frame_equal(untouched, metadata.iloc[4:].reset_index(drop=True))


def test_json_export_reads_back_like_the_csv(trainingset_copy: Path, tmp_path: Path):
    store = _store_with_decisions(tmp_path, _metadata(trainingset_copy))
    (tmp_path / "d.json").write_text(store.export_json())
    (tmp_path / "d.csv").write_text(store.export_csv())
    from_json, from_csv = read_decisions(tmp_path / "d.json"), read_decisions(tmp_path / "d.csv")
    assert list(from_csv.columns) == list(EXPORT_COLUMNS)
    assert from_json["gravityspy_id"].tolist() == from_csv["gravityspy_id"].tolist()
    assert json.loads(from_json["evidence"].iat[0]) == {"agreement": 0.2}


def test_a_decision_on_a_label_that_has_since_changed_is_skipped_and_named(trainingset_copy: Path, tmp_path: Path):
    metadata = _metadata(trainingset_copy)
    store = _store_with_decisions(tmp_path, metadata)
    exported = tmp_path / "decisions.csv"
    exported.write_text(store.export_csv())
    changed = metadata.copy()
    changed.loc[1, "label"] = "Chirp" if changed.loc[1, "label"] != "Chirp" else "Blip"
    csv = tmp_path / "changed.csv"
    changed.to_csv(csv, index=False)
    result = _cli("apply-decisions", "--data", str(csv), "--decisions", str(exported), "--out", str(tmp_path / "o.csv"))
    assert result.returncode == 0, result.stderr
    assert "no longer has" in result.stdout
    assert metadata["gravityspy_id"].iat[1] in result.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("gravityspy_id,old_label,new_label,action\nx,Blip,Koi_Fish,accept\n", "decided_at"),
        (
            "gravityspy_id,old_label,new_label,action,decided_at\nx,Blip,Koi_Fish,delete,2026\n",
            "row 2: action 'delete'",
        ),
        (
            "gravityspy_id,old_label,new_label,action,decided_at\nx,Blip,,relabel,2026\n",
            "needs gravityspy_id and new_label",
        ),
    ],
)
def test_bad_decision_files_are_refused_with_the_field_named(tmp_path: Path, content: str, expected: str):
    path = tmp_path / "decisions.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=expected):
        read_decisions(path)


def test_unknown_new_label_is_refused_unless_allowed(trainingset_copy: Path, tmp_path: Path):
    row = _metadata(trainingset_copy).iloc[0]
    path = tmp_path / "decisions.csv"
    pd.DataFrame([{"gravityspy_id": row["gravityspy_id"], "old_label": row["label"], "new_label": "Wobbly_Thing",
                   "action": "relabel", "decided_at": "2026-11-29T00:00:00"}]).to_csv(path, index=False)  # fmt: skip
    args = [
        "apply-decisions",
        "--data",
        str(trainingset_copy),
        "--decisions",
        str(path),
        "--out",
        str(tmp_path / "o.csv"),
    ]
    refused = _cli(*args)
    assert refused.returncode == 2
    assert "Wobbly_Thing" in refused.stderr
    assert "--allow-new-labels" in refused.stderr
    assert not (tmp_path / "o.csv").exists()
    allowed = _cli(*args, "--allow-new-labels")
    assert allowed.returncode == 0, allowed.stderr
    assert pd.read_csv(tmp_path / "o.csv", dtype=str)["label"].iat[0] == "Wobbly_Thing"


def test_out_may_not_be_the_original(trainingset_copy: Path, tmp_path: Path):
    (tmp_path / "d.csv").write_text(",".join(EXPORT_COLUMNS) + "\n")
    csv = trainingset_copy / "trainingset_v1d1_metadata.csv"
    before = _digest(csv)
    result = _cli(
        "apply-decisions", "--data", str(trainingset_copy), "--decisions", str(tmp_path / "d.csv"), "--out", str(csv)
    )
    assert result.returncode == 2
    assert "is the metadata CSV itself" in result.stderr
    assert _digest(csv) == before
