"""The archive's readers (ML classifications, volunteer consensus) on a synthetic archive of the real shape."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from precompute.archive.classifications import read_classifications
from precompute.archive.consensus import join_consensus, read_consensus
from precompute.archive.runs import O3_CLASSES, RUN_SPANS
from precompute.errors import DataError
from precompute.synth.archive import CONSENSUS_FILE, VOTES_FILE, ArchivePlan, Confusion, generate_archive


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """6,000 glitches over the eight detector-and-run files, the default planted confusions, votes on 1,200. Read-only."""
    return generate_archive(tmp_path_factory.mktemp("archive") / "a", glitches=6000, seed=3, votes=1200)


@pytest.fixture
def copy(archive, tmp_path) -> Path:
    """A private copy to damage."""
    return Path(shutil.copytree(archive, tmp_path / "copy"))


def _truth(root: Path) -> pd.DataFrame:
    return pd.read_parquet(root / "truth" / "archive_truth.parquet")


def test_every_file_is_read_by_name_with_its_own_class_set(archive):
    read = read_classifications(archive)
    truth = _truth(archive)
    assert len(read.glitches) == len(truth) == 6000
    assert sorted(p.name for p in read.files) == sorted(f"{d}_{r}.csv" for d in ("H1", "L1") for r in RUN_SPANS)
    assert set(O3_CLASSES) <= set(read.classes)
    o1 = (read.glitches["run"] == "O1").to_numpy()
    o3 = read.glitches["run"].str.startswith("O3").to_numpy()
    extra = [read.classes.index(c) for c in O3_CLASSES]
    assert np.isnan(read.scores[np.ix_(o1, extra)]).all()  # O1's classifier had no such class
    assert not np.isnan(read.scores[o3]).any()
    top = np.array(read.classes)[np.nanargmax(np.nan_to_num(read.scores, nan=-1), axis=1)]
    assert (top == read.glitches["ml_label"].to_numpy()).all()
    np.testing.assert_allclose(np.nansum(read.scores, axis=1), 1, atol=1e-4)
    assert {issue.kind for issue in read.report.issues} <= {"no-url"}  # a clean archive: only the '?' URLs
    assert read.glitches["url1"].isna().sum() > 0  # '?' and '' cells become missing, not a URL


def test_the_classifiers_planted_confusions_are_in_its_labels(archive):
    read = read_classifications(archive).glitches.merge(_truth(archive), on="gravityspy_id")
    for confusion in ArchivePlan().machine:
        mine = read[read["true_label"] == confusion.true]
        moved = (mine["ml_label"] == confusion.as_label).mean()
        assert moved == pytest.approx(confusion.share, abs=0.12), confusion
    clean = read[~read["true_label"].isin([c.true for c in ArchivePlan().machine])]
    assert (clean["ml_label"] == clean["true_label"]).mean() > 0.97


def test_the_consensus_joins_on_ids_with_the_volunteers_planted_confusions(archive):
    read = read_classifications(archive)
    consensus = read_consensus(archive / CONSENSUS_FILE)
    join_consensus(read, consensus)
    glitches = read.glitches.merge(_truth(archive), on="gravityspy_id")
    voted = glitches[glitches["volunteer_label"].notna()]
    assert len(voted) == len(consensus)
    assert 0.3 < len(voted) / len(glitches) < 0.5
    assert 0.1 < 1 - voted["retired"].astype(bool).mean() < 0.3
    whistle = voted[voted["true_label"] == "Whistle"]
    assert (whistle["volunteer_label"] == "Violin_Mode").mean() == pytest.approx(0.30, abs=0.12)
    planted = voted["volunteer_confusion"] >= 0
    assert (voted.loc[planted, "volunteer_label"] != voted.loc[planted, "true_label"]).all()
    untouched = ~planted & ~voted["volunteer_noise"].astype(bool)
    assert (voted.loc[untouched, "volunteer_label"] == voted.loc[untouched, "true_label"]).all()


def test_a_file_mixed_from_two_runs_and_detectors_is_reported_row_by_row(copy):
    o1, o3a = copy / "H1_O1.csv", copy / "L1_O3a.csv"
    intruders = pd.read_csv(o3a, dtype={"gravityspy_id": str}).head(7)
    intruders["gravityspy_id"] = [f"mixed{i:05d}" for i in range(7)]
    pd.concat([pd.read_csv(o1, dtype={"gravityspy_id": str}), intruders]).to_csv(o1, index=False)
    report = read_classifications(copy).report
    assert report.count("outside-run") == 7
    assert report.count("other-detector") == 7
    assert "H1_O1.csv outside O1's GPS span" in "\n".join(report.lines())


def test_duplicates_bad_scores_odd_columns_and_a_truncated_file_are_reported(copy):
    path = copy / "L1_O3b.csv"
    table = pd.read_csv(path, dtype={"gravityspy_id": str})
    table.loc[0, "Blip"] = table.loc[0, "Blip"] + 0.5  # no longer sums to 1
    table["Crown"] = 0.0  # a class this reader does not know: a score column, kept
    table["comment"] = "checked"  # neither trigger nor score
    duplicate = pd.read_csv(copy / "H1_O2.csv", dtype={"gravityspy_id": str}).iloc[[0]]
    table = pd.concat([table.iloc[:1], duplicate.assign(ifo="L1"), table.iloc[1:]], ignore_index=True)
    text = table.to_csv(index=False)
    path.write_text(text[: text.rstrip("\n").rfind("\n") + 40])  # cut inside the last row
    read = read_classifications(copy)
    report = read.report
    assert report.count("scores-not-normalised") >= 1
    assert "Crown" in read.classes
    assert report.count("unknown-class") == 1
    assert report.count("extra-column") == 1
    assert report.count("duplicate-id") == 1  # H1_O2.csv is read first: the L1_O3b row is the one dropped
    assert report.count("incomplete-row") == 1
    assert read.glitches["gravityspy_id"].is_unique


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_text(""), "is empty"),
        (
            lambda p: pd.read_csv(p).drop(columns=["ml_label"]).to_csv(p, index=False),
            r"lacks required column\(s\) ml_label",
        ),
        (lambda p: p.write_bytes(b"\xff\xfe\x00garbage\x00" * 50), "not a readable CSV"),
    ],
)
def test_an_unusable_catalogue_file_is_refused_with_its_name(copy, damage, message):
    damage(copy / "H1_O2.csv")
    with pytest.raises(DataError, match=message) as raised:
        read_classifications(copy)
    assert "H1_O2.csv" in str(raised.value)


def test_a_single_file_and_a_missing_path(archive, tmp_path):
    one = read_classifications(archive / "L1_O2.csv")
    assert set(one.glitches["run"]) == {"O2"}
    assert set(one.glitches["detector"]) == {"L1"}
    with pytest.raises(DataError, match="does not exist"):
        read_classifications(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no catalogue CSVs"):
        read_classifications(tmp_path / "empty")


def test_consensus_files_that_cannot_be_used_are_refused_with_the_fix(archive, tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_consensus(tmp_path / "none.hdf5")
    (tmp_path / "text.hdf5").write_text("not hdf5")
    with pytest.raises(DataError, match="not a readable pandas HDF5 store"):
        read_consensus(tmp_path / "text.hdf5")
    pd.DataFrame({"a": [1]}).to_hdf(tmp_path / "other.hdf5", key="votes")
    with pytest.raises(DataError, match="has no table 'image_db' \\(it has votes\\)"):
        read_consensus(tmp_path / "other.hdf5")
    pd.DataFrame({"gravityspy_id": ["x"], "final_label": ["Blip"]}).to_hdf(tmp_path / "cols.hdf5", key="image_db")
    with pytest.raises(DataError, match="lacks column\\(s\\) final_score, Nclassifications, retired"):
        read_consensus(tmp_path / "cols.hdf5")
    other = generate_archive(tmp_path / "other-archive", glitches=300, seed=99)
    with pytest.raises(DataError, match="matches none of the 6,000 catalogue ids"):
        join_consensus(read_classifications(archive), read_consensus(other / CONSENSUS_FILE))


def test_a_plan_naming_an_unknown_class_is_refused(tmp_path):
    from precompute.errors import PlanError

    plan = ArchivePlan(machine=(Confusion("Blip", "Crown", 0.2),))
    with pytest.raises(PlanError, match="unknown class 'Crown'"):
        generate_archive(tmp_path / "x", glitches=10, plan=plan)


def test_machine_against_volunteers_and_the_volunteer_labels_the_scores_doubt(archive):
    from precompute.archive.agreement import agreement, label_issues, machine_vs_volunteer, score_against_truth

    read = read_classifications(archive)
    join_consensus(read, read_consensus(archive / CONSENSUS_FILE))
    truth = _truth(archive)
    confusion = machine_vs_volunteer(read)
    retired = read.glitches["retired"].fillna(False).astype(bool) & read.glitches["volunteer_label"].notna()
    assert confusion.to_numpy().sum() == retired.sum()
    assert (
        confusion.at["Violin_Mode", "Whistle"] > confusion.at["Whistle", "Violin_Mode"]
    )  # the volunteers' planted slip
    assert 0.8 < agreement(confusion) < 0.97

    issues = label_issues(read)
    runs = read.glitches.set_index("gravityspy_id")["run"]
    o3_only = issues["volunteer_label"].isin(O3_CLASSES) & ~issues["gravityspy_id"].map(runs).str.startswith("O3")
    assert not o3_only.any()  # a label the run's classifier had no class for is not scored
    assert issues["label_quality"].is_monotonic_increasing  # most doubtful first
    planted = truth.set_index("gravityspy_id")["volunteer_confusion"]
    moved = issues["gravityspy_id"].map(planted).fillna(-1).to_numpy() >= 0
    assert issues.loc[moved, "issue"].mean() > 0.8  # the planted volunteer errors are found
    scores = score_against_truth(read, issues, truth)
    assert scores["flagged_recall"] > 0.7  # 0.90 at 700,000 glitches (docs/validation.md); 6,000 here
    assert 0.5 < scores["flagged_precision"] < 1.0  # the machine's own planted confusions cost false flags
    assert scores["machine_accuracy"] > 0.9


def test_archive_audit_writes_its_tables_and_scores_a_synthetic_archive(archive, tmp_path):
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "audit"
    result = subprocess.run(
        [sys.executable, "-m", "precompute", "archive-audit", "--archive", str(archive), "--consensus",
         str(archive / CONSENSUS_FILE), "--out", str(out), "--truth", str(archive / "truth"),
         "--votes", str(archive / VOTES_FILE)],
        cwd=root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["glitches"] == 6000
    assert summary["against_truth"]["flagged_recall"] > 0.7
    assert pd.read_csv(out / "machine_vs_volunteer.csv", index_col=0).to_numpy().sum() > 0
    assert len(pd.read_csv(out / "volunteer_label_issues.csv")) == summary["volunteer_labels_scored"]
    assert summary["votes"]["glitches"] == 1200
    assert summary["crowdlab_against_truth"]["volunteer_quality_vs_skill_spearman"] > 0.6
    assert len(pd.read_csv(out / "crowdlab_volunteers.csv")) == summary["votes"]["volunteers"]


def test_votes_are_read_and_crowdlab_ranks_the_volunteers_by_their_planted_skill(archive):
    from precompute.archive.votes import crowdlab, crowdlab_against_truth, read_votes

    votes, report = read_votes(archive / VOTES_FILE)
    assert votes["gravityspy_id"].nunique() == 1200
    assert "subject_id" in "\n".join(report.lines())  # says which metadata key held the ids
    glitches, volunteers = crowdlab(votes, read_classifications(archive))
    scores = crowdlab_against_truth(glitches, volunteers, votes, archive / "truth")
    assert scores["crowdlab_accuracy"] >= scores["majority_vote_accuracy"] - 0.01
    assert scores["crowdlab_accuracy"] > 0.95
    assert scores["volunteer_quality_vs_skill_spearman"] > 0.6  # 0.92 measured at 1,500 glitches
    assert volunteers["quality"].is_monotonic_increasing  # the least reliable first


def test_a_vote_export_with_bad_rows_keeps_the_good_ones_and_names_the_bad(archive, tmp_path):
    from precompute.archive.votes import read_votes

    table = pd.read_csv(archive / VOTES_FILE).head(20)
    table.loc[0, "annotations"] = '[{"task": "T1", "value": [{"choice": "BLIP"'  # cut short
    table.loc[1, "annotations"] = '[{"task": "T1", "value": [{"choice": "CROWN", "answers": {}}]}]'
    table.loc[2, "subject_data"] = '{"1": {"retired": null}}'
    table = pd.concat([table, table.iloc[[5]]])  # the same vote twice
    path = tmp_path / "votes.csv"
    table.to_csv(path, index=False)
    votes, report = read_votes(path)
    assert len(votes) == 17
    assert report.count("malformed-annotations") == 1
    assert "line 2" in "\n".join(report.lines())  # the header is line 1
    assert report.count("unknown-choice") == 1
    assert report.count("no-glitch-id") == 1
    assert report.count("repeated-vote") == 1
    with pytest.raises(DataError, match=r"yields no usable vote .* pass --vote-id-field"):
        read_votes(path, id_field="uniqueID")
    table.head(3).assign(annotations="not json").to_csv(path, index=False)
    with pytest.raises(DataError, match="3 malformed"):
        read_votes(path)
