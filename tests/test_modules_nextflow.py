"""pytest twins of the nf-test module tests (modules/local/*/tests/main.nf.test).

nf-test cannot be installed here, so every nf-test case has a twin below that runs the same
module on the same inputs with the same params (and -stub where the case asks for it) through a
real `nextflow run` of the harness tests/modules/main.nf, under -profile test as nf-test.config
runs them, and asserts what the case asserts. The .nf.test files stay the tests that GitHub
Actions runs; a change to a case there needs the same change to its twin here.

An nf-test setup { } block becomes an earlier run whose outputs feed the case, as absolute paths.
Cases whose script: blocks run bwa or samtools skip when those are not on PATH; their stubs don't
(a missing tool leaves only an empty version behind).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml
from conftest import has
from nextflow_run import fixture, fixture_dir, run_module

TEST = {"id": "test"}
PROMOTER_MODEL = {"dir": "assets/demo/promoter.model"}
E_COLI = {"path": "assets/demo/e_coli_K12_0-20kb.fa"}
SIMULATED = "simulated_tb"  # the simulated aligned-reads fixture, under tests/fixtures/nf
REFERENCE = [{"id": "reference"}, fixture(f"{SIMULATED}/reference.fa")]  # BWA_INDEX's input
# SEQCLASS_BUILD's second input when it reads FASTA files: no BAMs, indexes, regions, reference
# or phenotypes
NO_BAMS = [[], [], [], [], []]
FASTAS = [TEST, ["promoter", "non_promoter"], [fixture("promoter.fa"), fixture("non_promoter.fa")]]
REPORT_TABLES = [TEST, fixture("dataset.summary.json"), fixture("split.summary.json"),
                 fixture("split.leakage.tsv")]
MULTIQC_CONFIG = {"path": "assets/multiqc_config.yml"}
PRETRAIN_CONFIG = "modules/local/pretrain/tests/nextflow.config"  # the cases' `config` line
FIXTURES = Path(__file__).parent / "fixtures" / "nf"


@pytest.fixture(scope="module")
def nxf_home(tmp_path_factory) -> Path:
    """One Nextflow home for every run of this file: each run starts from its own launch dir."""
    return tmp_path_factory.mktemp("nxf_home")


def run_ok(process: str, inputs: list, launch_dir: Path, home: Path, **options) -> dict:
    """run_module, asserting that the run succeeded (nf-test's `process.success`); returns what
    each output emitted."""
    run, out = run_module(process, inputs, launch_dir, home, **options)
    assert run.returncode == 0, run.output
    return out


def needs(*binaries: str) -> pytest.MarkDecorator:
    """Skip a case whose script: blocks run these tools when one of them is not on PATH."""
    missing = [binary for binary in binaries if not has(binary)]
    return pytest.mark.skipif(bool(missing), reason=f"{' and '.join(missing)} not on PATH")


def name(path: str) -> str:
    return Path(path).name


def names(items: list) -> list:
    """[[meta, file name], ...] of a tuple output: what the stub cases compare."""
    return [[meta, name(path)] for meta, path in items]


def assert_stub_outputs(out: dict, process: str, meta: dict, **files: str) -> None:
    """What the stub cases check: each tuple output emitted once, with the meta and its file
    name, and one versions.yml that names the process."""
    for emit, file_name in files.items():
        assert names(out[emit]) == [[meta, file_name]], emit
    assert [name(path) for path in out["versions"]] == ["versions.yml"]
    assert versions(out, process)


def flatten(items: list) -> list[str]:
    """Every path of an output whose items are one path or a list of them (Groovy's flatten())."""
    return [path for item in items for path in (item if isinstance(item, list) else [item])]


def lines(path: str | Path) -> list[str]:
    return Path(path).read_text().splitlines()


def table(path: str | Path) -> list[list[str]]:
    return [line.split("\t") for line in lines(path)]


def read_json(path: str | Path):
    return json.loads(Path(path).read_text())


def parquet_bytes(path: str) -> bytes:
    """A Parquet file byte for byte, as the nf-test cases read it: they look for the magic
    number and for the plain-text `seqclass` key-value metadata in its footer."""
    data = Path(path).read_bytes()
    assert data.startswith(b"PAR1") and data.endswith(b"PAR1"), f"{path} is not Parquet"
    return data


def versions(out: dict, process: str) -> dict:
    """The process's entry in the versions.yml it emitted ({} when it has none)."""
    return yaml.safe_load(Path(out["versions"][0]).read_text()).get(process) or {}


# ---------------------------------------------------------------- BWA_INDEX, BWA_MEM_SORT

def index_reference(launch_dir: Path, home: Path, stub: bool = False) -> list:
    """The setup { } run of BWA_INDEX on the simulated reference: its index item, as an input."""
    out = run_ok("BWA_INDEX", [REFERENCE], launch_dir, home, stub=stub)
    meta, index = out["index"][0]
    return [meta, {"dir": index}]


def reads(sample: str) -> list:
    """One simulated sample's read pair, as BWA_MEM_SORT's first input."""
    return [{"id": sample}, [fixture(f"{SIMULATED}/reads/{sample}_{end}.fq.gz") for end in (1, 2)]]


@needs("bwa")
def test_bwa_index_simulated_reference(tmp_path, nxf_home):
    """modules/local/bwa_index/tests/main.nf.test: "simulated reference"."""
    out = run_ok("BWA_INDEX", [REFERENCE], tmp_path, nxf_home)
    assert len(out["index"]) == 1
    meta, index = out["index"][0]
    assert meta == {"id": "reference"}
    assert name(index) == "bwa"
    assert sorted(os.listdir(index)) == [f"reference.fa.{ext}" for ext in ("amb", "ann", "bwt", "pac", "sa")]
    assert versions(out, "BWA_INDEX").get("bwa")


def test_bwa_index_stub(tmp_path, nxf_home):
    """modules/local/bwa_index/tests/main.nf.test: "simulated reference - stub"."""
    out = run_ok("BWA_INDEX", [REFERENCE], tmp_path, nxf_home, stub=True)
    assert names(out["index"]) == [[{"id": "reference"}, "bwa"]]
    assert [name(path) for path in out["versions"]] == ["versions.yml"]


@needs("bwa", "samtools")
def test_bwa_mem_sort_one_sample(tmp_path, nxf_home):
    """modules/local/bwa_mem_sort/tests/main.nf.test: "simulated paired reads of one sample"."""
    index = index_reference(tmp_path / "setup", nxf_home)
    out = run_ok("BWA_MEM_SORT", [reads("sim001"), index], tmp_path, nxf_home)
    assert len(out["bam"]) == 1
    meta, bam, bai = out["bam"][0]
    assert meta == {"id": "sim001"}
    assert name(bam) == "sim001.bam"
    assert name(bai) == "sim001.bam.bai"
    # BGZF: gzip magic bytes
    assert Path(bam).read_bytes()[:2] == b"\x1f\x8b"
    tools = versions(out, "BWA_MEM_SORT")
    assert tools.get("bwa") and tools.get("samtools")


def test_bwa_mem_sort_stub(tmp_path, nxf_home):
    """modules/local/bwa_mem_sort/tests/main.nf.test: "simulated paired reads of one sample - stub"."""
    # nf-test runs the setup in the same -stub run as the case
    index = index_reference(tmp_path / "setup", nxf_home, stub=True)
    out = run_ok("BWA_MEM_SORT", [reads("sim001"), index], tmp_path, nxf_home, stub=True)
    assert [[meta, name(bam), name(bai)] for meta, bam, bai in out["bam"]] == \
        [[{"id": "sim001"}, "sim001.bam", "sim001.bam.bai"]]
    assert [name(path) for path in out["versions"]] == ["versions.yml"]


# ---------------------------------------------------------------- SEQCLASS_BUILD

def test_build_labels_given(tmp_path, nxf_home):
    """modules/local/build/tests/main.nf.test: "promoter + non_promoter FASTA - labels given as
    LABEL=PATH"."""
    out = run_ok("SEQCLASS_BUILD", [FASTAS, NO_BAMS], tmp_path, nxf_home,
                 params={"rename_duplicate_ids": True})
    assert len(out["dataset"]) == 1
    assert len(out["summary"]) == 1
    assert len(out["versions"]) == 1
    meta, dataset = out["dataset"][0]
    assert meta == TEST
    assert name(dataset) == "test.dataset.parquet"
    assert b'"classes": ["non_promoter", "promoter"]' in parquet_bytes(dataset)
    _, summary_path = out["summary"][0]
    assert name(summary_path) == "test.dataset.summary.json"
    summary = read_json(summary_path)
    assert summary["records_read"] == 120
    assert summary["records_kept"] == 120
    assert summary["alphabet"] == "dna"
    assert summary["task"] == "multiclass"
    assert summary["classes"] == {"non_promoter": 60, "promoter": 60}
    # the promoter slice repeats abrB, citG, clpE and cssR
    assert summary["renamed_duplicate_ids"] == 4
    assert [entry["label"] for entry in summary["inputs"]] == ["promoter", "non_promoter"]
    assert versions(out, "SEQCLASS_BUILD").get("seqclass")


def test_build_labels_from_file_names(tmp_path, nxf_home):
    """modules/local/build/tests/main.nf.test: "promoter + non_promoter FASTA - labels from the file
    names"."""
    out = run_ok("SEQCLASS_BUILD", [[TEST, ["", ""], FASTAS[2]], NO_BAMS], tmp_path, nxf_home,
                 params={"rename_duplicate_ids": True})
    summary = read_json(out["summary"][0][1])
    assert summary["records_kept"] == 120
    assert summary["classes"] == {"non_promoter": 60, "promoter": 60}
    # no LABEL= given: the inputs carry no label of their own
    assert [entry["label"] for entry in summary["inputs"]] == [None, None]
    assert [name(entry["path"]) for entry in summary["inputs"]] == ["promoter.fa", "non_promoter.fa"]


@needs("bwa", "samtools")
def test_build_aligned_reads(tmp_path, nxf_home):
    """modules/local/build/tests/main.nf.test: "simulated aligned reads - BAMs, regions, reference,
    phenotypes"."""
    index = index_reference(tmp_path / "setup" / "index", nxf_home)
    # the setup's BWA_MEM_SORT runs once per sample; the case sorts its BAMs by sample id
    bams = [run_ok("BWA_MEM_SORT", [reads(sample), index], tmp_path / "setup" / sample, nxf_home)["bam"][0]
            for sample in ("sim001", "sim002")]
    aligned = [[{"path": bam} for _, bam, _ in bams], [{"path": bai} for _, _, bai in bams],
               fixture(f"{SIMULATED}/regions.bed"), fixture(f"{SIMULATED}/reference.fa"),
               fixture(f"{SIMULATED}/phenotypes.csv")]
    out = run_ok("SEQCLASS_BUILD", [[TEST, [], []], aligned], tmp_path, nxf_home)
    summary = read_json(out["summary"][0][1])
    # one record per sample: its three regions joined, labelled by its phenotypes
    assert summary["records_kept"] == 2
    assert summary["task"] == "multilabel"
    assert summary["classes"] == {"ethionamide": 1, "isoniazid": 2, "rifampicin": 1}
    assert summary["consensus"]["regions"] == ["katG", "inhA_promoter", "rpoB"]
    assert set(summary["consensus"]["samples"]) == {"sim001", "sim002"}


def test_build_stub(tmp_path, nxf_home):
    """modules/local/build/tests/main.nf.test: "promoter + non_promoter FASTA - stub"."""
    out = run_ok("SEQCLASS_BUILD", [FASTAS, NO_BAMS], tmp_path, nxf_home, stub=True)
    assert_stub_outputs(out, "SEQCLASS_BUILD", TEST, dataset="test.dataset.parquet",
                        summary="test.dataset.summary.json")


# ---------------------------------------------------------------- SEQCLASS_SPLIT

def test_split_homology_builtin(tmp_path, nxf_home):
    """modules/local/split/tests/main.nf.test: "dataset.parquet - homology split, built-in clusterer"."""
    out = run_ok("SEQCLASS_SPLIT", [[TEST, fixture("dataset.parquet")]], tmp_path, nxf_home,
                 params={"clusterer": "builtin", "seed": 0})
    for emit in ("split", "leakage", "summary"):
        assert len(out[emit]) == 1, emit
    meta, split = out["split"][0]
    assert meta == TEST
    assert name(split) == "test.split.parquet"
    assert b'"strategy": "homology"' in parquet_bytes(split)

    _, summary_path = out["summary"][0]
    assert name(summary_path) == "test.split.summary.json"
    summary = read_json(summary_path)
    assert summary["strategy"] == "homology"
    assert summary["clusterer"] == "builtin"
    assert summary["identity"] == 0.8
    counts = {side: sum(classes.values()) for side, classes in summary["counts"].items()}
    # every one of the 120 records is placed, each class on every side
    assert sum(counts.values()) == 120
    assert set(counts) == {"train", "valid", "test"}
    for side, classes in summary["counts"].items():
        assert set(classes) == {"non_promoter", "promoter"}, side
    assert counts["train"] > counts["test"]

    _, leakage = out["leakage"][0]
    assert name(leakage) == "test.split.leakage.tsv"
    rows = table(leakage)
    assert rows[0] == ["id", "label", "split", "max_identity", "query_coverage", "nearest_train_id",
                       "above_threshold"]
    # one row per held-out (valid or test) sequence
    assert len(rows) - 1 == counts["valid"] + counts["test"]
    assert all(row[2] in ("valid", "test") for row in rows[1:])
    assert versions(out, "SEQCLASS_SPLIT").get("seqclass")


def test_split_random(tmp_path, nxf_home):
    """modules/local/split/tests/main.nf.test: "dataset.parquet - random split, 0.5,0.25,0.25"."""
    out = run_ok("SEQCLASS_SPLIT", [[TEST, fixture("dataset.parquet")]], tmp_path, nxf_home,
                 params={"split_strategy": "random", "fractions": "0.5,0.25,0.25", "seed": 1})
    summary = read_json(out["summary"][0][1])
    assert summary["strategy"] == "random"
    assert summary["clusterer"] is None
    # stratified by class: 30 + 15 + 15 of each
    assert summary["counts"]["train"] == {"non_promoter": 30, "promoter": 30}
    assert sum(summary["counts"]["valid"].values()) + sum(summary["counts"]["test"].values()) == 60


def test_split_stub(tmp_path, nxf_home):
    """modules/local/split/tests/main.nf.test: "dataset.parquet - stub"."""
    out = run_ok("SEQCLASS_SPLIT", [[TEST, fixture("dataset.parquet")]], tmp_path, nxf_home, stub=True)
    assert_stub_outputs(out, "SEQCLASS_SPLIT", TEST, split="test.split.parquet",
                        leakage="test.split.leakage.tsv", summary="test.split.summary.json")


# ---------------------------------------------------------------- SEQCLASS_CHUNK

def test_chunk_window_41_stride_20(tmp_path, nxf_home):
    """modules/local/chunk/tests/main.nf.test: "split.parquet - window 41, stride 20"."""
    # conf/modules.config turns these params into --window/--stride/--seed
    out = run_ok("SEQCLASS_CHUNK", [[TEST, fixture("split.parquet")]], tmp_path, nxf_home,
                 params={"window": 41, "stride": 20, "seed": 0})
    assert len(out["chunks"]) == 1
    meta, chunks = out["chunks"][0]
    assert meta == TEST
    assert name(chunks) == "test.chunks.parquet"
    data = parquet_bytes(chunks)
    # chunk columns, and the window and stride that train copies into the model
    assert b"parent_id" in data
    assert b'"window": 41' in data
    assert b'"stride": 20' in data
    assert versions(out, "SEQCLASS_CHUNK").get("seqclass")


def test_chunk_random_stretches(tmp_path, nxf_home):
    """modules/local/chunk/tests/main.nf.test: "split.parquet - 2 random stretches of 50 per sequence,
    reverse-complement augmentation"."""
    out = run_ok("SEQCLASS_CHUNK", [[TEST, fixture("split.parquet")]], tmp_path, nxf_home,
                 params={"window": 50, "samples_per_seq": 2, "rc_prob": 0.5, "seed": 0})
    data = parquet_bytes(out["chunks"][0][1])
    assert b'"window": 50' in data
    assert b'"samples_per_seq": 2' in data
    assert b'"rc_prob": 0.5' in data


def test_chunk_stub(tmp_path, nxf_home):
    """modules/local/chunk/tests/main.nf.test: "split.parquet - stub"."""
    out = run_ok("SEQCLASS_CHUNK", [[TEST, fixture("split.parquet")]], tmp_path, nxf_home,
                 params={"window": 41}, stub=True)
    assert_stub_outputs(out, "SEQCLASS_CHUNK", TEST, chunks="test.chunks.parquet")


# ---------------------------------------------------------------- SEQCLASS_PRETRAIN

def test_pretrain_tiny_language_model(tmp_path, nxf_home):
    """modules/local/pretrain/tests/main.nf.test: "e_coli 20 kb - tiny 3-mer language model"."""
    out = run_ok("SEQCLASS_PRETRAIN", [[TEST, [E_COLI]]], tmp_path, nxf_home, config=PRETRAIN_CONFIG)
    meta, lm = out["lm"][0]
    assert meta == TEST
    assert name(lm) == "test.lm"
    assert {"config.json", "model.safetensors", "training.json", "training_log.jsonl"} <= set(os.listdir(lm))
    config = read_json(Path(lm, "config.json"))
    assert config["alphabet"] == "dna"
    assert config["k"] == 3
    log = lines(out["log"][0][1])
    assert len(log) > 0
    assert all(line.startswith("{") and '"step"' in line for line in log)
    assert versions(out, "SEQCLASS_PRETRAIN").get("seqclass")


def test_pretrain_stub(tmp_path, nxf_home):
    """modules/local/pretrain/tests/main.nf.test: "e_coli 20 kb - stub"."""
    out = run_ok("SEQCLASS_PRETRAIN", [[TEST, [E_COLI]]], tmp_path, nxf_home, config=PRETRAIN_CONFIG,
                 stub=True)
    assert name(out["lm"][0][1]) == "test.lm"
    assert name(out["log"][0][1]) == "training_log.jsonl"
    assert len(out["versions"]) == 1


# ---------------------------------------------------------------- SEQCLASS_TRAIN

def test_train_kmer_logreg_k5(tmp_path, nxf_home):
    """modules/local/train/tests/main.nf.test: "chunks.parquet - kmer-logreg, k 5"."""
    out = run_ok("SEQCLASS_TRAIN", [[TEST, fixture("chunks.parquet")], []], tmp_path, nxf_home,
                 params={"kmer_size": 5, "seed": 0})
    assert len(out["model"]) == 1
    meta, model = out["model"][0]
    assert meta == TEST
    model = Path(model)
    assert model.name == "test.model"
    # the nf-test case lists the directory without ood.json, the energy-score threshold that
    # `seqclass train` has written into every model directory since OOD scores came in
    assert sorted(os.listdir(model)) == [".seqclass.json", "config.json", "labels.json",
                                         "model.safetensors", "ood.json", "training.json"]
    assert (model / "model.safetensors").stat().st_size > 0

    config = read_json(model / "config.json")
    assert config["family"] == "kmer-logreg"
    assert config["alphabet"] == "dna"
    assert config["task"] == "multiclass"
    # window and stride come from the chunk table
    assert config["window"] == 41
    assert config["stride"] == 20
    assert config["params"]["k"] == 5

    assert read_json(model / "labels.json") == ["non_promoter", "promoter"]

    training = read_json(model / "training.json")
    assert training["seed"] == 0
    # 96 training sequences of 81 nt, 3 windows each
    assert training["n_train"] == 288
    assert training["train_class_counts"] == {"non_promoter": 144, "promoter": 144}
    assert re.fullmatch(r"[0-9a-f]{64}", training["train_data_sha256"])
    assert [step["step"] for step in training["provenance"]] == ["build", "split", "chunk", "train"]
    assert versions(out, "SEQCLASS_TRAIN").get("seqclass")


def test_train_gc_logreg(tmp_path, nxf_home):
    """modules/local/train/tests/main.nf.test: "split.parquet - gc-logreg control, whole sequences"."""
    out = run_ok("SEQCLASS_TRAIN", [[TEST, fixture("split.parquet")], []], tmp_path, nxf_home,
                 params={"family": "gc-logreg", "seed": 0})
    model = Path(out["model"][0][1])
    config = read_json(model / "config.json")
    assert config["family"] == "gc-logreg"
    # trained on whole sequences: no window
    assert config["window"] is None
    assert config["stride"] is None
    assert read_json(model / "labels.json") == ["non_promoter", "promoter"]
    assert read_json(model / "training.json")["n_train"] == 96


def test_train_stub(tmp_path, nxf_home):
    """modules/local/train/tests/main.nf.test: "chunks.parquet - stub"."""
    out = run_ok("SEQCLASS_TRAIN", [[TEST, fixture("chunks.parquet")], []], tmp_path, nxf_home, stub=True)
    assert_stub_outputs(out, "SEQCLASS_TRAIN", TEST, model="test.model")
    assert sorted(os.listdir(out["model"][0][1])) == ["config.json", "labels.json", "model.safetensors"]


# ---------------------------------------------------------------- SEQCLASS_EVALUATE

def test_evaluate_test_split(tmp_path, nxf_home):
    """modules/local/evaluate/tests/main.nf.test: "bundled promoter model - split.parquet, test split"."""
    out = run_ok("SEQCLASS_EVALUATE", [[TEST, PROMOTER_MODEL, fixture("split.parquet")]], tmp_path, nxf_home)
    for emit in ("evaluation", "metrics", "predictions", "plots"):
        assert len(out[emit]) == 1, emit
    meta, evaluation = out["evaluation"][0]
    assert meta == TEST
    assert name(evaluation) == "test.evaluation"
    assert {"metrics.json", "predictions.tsv", "confusion_matrix.png", "roc.png", "pr.png"} <= \
        set(os.listdir(evaluation))

    _, metrics_path = out["metrics"][0]
    assert name(metrics_path) == "metrics.json"
    metrics = read_json(metrics_path)
    assert metrics["split"] == "test"
    assert metrics["level"] == "sequence"
    assert metrics["family"] == "kmer-logreg"
    assert metrics["task"] == "multiclass"
    assert metrics["positive_class"] == "promoter"
    # 6 + 6 held-out sequences of the fixture split
    assert metrics["n"] == 12
    assert metrics["accuracy"] > 0.5
    assert metrics["roc_auc"] > 0.5
    assert metrics["confusion_matrix"]["labels"] == ["non_promoter", "promoter"]
    assert sum(map(sum, metrics["confusion_matrix"]["matrix"])) == 12

    _, predictions = out["predictions"][0]
    assert name(predictions) == "predictions.tsv"
    rows = table(predictions)
    assert rows[0] == ["id", "true_label", "label", "prob_non_promoter", "prob_promoter"]
    assert len(rows) == 13
    # probabilities of one row sum to 1
    for row in rows[1:]:
        assert abs(float(row[3]) + float(row[4]) - 1.0) < 1e-3, row

    _, plots = out["plots"][0]
    assert sorted(name(plot) for plot in plots) == ["confusion_matrix.png", "pr.png", "roc.png"]
    # PNG signature
    for plot in plots:
        assert Path(plot).read_bytes()[1:4] == b"PNG", plot
    assert versions(out, "SEQCLASS_EVALUATE").get("seqclass")


def test_evaluate_all_splits(tmp_path, nxf_home):
    """modules/local/evaluate/tests/main.nf.test: "bundled promoter model - split.parquet, all splits"."""
    out = run_ok("SEQCLASS_EVALUATE", [[TEST, PROMOTER_MODEL, fixture("split.parquet")]], tmp_path, nxf_home,
                 params={"eval_split": "all"})
    metrics = read_json(out["metrics"][0][1])
    assert metrics["split"] == "all"
    assert metrics["n"] == 120
    assert metrics["accuracy"] > 0.5
    assert len(lines(out["predictions"][0][1])) == 121


def test_evaluate_stub(tmp_path, nxf_home):
    """modules/local/evaluate/tests/main.nf.test: "bundled promoter model - split.parquet - stub"."""
    out = run_ok("SEQCLASS_EVALUATE", [[TEST, PROMOTER_MODEL, fixture("split.parquet")]], tmp_path, nxf_home,
                 stub=True)
    assert_stub_outputs(out, "SEQCLASS_EVALUATE", TEST, evaluation="test.evaluation", metrics="metrics.json",
                        predictions="predictions.tsv", plots="confusion_matrix.png")


# ---------------------------------------------------------------- SEQCLASS_PREDICT

def test_predict_model_window_stride(tmp_path, nxf_home):
    """modules/local/predict/tests/main.nf.test: "bundled promoter model - 20 kb of E. coli K-12, the
    model's window and stride"."""
    out = run_ok("SEQCLASS_PREDICT", [[{"id": "e_coli_K12_0-20kb"}, E_COLI], PROMOTER_MODEL, []],
                 tmp_path, nxf_home)
    assert len(out["predictions"]) == 1
    assert len(out["tracks"]) == 1
    meta, predictions = out["predictions"][0]
    assert meta == {"id": "e_coli_K12_0-20kb"}
    assert name(predictions) == "e_coli_K12_0-20kb.predictions.tsv"
    rows = table(predictions)
    assert rows[0] == ["id", "label", "prob_non_promoter", "prob_promoter", "ood_score", "ood"]
    # one row per input sequence
    assert len(rows) == 2
    assert rows[1][0] == "NC_000913.3:0-20000"
    assert rows[1][1] in ("non_promoter", "promoter")
    assert abs(float(rows[1][2]) + float(rows[1][3]) - 1.0) < 1e-3

    meta, tracks = out["tracks"][0]
    assert meta == {"id": "e_coli_K12_0-20kb"}
    assert name(tracks) == "e_coli_K12_0-20kb.tracks.tsv"
    rows = table(tracks)
    assert rows[0] == ["id", "start", "end", "label", "prob_non_promoter", "prob_promoter", "ood_score",
                       "ood"]
    # window 81, stride 81 (config.json of the model) along 20,000 nt: 247 windows, the last one
    # ending at the sequence end
    assert len(rows) == 1 + 247
    assert rows[1][1:3] == ["0", "81"]
    assert rows[-1][1:3] == ["19919", "20000"]
    assert versions(out, "SEQCLASS_PREDICT").get("seqclass")


def test_predict_stride_20(tmp_path, nxf_home):
    """modules/local/predict/tests/main.nf.test: "bundled promoter model - 20 kb of E. coli K-12,
    stride 20"."""
    out = run_ok("SEQCLASS_PREDICT", [[{"id": "e_coli_K12_0-20kb"}, E_COLI], PROMOTER_MODEL, []],
                 tmp_path, nxf_home, params={"predict_stride": 20})
    assert len(lines(out["predictions"][0][1])) == 2
    rows = table(out["tracks"][0][1])
    assert len(rows) == 1 + 997
    assert rows[2][1:3] == ["20", "101"]
    assert rows[-1][1:3] == ["19919", "20000"]


def test_predict_long_and_short_model(tmp_path, nxf_home):
    """modules/local/predict/tests/main.nf.test: "bundled promoter model as long and short-read model - a
    20 kb contig and FASTQ reads"."""
    # the contig (not shorter than the model's 81-nt window) goes to the long model, every FASTQ
    # record (120 simulated reads) to the short-read one
    sequences = [E_COLI, fixture(f"{SIMULATED}/reads/sim001_1.fq.gz")]
    out = run_ok("SEQCLASS_PREDICT", [[{"id": "mixed"}, sequences], PROMOTER_MODEL, PROMOTER_MODEL],
                 tmp_path, nxf_home)
    rows = table(out["predictions"][0][1])
    assert rows[0][-1] == "model"
    # the long model's rows first, then the short model's
    assert [row[-1] for row in rows[1:]] == ["long"] + ["short"] * 120
    assert rows[1][0] == "NC_000913.3:0-20000"
    rows = table(out["tracks"][0][1])
    assert rows[0][-1] == "model"
    # 247 windows along the contig, two per 100-nt read (the last ends at its end)
    assert len(rows) == 1 + 247 + 2 * 120


def test_predict_stub(tmp_path, nxf_home):
    """modules/local/predict/tests/main.nf.test: "bundled promoter model - 20 kb of E. coli K-12 - stub"."""
    out = run_ok("SEQCLASS_PREDICT", [[{"id": "e_coli_K12_0-20kb"}, E_COLI], PROMOTER_MODEL, []],
                 tmp_path, nxf_home, stub=True)
    assert_stub_outputs(out, "SEQCLASS_PREDICT", {"id": "e_coli_K12_0-20kb"},
                        predictions="e_coli_K12_0-20kb.predictions.tsv",
                        tracks="e_coli_K12_0-20kb.tracks.tsv")


# ---------------------------------------------------------------- SEQCLASS_INTERPRET

def test_interpret_first_promoters_tracks(tmp_path, nxf_home):
    """modules/local/interpret/tests/main.nf.test: "bundled promoter model - the first promoters and the
    E. coli tracks"."""
    inputs = [[TEST, PROMOTER_MODEL, [fixture("promoter.fa")], [fixture("e_coli_K12_0-20kb.tracks.tsv")]]]
    out = run_ok("SEQCLASS_INTERPRET", inputs, tmp_path, nxf_home)
    meta, interpretation = out["interpretation"][0]
    assert meta == TEST
    assert name(interpretation) == "test.interpretation"
    sequences = table(Path(interpretation, "sequences.tsv"))
    assert sequences[0] == ["id", "length", "target", "score", "prob_non_promoter", "prob_promoter", "plot"]
    # the first 10 records (the repeated id abrB once), each 81 nt long
    assert len(sequences) == 1 + 10
    assert sequences[1][:3] == ["abnA", "81", "promoter"]
    # 3 substitutions per base, 81 bases, 10 sequences
    ism = lines(out["ism"][0][1])
    assert ism[0] == "id\tposition\tref\talt\tdelta"
    assert len(ism) == 1 + 3 * 81 * 10
    assert ism[1].split("\t")[:2] == ["abnA", "1"]
    saliency = lines(out["saliency"][0][1])
    assert saliency[0] == "id\tposition\tref\tism_mean\tism_min\tism_max\tocclusion_delta"
    assert len(saliency) == 1 + 81 * 10
    _, plots = out["plots"][0]
    assert len(plots) == 10
    assert name(plots[0]).endswith(".saliency.png")
    assert name(out["tracks_plot"][0][1]) == "tracks.png"
    assert versions(out, "SEQCLASS_INTERPRET").get("seqclass")


def test_interpret_ids_no_tracks(tmp_path, nxf_home):
    """modules/local/interpret/tests/main.nf.test: "bundled promoter model - --interpret_ids, no tracks"."""
    out = run_ok("SEQCLASS_INTERPRET", [[TEST, PROMOTER_MODEL, [fixture("promoter.fa")], []]], tmp_path,
                 nxf_home, params={"interpret_ids": "ackA,abnA"})
    # the records named, in that order
    sequences = table(Path(out["interpretation"][0][1], "sequences.tsv"))
    assert [row[0] for row in sequences[1:]] == ["ackA", "abnA"]
    assert out["tracks_plot"] == []
    assert versions(out, "SEQCLASS_INTERPRET")


def test_interpret_stub(tmp_path, nxf_home):
    """modules/local/interpret/tests/main.nf.test: "bundled promoter model - stub"."""
    out = run_ok("SEQCLASS_INTERPRET", [[TEST, PROMOTER_MODEL, [fixture("promoter.fa")], []]], tmp_path,
                 nxf_home, stub=True)
    assert names(out["interpretation"]) == [[TEST, "test.interpretation"]]
    assert [name(path) for _, path in out["ism"]] == ["ism.tsv"]
    assert [name(path) for _, path in out["saliency"]] == ["saliency.tsv"]
    assert [name(path) for path in out["versions"]] == ["versions.yml"]
    assert versions(out, "SEQCLASS_INTERPRET")


# ---------------------------------------------------------------- SEQCLASS_REPORT

def test_report_train_mode(tmp_path, nxf_home):
    """modules/local/report/tests/main.nf.test: "train mode - dataset, split, leakage, evaluation,
    predictions, versions, trained model"."""
    inputs = [REPORT_TABLES, [fixture_dir("fixture.evaluation")], [fixture("predictions.tsv")],
              [fixture("versions.yml")], [fixture_dir("fixture.model")], []]
    out = run_ok("SEQCLASS_REPORT", inputs, tmp_path, nxf_home)
    files = {name(path): Path(path) for path in flatten(out["multiqc_files"])}
    assert all(path.parent.name == "test_mqc" for path in files.values())
    assert sorted(file for file in files if "versions" not in file) == [
        "seqclass_confusion_fixture.evaluation_mqc.json",
        "seqclass_dataset_mqc.tsv",
        "seqclass_leakage_mqc.json",
        "seqclass_metrics_mqc.tsv",
        "seqclass_predictions_mqc.tsv",
        "seqclass_split_mqc.tsv",
        "seqclass_training_mqc.json",
    ]
    # dataset section: MultiQC custom-content header, then the class counts
    dataset = lines(files["seqclass_dataset_mqc.tsv"])
    assert dataset[0] == "# id: 'seqclass_dataset'"
    assert any("120 dna sequences kept of 120 read" in line for line in dataset)
    assert dataset[-2:] == ["non_promoter\t60", "promoter\t60"]
    # one metrics row per evaluation directory, named after it and its split
    metrics = [line for line in lines(files["seqclass_metrics_mqc.tsv"]) if not line.startswith("#")]
    assert {"evaluation", "n", "accuracy", "mcc", "roc_auc"} <= set(metrics[0].split("\t"))
    assert len(metrics) == 2
    assert metrics[1].startswith("fixture.evaluation (test)\t12\t")
    assert read_json(files["seqclass_leakage_mqc.json"])["id"] == "seqclass_leakage"
    assert read_json(files["seqclass_confusion_fixture.evaluation_mqc.json"])["plot_type"] == "heatmap"
    # training curves: one section, a dataset per model named after its directory, one series per
    # logged loss or metric (fixture: 4 evaluations of a 12-step cnn)
    training = read_json(files["seqclass_training_mqc.json"])
    assert (training["id"], training["section_name"]) == ("seqclass_training", "Training curves")
    assert training["plot_type"] == "linegraph"
    assert [label["name"] for label in training["pconfig"]["data_labels"]] == ["fixture.model"]
    [curves] = training["data"]
    assert {"train_loss", "valid_loss", "valid_accuracy"} <= set(curves)
    assert not {"step", "epoch", "lr"} & set(curves)
    assert set(curves["train_loss"]) == {"3", "6", "9", "12"}
    # the software versions section carries the processes of the versions.yml inputs
    merged = [path for file, path in files.items() if re.fullmatch(r".*versions.*\.yml", file)]
    assert len(merged) == 1
    assert yaml.safe_load(merged[0].read_text())["SEQCLASS_TRAIN"]["seqclass"]
    assert versions(out, "SEQCLASS_REPORT").get("seqclass")


def test_report_predict_mode(tmp_path, nxf_home):
    """modules/local/report/tests/main.nf.test: "predict mode - predictions, interpretation and versions,
    empty tables and evaluations"."""
    inputs = [[{"id": "seqclass"}, [], [], []], [], [fixture("predictions.tsv")], [fixture("versions.yml")],
              [], [fixture_dir("fixture.interpretation")]]
    out = run_ok("SEQCLASS_REPORT", inputs, tmp_path, nxf_home)
    files = {name(path): Path(path) for path in flatten(out["multiqc_files"])}
    assert sorted(file for file in files if "versions" not in file) == \
        ["seqclass_interpretation_mqc.json", "seqclass_predictions_mqc.tsv"]
    assert len([file for file in files if re.fullmatch(r".*versions.*\.yml", file)]) == 1
    predictions = lines(files["seqclass_predictions_mqc.tsv"])
    assert predictions[0] == "# id: 'seqclass_predictions'"
    # calls per class of the one prediction table (fixture: 60 promoter sequences)
    rows = [line.split("\t") for line in predictions if not line.startswith("#")]
    assert rows[0] == ["input", "non_promoter", "promoter"]
    assert len(rows) == 2
    assert rows[1][0] == "predictions"
    assert sum(int(count) for count in rows[1][1:3]) == 60
    # saliency along the two explained promoters of the fixture, 81 positions each
    doc = read_json(files["seqclass_interpretation_mqc.json"])
    assert doc["section_name"] == "Interpretation"
    assert doc["plot_type"] == "linegraph"
    assert sorted(doc["data"]) == ["abnA", "abrB"]
    assert len(doc["data"]["abnA"]) == 81


def test_report_stub(tmp_path, nxf_home):
    """modules/local/report/tests/main.nf.test: "train mode - stub"."""
    inputs = [REPORT_TABLES, [fixture_dir("fixture.evaluation")], [fixture("predictions.tsv")],
              [fixture("versions.yml")], [], []]
    out = run_ok("SEQCLASS_REPORT", inputs, tmp_path, nxf_home, stub=True)
    assert [name(path) for path in flatten(out["multiqc_files"])] == ["seqclass_metrics_mqc.tsv"]
    assert [name(path) for path in out["versions"]] == ["versions.yml"]
    assert versions(out, "SEQCLASS_REPORT")


# ---------------------------------------------------------------- MULTIQC

def report_sections() -> list:
    """Every file of the report fixture: Channel.fromPath(".../seqclass_mqc/*").collect()."""
    return [fixture(f"seqclass_mqc/{file}") for file in sorted(os.listdir(FIXTURES / "seqclass_mqc"))]


def test_multiqc_config(tmp_path, nxf_home):
    """modules/local/multiqc/tests/main.nf.test: "seqclass custom content - assets/multiqc_config.yml"."""
    out = run_ok("MULTIQC", [report_sections(), MULTIQC_CONFIG], tmp_path, nxf_home, params={"mode": "train"})
    assert len(out["report"]) == 1
    assert len(out["data"]) == 1
    # --title 'seqclass train' (conf/modules.config) prefixes the file names
    assert name(out["report"][0]) == "seqclass-train_multiqc_report.html"
    html = Path(out["report"][0]).read_text()
    assert "seqclass train" in html
    # a section of every kind of custom content the fixture holds
    for section in ("Dataset: class counts", "Split and leakage", "Leakage: identity to training",
                    "Evaluation metrics", "Confusion matrix: fixture.evaluation (test)", "Predicted classes",
                    "Software Versions"):
        assert section in html, section
    data = Path(out["data"][0])
    assert data.name == "seqclass-train_multiqc_report_data"
    assert {"multiqc_data.json", "multiqc_seqclass_metrics.txt", "multiqc_software_versions.txt"} <= \
        set(os.listdir(data))
    metrics = lines(data / "multiqc_seqclass_metrics.txt")
    assert len(metrics) == 2
    assert metrics[1].startswith("fixture.evaluation (test)\t")
    assert "SEQCLASS_TRAIN" in (data / "multiqc_software_versions.txt").read_text()
    assert versions(out, "MULTIQC").get("multiqc")


def test_multiqc_no_config(tmp_path, nxf_home):
    """modules/local/multiqc/tests/main.nf.test: "seqclass custom content - no config"."""
    out = run_ok("MULTIQC", [[fixture("seqclass_mqc/seqclass_predictions_mqc.tsv")], []], tmp_path, nxf_home,
                 params={"mode": "predict"})
    assert name(out["report"][0]) == "seqclass-predict_multiqc_report.html"
    assert "Predicted classes" in Path(out["report"][0]).read_text()
    assert "multiqc_data.json" in os.listdir(out["data"][0])


def test_multiqc_stub(tmp_path, nxf_home):
    """modules/local/multiqc/tests/main.nf.test: "seqclass custom content - stub"."""
    out = run_ok("MULTIQC", [report_sections(), MULTIQC_CONFIG], tmp_path, nxf_home, stub=True)
    assert [name(path) for path in out["report"]] == ["multiqc_report.html"]
    assert [name(path) for path in out["data"]] == ["multiqc_data"]
    assert out["plots"] == []
    assert [name(path) for path in out["versions"]] == ["versions.yml"]
    assert versions(out, "MULTIQC")
