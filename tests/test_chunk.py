"""`seqclass chunk`: window coordinates, random stretches, reverse-complement augmentation."""

from __future__ import annotations

import json
import random

import pyarrow.parquet as pq
import pytest
from conftest import ok, random_dna, write_fasta

from seqclass.sequence.alphabets import reverse_complement

CHUNK_COLUMNS = ["id", "parent_id", "start", "end", "strand", "sequence", "label", "split", "length"]


@pytest.fixture
def lengths_dataset(tmp_path):
    """Sequences of known lengths: a100 (100 nt), b25 (25 nt), c130 (130 nt) and more."""
    rng = random.Random(5)
    a = [("a100", random_dna(rng, 100)), ("b25", random_dna(rng, 25))]
    b = [("c130", random_dna(rng, 130))] + [(f"x{i}", random_dna(rng, 80)) for i in range(5)]
    write_fasta(tmp_path / "one.fa", a + [(f"y{i}", random_dna(rng, 90)) for i in range(5)])
    write_fasta(tmp_path / "two.fa", b)
    ok("build", "--out", tmp_path / "d.parquet", "--input", tmp_path / "one.fa", tmp_path / "two.fa")
    ok("split", "--dataset", tmp_path / "d.parquet", "--out", tmp_path / "split.parquet",
       "--strategy", "random", "--fractions", "0.5,0.25,0.25")
    return tmp_path / "split.parquet"


def chunks(path):
    return pq.read_table(path).to_pylist()


def parents(path):
    return {r["id"]: r for r in pq.read_table(path).to_pylist()}


def test_sliding_window_coordinates(tmp_path, lengths_dataset):
    out = tmp_path / "chunks.parquet"
    ok("chunk", "--dataset", lengths_dataset, "--out", out, "--window", "50", "--stride", "20")
    assert pq.read_table(out).column_names == CHUNK_COLUMNS
    rows = chunks(out)
    spans = {}
    for r in rows:
        spans.setdefault(r["parent_id"], []).append((r["start"], r["end"]))
    assert spans["a100"] == [(0, 50), (20, 70), (40, 90), (50, 100)]  # last window ends at the end
    assert spans["c130"] == [(0, 50), (20, 70), (40, 90), (60, 110), (80, 130)]
    assert spans["b25"] == [(0, 25)]  # shorter than the window: one chunk of its own length
    par = parents(lengths_dataset)
    for r in rows:
        parent = par[r["parent_id"]]
        assert r["sequence"] == parent["sequence"][r["start"]:r["end"]]
        assert r["length"] == r["end"] - r["start"] == len(r["sequence"])
        assert r["strand"] == "+"
        assert r["label"] == parent["label"] and r["split"] == parent["split"]
        assert r["id"] == f"{r['parent_id']}:{r['start']}-{r['end']}+"
    assert len({r["id"] for r in rows}) == len(rows)


def test_default_stride_is_window(tmp_path, lengths_dataset):
    out = tmp_path / "chunks.parquet"
    ok("chunk", "--dataset", lengths_dataset, "--out", out, "--window", "40")
    spans = [(r["start"], r["end"]) for r in chunks(out) if r["parent_id"] == "a100"]
    assert spans == [(0, 40), (40, 80), (60, 100)]
    meta = json.loads(pq.read_schema(out).metadata[b"seqclass"])
    assert meta["chunk"]["window"] == 40 and meta["chunk"]["stride"] == 40


def test_metadata_records_window_and_stride(tmp_path, lengths_dataset):
    out = tmp_path / "chunks.parquet"
    ok("chunk", "--dataset", lengths_dataset, "--out", out, "--window", "50", "--stride", "20")
    meta = json.loads(pq.read_schema(out).metadata[b"seqclass"])
    assert meta["chunk"]["window"] == 50 and meta["chunk"]["stride"] == 20
    assert meta["alphabet"] == "dna" and meta["classes"] == ["one", "two"]
    assert [p["step"] for p in meta["provenance"]] == ["build", "split", "chunk"]


def test_samples_per_seq(tmp_path, lengths_dataset):
    out = tmp_path / "chunks.parquet"
    ok("chunk", "--dataset", lengths_dataset, "--out", out, "--window", "30",
       "--samples-per-seq", "3", "--seed", "1")
    rows = chunks(out)
    par = parents(lengths_dataset)
    per_parent = {}
    for r in rows:
        per_parent.setdefault(r["parent_id"], []).append(r)
        assert 0 <= r["start"] < r["end"] <= par[r["parent_id"]]["length"]
        assert r["sequence"] == par[r["parent_id"]]["sequence"][r["start"]:r["end"]]
    assert len(per_parent["b25"]) == 1 and per_parent["b25"][0]["end"] == 25
    for pid, items in per_parent.items():
        if par[pid]["length"] > 30:
            assert len(items) == 3
            assert all(r["end"] - r["start"] == 30 for r in items)
    assert len({r["id"] for r in rows}) == len(rows)
    again = tmp_path / "again.parquet"
    ok("chunk", "--dataset", lengths_dataset, "--out", again, "--window", "30",
       "--samples-per-seq", "3", "--seed", "1")
    assert chunks(again) == rows


def test_rc_prob_one_augments_train_only(tmp_path, lengths_dataset):
    out = tmp_path / "chunks.parquet"
    ok("chunk", "--dataset", lengths_dataset, "--out", out, "--window", "50", "--stride", "25",
       "--rc-prob", "1.0")
    par = parents(lengths_dataset)
    rows = chunks(out)
    assert {r["split"] for r in rows} == {"train", "valid", "test"}
    for r in rows:
        forward = par[r["parent_id"]]["sequence"][r["start"]:r["end"]]
        if r["split"] == "train":
            assert r["strand"] == "-"
            assert r["sequence"] == reverse_complement(forward)
            assert r["id"].endswith("-")
        else:
            assert r["strand"] == "+"
            assert r["sequence"] == forward


def test_rc_augment_splits_option(tmp_path, lengths_dataset):
    out = tmp_path / "chunks.parquet"
    ok("chunk", "--dataset", lengths_dataset, "--out", out, "--window", "50",
       "--rc-prob", "1.0", "--augment-splits", "train,test")
    strands = {(r["split"], r["strand"]) for r in chunks(out)}
    assert strands == {("train", "-"), ("test", "-"), ("valid", "+")}


def test_chunk_dataset_without_split(tmp_path, lengths_dataset):
    out = tmp_path / "chunks.parquet"
    ok("chunk", "--dataset", tmp_path / "d.parquet", "--out", out, "--window", "60")
    rows = chunks(out)
    assert rows and all(r["split"] is None for r in rows)


def test_windows_one_at_a_time_are_sliding_windows():
    from seqclass.sequence.windows import iter_sliding, sliding

    for length in range(1, 120):
        for window, stride in ((1, 1), (7, 3), (50, 25), (100, 100), (100, 30)):
            spans = sliding(length, window, stride)
            assert list(iter_sliding(length, window, stride)) == spans
            assert spans[-1][1] == length and all(e - s == min(window, length) for s, e in spans)
