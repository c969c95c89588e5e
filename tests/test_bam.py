"""The aligned-reads route: `build --bam` and `predict --bam` on simulated TB-style data.

The module fixture runs seqclass.data.simulate_tb on its tiny panel (3 genes of 300 bp, 3
drugs, 20 samples at ~20x: wgsim, bwa mem, samtools; about a second) and the tests check the
consensus against the planted SNPs, the phenotype tables, a train → evaluate → predict round
with one 0/1 column per drug, and bad input. Skips without wgsim, bwa, samtools or pysam.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import has, listing, ok
from test_bad_input import fails

from seqclass.io import alignments

REPO = Path(__file__).resolve().parents[1]
SPACER = 20  # `build --spacer` default, asserted in test_concatenated_layout_and_labels


@pytest.fixture(scope="module")
def sim(tmp_path_factory) -> Path:
    missing = [t for t in ("wgsim", "bwa", "samtools") if not has(t)]
    if missing:
        pytest.skip(f"not on PATH: {', '.join(missing)} (apt-get install samtools bwa)")
    pytest.importorskip("pysam", reason="the bam extra: pip install pysam")
    out = tmp_path_factory.mktemp("simulated_tb")
    subprocess.run([sys.executable, "-m", "seqclass.data.simulate_tb", "--outdir", str(out),
                    "--panel", "tiny", "--samples", "20", "--gene-length", "300", "--coverage", "20",
                    "--resistance-rate", "0.3", "--seed", "1", "--threads", "2"],
                   check=True, capture_output=True)
    return out


def bams(sim: Path) -> list[Path]:
    return sorted((sim / "bam").glob("*.bam"))


def bam_args(sim: Path, regions: Path | None = None) -> list:
    return ["--bam", *bams(sim), "--regions", regions or sim / "regions.bed",
            "--reference", sim / "reference.fa"]


def regions_of(sim: Path) -> list[tuple[str, int, int, str]]:
    return [(c, int(s), int(e), n) for c, s, e, n in
            (line.split("\t") for line in (sim / "regions.bed").read_text().split("\n") if line)]


def true_genomes(sim: Path) -> dict[str, str]:
    """sample → its genes with its planted SNPs, joined as `build --bam` joins them."""
    chrom = "".join(line for line in (sim / "reference.fa").read_text().split("\n")[1:])
    truth = pd.read_csv(sim / "truth.tsv", sep="\t", keep_default_na=False)
    samples = pd.read_csv(sim / "phenotypes.csv")["sample"]
    out = {}
    for sample in samples:
        genome = list(chrom)
        for row in truth[truth["sample"] == sample].itertuples():
            assert genome[row.position - 1] == row.ref
            genome[row.position - 1] = row.alt
        out[sample] = ("N" * SPACER).join("".join(genome[s:e]) for _, s, e, _ in regions_of(sim))
    return out


@pytest.fixture(scope="module")
def dataset(sim, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bam_build") / "dataset.parquet"
    ok("build", *bam_args(sim), "--phenotypes", sim / "phenotypes.csv", "--out", out)
    return out


# ---------------------------------------------------------------- consensus

def test_concatenated_layout_and_labels(sim, dataset):
    from seqclass.steps.build import Config

    assert Config.__dataclass_fields__["spacer"].default == SPACER
    table = pq.read_table(dataset)
    assert table.column_names == ["id", "sequence", "label", "source", "length", "sample", "region"]
    rows = table.to_pandas().set_index("id")
    expected = true_genomes(sim)
    assert sorted(rows.index) == sorted(expected)
    for sample, genome in expected.items():
        # at ~20x with a 0.2% error rate every base is called, and called right: the planted
        # SNPs at their positions, the reference everywhere else, Ns only in the spacers
        assert rows.loc[sample, "sequence"] == genome, sample
    assert set(rows["region"]) == {"katG+inhA_promoter+rpoB"}
    assert list(rows["sample"]) == list(rows.index)
    pheno = pd.read_csv(sim / "phenotypes.csv").set_index("sample")
    for sample, label in rows["label"].items():
        assert label == ";".join(d for d in pheno.columns if pheno.loc[sample, d] == 1)
    meta = json.loads(table.schema.metadata[b"seqclass"])
    assert meta["task"] == "multilabel" and meta["alphabet"] == "dna"
    assert meta["classes"] == ["ethionamide", "isoniazid", "rifampicin"]
    summary = json.loads(dataset.with_name("dataset.summary.json").read_text())
    assert summary["label_sets"].get("", 0) == int((pheno.sum(axis=1) == 0).sum())
    stats = summary["consensus"]["samples"]
    assert all(s["low_depth"] == 0 and s["positions"] == 900 and s["mean_depth"] > 10
               for s in stats.values())


def test_per_region_one_based_table_and_uncovered_region(sim, dataset, tmp_path):
    """CSV regions are 1-based and inclusive; a region without reads is all N."""
    regions = regions_of(sim)
    chrom, _, gap_start, _ = regions[0]
    uncovered = (chrom, gap_start + 450, gap_start + 500, "intergenic")  # between two genes' reads
    pd.DataFrame([(c, s + 1, e, n) for c, s, e, n in [*regions, uncovered]],
                 columns=["chrom", "start", "end", "name"]).to_csv(tmp_path / "regions.csv", index=False)
    out = tmp_path / "per_region.parquet"
    ok("build", *bam_args(sim, tmp_path / "regions.csv"), "--phenotypes", sim / "phenotypes.csv",
       "--per-region", "--out", out)
    rows = pq.read_table(out).to_pandas().set_index("id")
    whole = pq.read_table(dataset).to_pandas().set_index("id")
    sample = whole.index[0]
    parts = whole.loc[sample, "sequence"].split("N" * SPACER)
    for (_, _, _, name), part in zip(regions, parts):
        assert rows.loc[f"{sample}|{name}", "sequence"] == part
        assert rows.loc[f"{sample}|{name}", "region"] == name
        assert rows.loc[f"{sample}|{name}", "label"] == whole.loc[sample, "label"]
    assert rows.loc[f"{sample}|intergenic", "sequence"] == "N" * 50
    assert len(rows) == 4 * len(whole)
    summary = json.loads(out.with_name("per_region.summary.json").read_text())
    assert summary["consensus"]["samples"][sample]["low_depth"] == 50


def test_long_phenotype_table_gives_the_same_labels(sim, dataset, tmp_path):
    wide = pd.read_csv(sim / "phenotypes.csv")
    wide.melt(id_vars="sample", var_name="drug", value_name="resistant").to_csv(
        tmp_path / "long.tsv", sep="\t", index=False)
    out = tmp_path / "long.parquet"
    ok("build", *bam_args(sim), "--phenotypes", tmp_path / "long.tsv", "--out", out)
    labels = pq.read_table(dataset).column("label").to_pylist()
    assert pq.read_table(out).column("label").to_pylist() == labels


def test_call_masks_low_depth_deletions_and_ties():
    counts = np.array([  # rows A, C, G, T, deletion; columns five positions
        [9, 0, 2, 3, 0],
        [0, 7, 0, 3, 0],
        [0, 0, 0, 0, 0],
        [1, 0, 0, 0, 4],
        [0, 1, 8, 0, 0]])
    seq, stats = alignments.call(counts, min_depth=5)
    # col 0: A; col 1: C; col 2: deletion → N; col 3: A/C tie → N; col 4: depth 4 → N
    assert seq == "ACNNN"
    assert stats == {"low_depth": 1, "deletion": 1, "tie": 1, "depth_sum": 10 + 8 + 10 + 6 + 4}


def test_documented_in_formats(dataset, tmp_path):
    from test_formats import (
        FORMATS,
        check_columns,
        check_json,
        parquet_columns,
        parquet_meta,
        parse,
        read_json,
    )

    doc = parse(FORMATS.read_text())
    bam = frozenset({"bam"})
    check_columns(doc["dataset.parquet"], parquet_columns(dataset), "bam dataset", text=False, tags=bam)
    check_json(doc["dataset.summary.json"], read_json(dataset.with_name("dataset.summary.json")),
               "bam summary", bam)
    check_json(doc["seqclass metadata"], parquet_meta(dataset), "bam dataset metadata")
    ok("split", "--dataset", dataset, "--strategy", "random", "--out", tmp_path / "split.parquet")
    check_columns(doc["split.parquet"], parquet_columns(tmp_path / "split.parquet"), "bam split",
                  text=False, tags=bam)


# ---------------------------------------------------------------- train, evaluate, predict

def test_train_evaluate_predict_one_column_per_drug(sim, dataset, tmp_path):
    split, model = tmp_path / "split.parquet", tmp_path / "model"
    ok("split", "--dataset", dataset, "--strategy", "random", "--fractions", "0.6,0.2,0.2",
       "--out", split)
    table = pq.read_table(split)
    assert table.column_names[-2:] == ["sample", "region"]  # the dataset's extra columns survive
    ok("train", "--dataset", split, "--family", "kmer-logreg", "--kmer-size", "4", "--out", model)
    ok("evaluate", "--model", model, "--dataset", split, "--split", "all", "--out", tmp_path / "eval")
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["task"] == "multilabel" and metrics["n"] == 20
    ok("predict", "--model", model, *bam_args(sim), "--out", tmp_path / "calls.tsv")
    calls = pd.read_csv(tmp_path / "calls.tsv", sep="\t", keep_default_na=False)
    drugs = ["ethionamide", "isoniazid", "rifampicin"]
    assert list(calls.columns) == ["id", "label", *(f"call_{d}" for d in drugs),
                                   *(f"prob_{d}" for d in drugs), "ood_score", "ood"]
    assert list(calls["id"]) == [p.name[:-4] for p in bams(sim)]
    for row in calls.itertuples(index=False):
        called = [d for d in drugs if getattr(row, f"call_{d}") == 1]
        assert row.label == ";".join(called)
        assert all(getattr(row, f"call_{d}") == int(getattr(row, f"prob_{d}") >= 0.5) for d in drugs)


def test_cnn_flatten_on_the_fixed_layout(sim, dataset, tmp_path, one_torch_thread):
    """The per-position one-hot route: every sample's consensus has one length and layout."""
    pytest.importorskip("torch")
    split, model = tmp_path / "split.parquet", tmp_path / "cnn"
    ok("split", "--dataset", dataset, "--strategy", "random", "--out", split)
    length = pq.read_table(dataset).column("length").to_pylist()[0]
    ok("train", "--dataset", split, "--family", "cnn", "--pooling", "flatten", "--max-len", length,
       "--channels", "8", "--conv-layers", "1", "--pool-size", "4", "--max-steps", "3",
       "--batch-size", "8", "--out", model)
    ok("predict", "--model", model, *bam_args(sim), "--per-region", "--out", tmp_path / "p.parquet")
    assert {c for c in pq.read_table(tmp_path / "p.parquet").column_names if c.startswith("call_")} \
        == {"call_ethionamide", "call_isoniazid", "call_rifampicin"}


# ---------------------------------------------------------------- bad input

@pytest.fixture
def bad(sim, tmp_path):
    """A scratch copy of the simulated inputs, an empty output dir and the build command."""
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    for name in ("regions.bed", "reference.fa", "phenotypes.csv"):
        shutil.copy(sim / name, src / name)
    for bam in bams(sim)[:4]:
        shutil.copy(bam, src / bam.name)
        shutil.copy(f"{bam}.bai", src / f"{bam.name}.bai")
    pheno = pd.read_csv(src / "phenotypes.csv")
    pheno[pheno["sample"].isin([p.name[:-4] for p in bams(sim)[:4]])].to_csv(
        src / "phenotypes.csv", index=False)

    def build(**change):
        args = {"--bam": sorted(src.glob("*.bam")), "--regions": src / "regions.bed",
                "--reference": src / "reference.fa", "--phenotypes": src / "phenotypes.csv", **change}
        flat = ["build", "--out", out / "d.parquet"]
        for flag, value in args.items():
            flat += [flag, *(value if isinstance(value, list) else [value])]
        return flat
    return src, out, build


def test_bam_without_index(capsys, bad):
    src, out, build = bad
    (src / "sim001.bam.bai").unlink()
    fails(capsys, build(), [src / "sim001.bam", "samtools index"], [src, out])


@pytest.mark.parametrize("content", [b"", b"not a bam file\n", "truncated"])
def test_empty_or_truncated_bam(capsys, bad, content):
    src, out, build = bad
    bam = src / "sim002.bam"
    bam.write_bytes(bam.read_bytes()[:300] if content == "truncated" else content)
    fails(capsys, build(), [bam, "BAM"], [src, out])


def test_region_chromosome_missing(capsys, bad):
    src, out, build = bad
    with open(src / "regions.bed", "a") as fh:
        fh.write("chrX\t10\t50\tnowhere\n")
    fails(capsys, build(), [src / "regions.bed", "'nowhere'", "chrX"], [src, out])
    # in the reference but not in the BAM header
    with open(src / "reference.fa", "a") as fh:
        fh.write(">chrX\n" + "A" * 100 + "\n")
    fails(capsys, build(), ["sim001.bam", "'nowhere'", "not in the BAM header"], [src, out])


def test_reads_of_another_reference(capsys, bad):
    src, out, build = bad
    with open(src / "reference.fa", "a") as fh:
        fh.write("ACGT\n")  # sim_chr 4 bases longer than the BAM header says
    fails(capsys, build(), ["sim001.bam", "another reference"], [src, out])


def test_phenotype_problems(capsys, bad):
    src, out, build = bad
    pheno = pd.read_csv(src / "phenotypes.csv")
    pheno.iloc[1:].to_csv(src / "missing.csv", index=False)
    fails(capsys, build(**{"--phenotypes": src / "missing.csv"}),
          [src / "missing.csv", "'sim001'", "no phenotypes"], [src, out])
    extra = pd.concat([pheno, pheno.iloc[:1].assign(sample="sim999")])
    extra.to_csv(src / "extra.csv", index=False)
    fails(capsys, build(**{"--phenotypes": src / "extra.csv"}),
          [src / "extra.csv", "'sim999'", "without alignments"], [src, out])
    pheno.assign(rifampicin=2).to_csv(src / "two.csv", index=False)
    fails(capsys, build(**{"--phenotypes": src / "two.csv"}),
          [src / "two.csv", "rifampicin", "0 (susceptible) or 1 (resistant)"], [src, out])
    fails(capsys, [a for a in build() if a != "--phenotypes" and a != src / "phenotypes.csv"],
          ["--bam needs --phenotypes"], [src, out])


def test_bam_and_input_together(capsys, bad):
    src, out, build = bad
    fails(capsys, build(**{"--input": src / "reference.fa"}), ["alternative to --input"], [src, out])
    fails(capsys, ["build", "--input", src / "reference.fa", "--regions", src / "regions.bed",
                   "--out", out / "d.parquet"], ["--regions: only with --bam"], [src, out])


def test_predict_input_and_bam_are_alternatives(capsys, bad, dataset, tmp_path):
    src, out, _ = bad
    model = tmp_path / "model"
    ok("train", "--dataset", dataset, "--family", "gc-logreg", "--out", model)
    fails(capsys, ["predict", "--model", model, "--out", out / "p.tsv"], ["--input", "--bam"], [src, out])
    fails(capsys, ["predict", "--model", model, "--bam", src / "sim001.bam", "--out", out / "p.tsv"],
          ["--bam needs --regions and --reference"], [src, out])
    assert listing(out) == set()


def test_without_pysam_one_line_says_what_to_install(capsys, bad, monkeypatch):
    src, out, build = bad
    monkeypatch.setitem(sys.modules, "pysam", None)  # import pysam now raises ImportError
    fails(capsys, build(), ["pip install 'seqclass[bam]'"], [src, out])


def test_pipeline_recipe_uses_defined_params_and_the_generated_files(sim):
    """assets/recipes/tb_resistance.yml: every key is a pipeline param, every file one the
    generator writes (its paths assume `--outdir simulated_tb` in the launch directory)."""
    import yaml
    from test_nextflow_wiring import defined_params

    recipe = yaml.safe_load((REPO / "assets" / "recipes" / "tb_resistance.yml").read_text())
    assert set(recipe) <= set(defined_params(REPO / "nextflow.config")), recipe
    for key in ("reads", "reference", "regions", "phenotypes"):
        generated = Path(recipe[key])
        assert generated.parts[0] == "simulated_tb" and (sim / Path(*generated.parts[1:])).is_file(), key
    sheet = pd.read_csv(sim / "samplesheet.csv")
    assert list(sheet.columns) == ["sample", "fastq_1", "fastq_2"]
    assert all((sim / f).is_file() for f in [*sheet["fastq_1"], *sheet["fastq_2"]])
