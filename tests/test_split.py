"""`seqclass split`: homology (builtin, mmseqs, cd-hit), random and column strategies."""

from __future__ import annotations

import json
import random

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import dna_records, has, multilabel_rows, ok, random_dna, run, write_fasta, write_table


@pytest.fixture
def family_dataset(tmp_path):
    """80 planted-motif sequences plus 8 families of 4 near-identical copies (2% mutated)."""
    rng = random.Random(11)
    recs = dna_records(n_per_class=30)
    for f in range(8):
        label = "pos" if f % 2 else "neg"
        base = random_dna(rng, 200)
        for m in range(4):
            seq = list(base)
            for _ in range(4):
                p = rng.randrange(len(seq))
                seq[p] = rng.choice("ACGT".replace(seq[p], ""))
            recs[label].append((f"fam{f}_{m}", "".join(seq)))
    paths = [write_fasta(tmp_path / f"{label}.fa", items) for label, items in recs.items()]
    ok("build", "--out", tmp_path / "dataset.parquet", "--input", *paths)
    return tmp_path / "dataset.parquet"


def split_frame(path):
    return pq.read_table(path).to_pandas()


def test_homology_builtin_keeps_clusters_on_one_side(tmp_path, family_dataset):
    out = tmp_path / "split.parquet"
    ok("split", "--dataset", family_dataset, "--out", out, "--clusterer", "builtin")
    df = split_frame(out)
    assert list(df.columns) == ["id", "sequence", "label", "source", "length", "cluster", "split"]
    assert set(df["split"]) == {"train", "valid", "test"}
    sides = df.groupby("cluster")["split"].nunique()
    assert (sides == 1).all(), "a cluster is on two sides of the split"
    # the planted families were found: each family's copies share one cluster
    for f in range(8):
        assert df[df["id"].str.startswith(f"fam{f}_")]["cluster"].nunique() == 1
    assert df["cluster"].nunique() < len(df)
    meta = json.loads(pq.read_schema(out).metadata[b"seqclass"])
    assert meta["split"]["strategy"] == "homology" and meta["split"]["clusterer"] == "builtin"
    assert [p["step"] for p in meta["provenance"]] == ["build", "split"]


def test_leakage_report_and_summary(tmp_path, family_dataset):
    out = tmp_path / "split.parquet"
    ok("split", "--dataset", family_dataset, "--out", out, "--clusterer", "builtin")
    leak_path = tmp_path / "split.leakage.tsv"
    summary_path = tmp_path / "split.summary.json"
    assert leak_path.exists() and summary_path.exists()
    leak = pd.read_csv(leak_path, sep="\t", keep_default_na=False)
    assert list(leak.columns) == ["id", "label", "split", "max_identity", "query_coverage",
                                  "nearest_train_id", "above_threshold"]
    df = split_frame(out)
    held = df[df["split"] != "train"]
    assert sorted(leak["id"]) == sorted(held["id"])
    assert set(leak["split"]) <= {"valid", "test"}
    summary = json.loads(summary_path.read_text())
    assert summary["strategy"] == "homology" and summary["clusterer"] == "builtin"
    test_leak = summary["leakage"]["test"]
    assert test_leak["n"] == int((df["split"] == "test").sum())
    assert test_leak["share_above_threshold"] is not None
    assert 0.0 <= test_leak["share_above_threshold"] <= 1.0
    assert summary["leakage"]["threshold"] == 0.8
    assert sum(sum(c.values()) for c in summary["counts"].values()) == len(df)
    assert summary["n_groups"] == df["cluster"].nunique()
    assert summary["small_classes"] == {"action": "drop", "min_clusters": 1, "into": None,
                                        "classes": {}}


def test_random_split_fractions(tmp_path, family_dataset):
    out = tmp_path / "split.parquet"
    ok("split", "--dataset", family_dataset, "--out", out, "--strategy", "random",
       "--fractions", "0.5,0.25,0.25")
    df = split_frame(out)
    n = len(df)
    counts = df["split"].value_counts()
    assert abs(counts["train"] - n * 0.5) <= 2
    assert abs(counts["valid"] - n * 0.25) <= 2
    assert abs(counts["test"] - n * 0.25) <= 2
    assert df["cluster"].nunique() == n  # one group per sequence
    # stratified: both classes in every split
    assert (df.groupby("split")["label"].nunique() == 2).all()


def test_fractions_without_valid(tmp_path, family_dataset):
    out = tmp_path / "split.parquet"
    ok("split", "--dataset", family_dataset, "--out", out, "--strategy", "random",
       "--fractions", "0.7,0,0.3")
    df = split_frame(out)
    assert set(df["split"]) == {"train", "test"}
    summary = json.loads((tmp_path / "split.summary.json").read_text())
    assert summary["leakage"]["valid"] == {"n": 0, "share_above_threshold": None,
                                           "median_max_identity": None}


def test_column_strategy(tmp_path):
    recs = dna_records(n_per_class=24)
    paths = []
    for label, items in recs.items():
        for part in range(3):
            paths.append(write_fasta(tmp_path / f"{label}_{part}.fa", items[part::3]))
    labels = [f"{p.stem.split('_')[0]}={p}" for p in paths]
    ok("build", "--out", tmp_path / "d.parquet", "--input", *labels)
    out = tmp_path / "split.parquet"
    ok("split", "--dataset", tmp_path / "d.parquet", "--out", out, "--strategy", "column",
       "--group-column", "source", "--fractions", "0.34,0.33,0.33")
    df = split_frame(out)
    assert (df.groupby("source")["split"].nunique() == 1).all()
    assert set(df["split"]) == {"train", "valid", "test"}
    assert df["cluster"].nunique() == 6


def test_determinism_given_seed(tmp_path, family_dataset):
    for name in ("a", "b"):
        ok("split", "--dataset", family_dataset, "--out", tmp_path / f"{name}.parquet",
           "--clusterer", "builtin", "--seed", "5")
    ok("split", "--dataset", family_dataset, "--out", tmp_path / "c.parquet",
       "--strategy", "random", "--seed", "6")
    ok("split", "--dataset", family_dataset, "--out", tmp_path / "d.parquet",
       "--strategy", "random", "--seed", "7")
    a, b = split_frame(tmp_path / "a.parquet"), split_frame(tmp_path / "b.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert (tmp_path / "a.leakage.tsv").read_text() == (tmp_path / "b.leakage.tsv").read_text()
    c, d = split_frame(tmp_path / "c.parquet"), split_frame(tmp_path / "d.parquet")
    assert list(c["split"]) != list(d["split"])


@pytest.mark.skipif(not has("mmseqs"), reason="mmseqs not on PATH")
def test_homology_mmseqs(tmp_path, family_dataset):
    out = tmp_path / "split.parquet"
    ok("split", "--dataset", family_dataset, "--out", out, "--clusterer", "mmseqs")
    df = split_frame(out)
    assert (df.groupby("cluster")["split"].nunique() == 1).all()
    for f in range(8):
        assert df[df["id"].str.startswith(f"fam{f}_")]["cluster"].nunique() == 1
    summary = json.loads((tmp_path / "split.summary.json").read_text())
    assert summary["clusterer"] == "mmseqs"
    assert summary["leakage"]["search"] == "mmseqs"
    assert summary["leakage"]["test"]["share_above_threshold"] == 0.0
    leak = pd.read_csv(tmp_path / "split.leakage.tsv", sep="\t")
    assert (leak["max_identity"] < 0.8).all()


@pytest.mark.skipif(not has("cd-hit-est"), reason="cd-hit-est not on PATH")
def test_homology_cdhit(tmp_path, family_dataset):
    out = tmp_path / "split.parquet"
    ok("split", "--dataset", family_dataset, "--out", out, "--clusterer", "cdhit")
    df = split_frame(out)
    assert (df.groupby("cluster")["split"].nunique() == 1).all()
    for f in range(8):
        assert df[df["id"].str.startswith(f"fam{f}_")]["cluster"].nunique() == 1
    assert json.loads((tmp_path / "split.summary.json").read_text())["clusterer"] == "cdhit"


# ---------------------------------------------------------------- classes in too few groups

@pytest.fixture
def small_class_dataset(tmp_path):
    """pos and neg in three source files each; `rare` in two files, `odd` in one (4 rows each)."""
    rng = random.Random(5)
    recs = dna_records(n_per_class=24)
    inputs = []
    for label, items in recs.items():
        for part in range(3):
            inputs.append(f"{label}={write_fasta(tmp_path / f'{label}_{part}.fa', items[part::3])}")
    for name, parts in (("rare", 2), ("odd", 1)):
        for part in range(parts):
            items = [(f"{name}{part}_{i}", random_dna(rng, 150)) for i in range(4)]
            inputs.append(f"{name}={write_fasta(tmp_path / f'{name}_{part}.fa', items)}")
    ok("build", "--out", tmp_path / "d.parquet", "--input", *inputs)
    return tmp_path / "d.parquet"


def column_split(dataset, out, *extra):
    ok("split", "--dataset", dataset, "--out", out, "--strategy", "column", "--group-column",
       "source", "--fractions", "0.34,0.33,0.33", *extra)
    summary = json.loads(out.with_name(out.stem + ".summary.json").read_text())
    return split_frame(out), summary


def test_default_keeps_every_class(tmp_path, small_class_dataset):
    df, summary = column_split(small_class_dataset, tmp_path / "s.parquet")
    assert set(df["label"]) == {"pos", "neg", "rare", "odd"}
    assert summary["small_classes"] == {"action": "drop", "min_clusters": 1, "into": None,
                                        "classes": {}}


def test_min_class_clusters_drops_small_classes(tmp_path, small_class_dataset, capsys):
    capsys.readouterr()
    out = tmp_path / "s.parquet"
    df, summary = column_split(small_class_dataset, out, "--min-class-clusters", "3")
    assert summary["small_classes"] == {
        "action": "drop", "min_clusters": 3, "into": None,
        "classes": {"odd": {"rows": 4, "groups": 1}, "rare": {"rows": 8, "groups": 2}}}
    # only kept rows, placed as if the small classes had never been there
    assert set(df["label"]) == {"pos", "neg"} and len(df) == 48
    assert not df["id"].str.match(r"(rare|odd)").any()
    assert (df.groupby("split")["label"].nunique() == 2).all()
    assert (df.groupby("source")["split"].nunique() == 1).all()
    assert sorted(df["cluster"].unique()) == list(range(6))
    assert summary["n_groups"] == 6
    assert sum(sum(c.values()) for c in summary["counts"].values()) == 48
    leak = pd.read_csv(tmp_path / "s.leakage.tsv", sep="\t", keep_default_na=False)
    assert sorted(leak["id"]) == sorted(df[df["split"] != "train"]["id"])
    meta = json.loads(pq.read_schema(out).metadata[b"seqclass"])
    assert meta["classes"] == ["neg", "pos"]
    assert meta["provenance"][-1]["options"]["min_class_clusters"] == 3
    assert ("dropped 12 rows of classes in fewer than 3 groups: odd (4 rows, 1 group), "
            "rare (8 rows, 2 groups)") in capsys.readouterr().err


def test_merge_small_classes_into_a_new_class(tmp_path, small_class_dataset, capsys):
    capsys.readouterr()
    out = tmp_path / "s.parquet"
    df, summary = column_split(small_class_dataset, out, "--min-class-clusters", "3",
                               "--merge-small-classes", "other")
    assert summary["small_classes"] == {
        "action": "merge", "min_clusters": 3, "into": "other",
        "classes": {"odd": {"rows": 4, "groups": 1}, "rare": {"rows": 8, "groups": 2}}}
    dataset = split_frame(small_class_dataset).set_index("id")
    merged = df[df["id"].str.match(r"(rare|odd)")]
    assert len(merged) == 12 and set(merged["label"]) == {"other"}
    # the rows keep their sequence and source; only the label changes
    assert (merged.set_index("id")["sequence"] == dataset.loc[merged["id"], "sequence"]).all()
    assert set(df["label"]) == {"pos", "neg", "other"} and len(df) == 60
    # three groups between them: the merged class reaches every split
    assert (df.groupby("split")["label"].nunique() == 3).all()
    assert json.loads(pq.read_schema(out).metadata[b"seqclass"])["classes"] == ["neg", "other", "pos"]
    assert summary["counts"]["train"]["other"] + summary["counts"]["valid"]["other"] + \
        summary["counts"]["test"]["other"] == 12
    err = capsys.readouterr().err
    assert ("merged classes in fewer than 3 groups into other: odd (4 rows, 1 group), "
            "rare (8 rows, 2 groups)") in err
    assert "other itself" not in err  # three groups: enough


def test_merge_small_classes_into_an_existing_class(tmp_path, small_class_dataset):
    df, summary = column_split(small_class_dataset, tmp_path / "s.parquet",
                               "--min-class-clusters", "3", "--merge-small-classes", "neg")
    assert set(summary["small_classes"]["classes"]) == {"odd", "rare"}
    assert set(df["label"]) == {"pos", "neg"} and len(df) == 60
    assert set(df[df["id"].str.match(r"(rare|odd)")]["label"]) == {"neg"}
    assert sum(summary["counts"][s]["neg"] for s in ("train", "valid", "test")) == 24 + 12


def test_min_class_clusters_with_homology(tmp_path):
    """A class of near-identical copies is one cluster: dropped at --min-class-clusters 2."""
    rng = random.Random(4)
    recs = dna_records(n_per_class=20)
    base = random_dna(rng, 200)
    copies = []
    for m in range(5):
        seq = list(base)
        seq[rng.randrange(len(seq))] = "A"
        copies.append((f"copy{m}", "".join(seq)))
    paths = [write_fasta(tmp_path / f"{label}.fa", items) for label, items in recs.items()]
    paths.append(write_fasta(tmp_path / "family.fa", copies))
    ok("build", "--out", tmp_path / "d.parquet", "--input", *paths)
    out = tmp_path / "s.parquet"
    ok("split", "--dataset", tmp_path / "d.parquet", "--out", out, "--clusterer", "builtin",
       "--min-class-clusters", "2")
    summary = json.loads((tmp_path / "s.summary.json").read_text())
    assert summary["small_classes"]["classes"] == {"family": {"rows": 5, "groups": 1}}
    df = split_frame(out)
    assert set(df["label"]) == {"pos", "neg"} and len(df) == 40


def test_small_classes_multilabel(tmp_path):
    """A;B rows lose (or rename) only the small label; rows left with none are dropped."""
    rows = multilabel_rows(n=40)  # A, B, A;B, C ten times each
    rows += [(f"d{i}", random_dna(random.Random(i), 120), "B;D") for i in range(3)]
    rows += [(f"e{i}", random_dna(random.Random(50 + i), 120), "E") for i in range(2)]
    write_table(tmp_path / "multi.csv", rows)
    ok("build", "--out", tmp_path / "d.parquet", "--input", tmp_path / "multi.csv")
    ok("split", "--dataset", tmp_path / "d.parquet", "--out", tmp_path / "drop.parquet",
       "--strategy", "random", "--min-class-clusters", "5")
    df = split_frame(tmp_path / "drop.parquet").set_index("id")
    assert "e0" not in df.index and df.loc["d0", "label"] == "B"
    assert set(df["label"]) == {"A", "B", "A;B", "C"} and len(df) == 43
    summary = json.loads((tmp_path / "drop.summary.json").read_text())
    assert summary["small_classes"]["classes"] == {"D": {"rows": 3, "groups": 3},
                                                   "E": {"rows": 2, "groups": 2}}
    ok("split", "--dataset", tmp_path / "d.parquet", "--out", tmp_path / "merge.parquet",
       "--strategy", "random", "--min-class-clusters", "5", "--merge-small-classes", "C")
    df = split_frame(tmp_path / "merge.parquet").set_index("id")
    assert len(df) == 45 and df.loc["d0", "label"] == "B;C" and df.loc["e0", "label"] == "C"
    meta = json.loads(pq.read_schema(tmp_path / "merge.parquet").metadata[b"seqclass"])
    assert meta["classes"] == ["A", "B", "C"] and meta["task"] == "multilabel"


@pytest.mark.parametrize("args, mentions", [
    (["--min-class-clusters", "0"], ["--min-class-clusters 0", "at least 1"]),
    (["--min-class-clusters", "-2"], ["--min-class-clusters -2", "at least 1"]),
    (["--min-class-clusters", "3", "--merge-small-classes", ""], ["--merge-small-classes ''"]),
    (["--min-class-clusters", "3", "--merge-small-classes", "a;b"], ["--merge-small-classes 'a;b'"]),
    (["--min-class-clusters", "4"], ["d.parquet", "--min-class-clusters 4", "two or more"]),
    (["--min-class-clusters", "4", "--merge-small-classes", "all"], ["d.parquet", "merging"]),
])
def test_small_class_bad_values(tmp_path, small_class_dataset, capsys, args, mentions):
    out = tmp_path / "out"
    out.mkdir()
    capsys.readouterr()
    rc = run("split", "--dataset", small_class_dataset, "--out", out / "s.parquet", "--strategy",
             "column", "--group-column", "source", *args)
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seqclass split: error: "), err
    for text in mentions:
        assert text in lines[0], lines[0]
    assert list(out.iterdir()) == []
