"""Bad input: exit status 1, one line on stderr naming the file (and record), no traceback,
and nothing written — not the output, not a temporary file beside it. --debug re-raises."""

from __future__ import annotations

import gzip
import os
import random
import stat

import pytest
from conftest import (
    dna_records,
    fails,
    listing,
    ok,
    random_dna,
    run,
    write_fasta,
    write_fastq,
    write_table,
)

from seqclass.errors import InputError


@pytest.fixture
def dirs(tmp_path):
    """(input dir, output dir), both existing; the output dir starts empty."""
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    return tmp_path / "in", tmp_path / "out"


def dna_pair(directory, n=10):
    recs = dna_records(n_per_class=n)
    return (write_fasta(directory / "pos.fa", recs["pos"]),
            write_fasta(directory / "neg.fa", recs["neg"]))


# ---------------------------------------------------------------- sequence files

def test_invalid_characters(capsys, dirs):
    src, out = dirs
    pos, neg = dna_pair(src)
    with open(pos, "a") as fh:
        fh.write(">bad1 planted\nACGTXZ!\n")
    line = fails(capsys, ["build", "--out", out / "d.parquet", "--input", pos, neg],
                 [pos, "'bad1'", "'X'"], [src, out])
    assert "position 5" in line


def test_invalid_characters_in_predict(capsys, dirs, pipeline):
    src, out = dirs
    bad = write_fasta(src / "bad.fa", [("ok1", "ACGTACGTAC" * 5), ("bad2", "ACGTXZ!")])
    fails(capsys, ["predict", "--model", pipeline.model, "--input", bad, "--out", out / "p.tsv"],
          [bad, "'bad2'", "'X'"], [src, out])


def test_empty_file(capsys, dirs, pipeline):
    src, out = dirs
    pos, _ = dna_pair(src)
    empty = src / "empty.fa"
    empty.write_text("")
    fails(capsys, ["build", "--out", out / "d.parquet", "--input", pos, empty],
          [empty, "empty"], [src, out])
    fails(capsys, ["predict", "--model", pipeline.model, "--input", empty, "--out", out / "p.tsv"],
          [empty, "empty"], [src, out])


def test_blank_lines_only(capsys, dirs):
    src, out = dirs
    blank = src / "blank.fq"
    blank.write_text("\n\n  \n")
    fails(capsys, ["build", "--out", out / "d.parquet", "--input", blank], [blank, "empty"],
          [src, out])


def _truncated_gzip(path, n_records=6000):
    rng = random.Random(8)
    with gzip.open(path, "wt") as fh:
        for i in range(n_records):
            fh.write(f">r{i}\n{random_dna(rng, 50)}\n")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def test_truncated_gzip(capsys, dirs, pipeline):
    src, out = dirs
    pos, _ = dna_pair(src)
    gz = _truncated_gzip(src / "cut.fa.gz")
    fails(capsys, ["build", "--out", out / "d.parquet", "--input", pos, gz],
          [gz, "truncated or corrupt gzip"], [src, out])
    # predict writes a batch of 2048 records before it reaches the cut: the partial output
    # and its temporary file must both disappear
    fails(capsys, ["predict", "--model", pipeline.model, "--input", gz, "--out", out / "p.tsv",
                   "--tracks", out / "t.tsv"], [gz, "gzip"], [src, out])
    fails(capsys, ["predict", "--model", pipeline.model, "--input", gz, "--out", out / "p.parquet"],
          [gz, "gzip"], [src, out])


def test_not_a_sequence_file(capsys, dirs):
    src, out = dirs
    junk = src / "junk.fa"
    junk.write_text("hello world\n")
    fails(capsys, ["build", "--out", out / "d.parquet", "--input", junk], [junk, "not FASTA"],
          [src, out])
    binary = src / "bin.fa"
    binary.write_bytes(b">x\nAC\xff\xfeGT\n")
    fails(capsys, ["build", "--out", out / "d.parquet", "--input", binary], [binary], [src, out])


def test_fastq_quality_length_differs(capsys, dirs):
    src, out = dirs
    fq = src / "reads.fq"
    write_fastq(fq, [("r1", "ACGTACGTAA"), ("r2", "GGGGCCCCAA")])
    fq.write_text(fq.read_text().replace("@r2\nGGGGCCCCAA\n+\nIIIIIIIIII", "@r2\nGGGGCCCCAA\n+\nIIII"))
    _, neg = dna_pair(src)
    line = fails(capsys, ["build", "--out", out / "d.parquet", "--input", fq, neg],
                 [fq, "'r2'", "quality length 4"], [src, out])
    assert "sequence length 10" in line


def test_truncated_fastq(capsys, dirs):
    src, out = dirs
    fq = src / "reads.fastq"
    fq.write_text("@r1\nACGT\n+\nIIII\n@r2\nACGT\n")
    fails(capsys, ["build", "--out", out / "d.parquet", "--input", fq], [fq, "'r2'", "truncated"],
          [src, out])


# ---------------------------------------------------------------- tables and ids

def test_table_missing_label_column(capsys, dirs):
    src, out = dirs
    table = write_table(src / "t.csv", [("a", "ACGTACGT"), ("b", "GGGGCCCC")], columns=("id", "sequence"))
    fails(capsys, ["build", "--out", out / "d.parquet", "--input", table], [table, "label"],
          [src, out])


def test_table_missing_sequence_column(capsys, dirs):
    src, out = dirs
    table = write_table(src / "t.tsv", [("a", "x")], columns=("id", "label"))
    fails(capsys, ["build", "--out", out / "d.parquet", "--input", table], [table, "sequence"],
          [src, out])


def test_samplesheet_missing_columns(capsys, dirs):
    src, out = dirs
    sheet = src / "sheet.csv"
    sheet.write_text("sample,path\nS1,a.fa\n")
    fails(capsys, ["build", "--out", out / "d.parquet", "--samplesheet", sheet],
          [sheet, "label", "file"], [src, out])


def test_duplicate_ids_with_different_sequences(capsys, dirs):
    src, out = dirs
    a = write_fasta(src / "a.fa", [("x", "ACGTACGTAAAC"), ("y", "TTTTACGTAAAC")])
    b = write_fasta(src / "b.fa", [("x", "GGGGCCCCAAAA")])
    line = fails(capsys, ["build", "--out", out / "d.parquet", "--input", a, b],
                 [b, "'x'", "duplicate id"], [src, out])
    assert "--rename-duplicate-ids" in line
    ok("build", "--out", out / "d.parquet", "--input", a, b, "--rename-duplicate-ids")
    assert (out / "d.parquet").exists()


# ---------------------------------------------------------------- model vs data

def test_dna_model_on_protein_input(capsys, dirs, pipeline):
    src, out = dirs
    prot = pipeline.root / "kinase.faa"
    line = fails(capsys, ["predict", "--model", pipeline.model, "--input", prot,
                          "--out", out / "p.tsv"], [prot, "protein", "dna"], [out])
    assert "trained on dna" in line


def test_dna_model_on_protein_dataset(capsys, dirs, pipeline):
    _, out = dirs
    fails(capsys, ["evaluate", "--model", pipeline.model, "--dataset", pipeline.protein_dataset,
                   "--out", out / "ev"], [pipeline.protein_dataset, "protein", "dna"], [out])


def test_unknown_label_in_evaluate(capsys, dirs, pipeline):
    src, out = dirs
    recs = dna_records(n_per_class=5)
    pos = write_fasta(src / "pos.fa", recs["pos"])
    weird = write_fasta(src / "weird.fa", recs["neg"])
    ok("build", "--out", src / "d.parquet", "--input", pos, weird)
    fails(capsys, ["evaluate", "--model", pipeline.model, "--dataset", src / "d.parquet", "--split",
                   "all", "--out", out / "ev"], [src / "d.parquet", "'weird'", "'neg0'"], [src, out])


def test_not_a_model_directory(capsys, dirs, pipeline):
    src, out = dirs
    fails(capsys, ["predict", "--model", src, "--input", pipeline.fastas["pos"],
                   "--out", out / "p.tsv"], [src, "config.json"], [out])


def test_not_a_seqclass_table(capsys, dirs):
    src, out = dirs
    table = write_table(src / "plain.parquet", [("a", "ACGT", "x")])
    fails(capsys, ["split", "--dataset", table, "--out", out / "s.parquet"], [table, "seqclass build"],
          [src, out])
    text = src / "text.parquet"
    text.write_text("not parquet")
    fails(capsys, ["chunk", "--dataset", text, "--out", out / "c.parquet", "--window", "10"],
          [text, "Parquet"], [src, out])


# ---------------------------------------------------------------- paths

def test_output_equals_input(capsys, dirs, pipeline):
    src, out = dirs
    pos, neg = dna_pair(src)
    original = pos.read_bytes()
    fails(capsys, ["build", "--out", pos, "--input", pos, neg], [pos, "refusing"], [src, out])
    assert pos.read_bytes() == original

    ok("build", "--out", src / "d.parquet", "--input", pos, neg)
    dataset = (src / "d.parquet").read_bytes()
    fails(capsys, ["split", "--dataset", src / "d.parquet", "--out", src / "d.parquet",
                   "--clusterer", "builtin"], [src / "d.parquet", "refusing"], [src, out])
    fails(capsys, ["chunk", "--dataset", src / "d.parquet", "--out", src / "d.parquet",
                   "--window", "50"], [src / "d.parquet"], [src, out])
    assert (src / "d.parquet").read_bytes() == dataset

    table = write_table(src / "t.tsv", [("a", "ACGTACGTACGT")], columns=("id", "sequence"))
    fails(capsys, ["predict", "--model", pipeline.model, "--input", table, "--out", table],
          [table, "refusing"], [src, out])
    assert table.read_text() == "id\tsequence\na\tACGTACGTACGT\n"


def test_output_equals_model_directory(capsys, tmp_path, pipeline):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(pipeline.model, model)
    before = {p.name: p.read_bytes() for p in model.iterdir()}
    fails(capsys, ["evaluate", "--model", model, "--dataset", pipeline.split, "--out", model],
          [model, "refusing"], [tmp_path])
    fails(capsys, ["train", "--dataset", pipeline.split, "--family", "kmer-logreg",
                   "--out", pipeline.split], [pipeline.split, "refusing"], [tmp_path])
    assert {p.name: p.read_bytes() for p in model.iterdir()} == before


@pytest.mark.parametrize("step", ["build", "build-label", "split", "chunk", "train", "evaluate",
                                  "predict", "predict-model"])
def test_missing_input_file(capsys, dirs, pipeline, step):
    src, out = dirs
    missing, table, model = src / "missing.fa", src / "missing.parquet", src / "nomodel"
    args, named = {
        "build": (["build", "--out", out / "d.parquet", "--input", missing], missing),
        "build-label": (["build", "--out", out / "d.parquet", "--input", f"pos={missing}"], missing),
        "split": (["split", "--dataset", table, "--out", out / "s.parquet"], table),
        "chunk": (["chunk", "--dataset", table, "--out", out / "c.parquet", "--window", "10"], table),
        "train": (["train", "--dataset", table, "--family", "kmer-logreg", "--out", out / "m"], table),
        "evaluate": (["evaluate", "--model", pipeline.model, "--dataset", table, "--out", out / "ev"],
                     table),
        "predict": (["predict", "--model", pipeline.model, "--input", missing, "--out", out / "p.tsv"],
                    missing),
        "predict-model": (["predict", "--model", model, "--input", pipeline.fastas["pos"],
                           "--out", out / "p.tsv"], model),
    }[step]
    line = fails(capsys, args, [named], [src, out])
    assert "not found" in line


def test_bad_options(capsys, dirs, pipeline):
    src, out = dirs
    fails(capsys, ["predict", "--model", pipeline.model, "--input", pipeline.fastas["pos"],
                   "--out", out / "p.csv"], [out / "p.csv", ".tsv"], [out])
    fails(capsys, ["split", "--dataset", pipeline.dataset, "--out", out / "s.parquet",
                   "--fractions", "0.5,0.5"], ["--fractions"], [out])
    fails(capsys, ["chunk", "--dataset", pipeline.split, "--out", out / "c.parquet",
                   "--window", "0"], ["--window"], [out])
    fails(capsys, ["chunk", "--dataset", pipeline.protein_dataset, "--out", out / "c.parquet",
                   "--window", "10", "--rc-prob", "0.5"], [pipeline.protein_dataset, "DNA"], [out])
    fails(capsys, ["build", "--out", out / "d.parquet", "--input", pipeline.fastas["pos"],
                   "--label-from", "nonsense"], ["--label-from"], [out])


# ---------------------------------------------------------------- --debug

def test_debug_raises(dirs):
    src, out = dirs
    with pytest.raises(InputError) as info:
        run("--debug", "build", "--out", out / "d.parquet", "--input", src / "missing.fa")
    assert info.value.path == str(src / "missing.fa")
    pos, _ = dna_pair(src)
    with open(pos, "a") as fh:
        fh.write(">bad1\nACGTXZ!\n")
    with pytest.raises(InputError) as info:
        run("--debug", "build", "--out", out / "d.parquet", "--input", pos)
    assert info.value.record == "bad1"
    assert listing(out) == set()


# ---------------------------------------------------------------- outputs are whole and readable

def test_outputs_get_the_umask_mode(dirs):
    src, out = dirs
    pos, neg = dna_pair(src)
    old = os.umask(0o022)
    try:
        ok("build", "--out", out / "d.parquet", "--input", pos, neg)
        ok("split", "--dataset", out / "d.parquet", "--out", out / "s.parquet", "--strategy",
           "random")
        ok("train", "--dataset", out / "s.parquet", "--family", "gc-logreg", "--out", out / "m")
    finally:
        os.umask(old)
    for path in [out / "d.parquet", out / "d.summary.json", out / "s.leakage.tsv", out / "m",
                 out / "m" / "config.json"]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), f"{path}: {oct(mode)}"
