"""`seqclass split`: homology (builtin, mmseqs, cd-hit), random and column strategies."""

from __future__ import annotations

import json
import random

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import dna_records, has, ok, random_dna, write_fasta


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
