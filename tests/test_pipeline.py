"""The pipeline, run for real: `nextflow run main.nf` offline with the local executor.

The pytest twins of tests/main.nf.test (nf-test runs those on GitHub Actions) and the runs that
docs/usage.md promises:
  1. -profile test,local: every task once and COMPLETED; metrics, published files, the MultiQC
     report's seqclass sections and pipeline_info/;
  2. -profile test_predict,local with the model of run 1;
  3. run 1 again with -resume: every task CACHED, the published files byte for byte the same;
  4. the other entry paths: aligned reads (bwa), a short-read model (--short_window), a language
     model pretrained in the run (--pretrain_input, awd-lstm), --interpret, a glob of inputs
     that share a file name, a samplesheet on a remote file system, and -stub runs of both modes;
  5. bad parameters and samplesheets stop the run before any task, one line per problem;
  6. run 1 passes under the strict parser (v2), the default from Nextflow 26.04 (`make nf-lint`
     runs `nextflow lint`, the static check of the same syntax);
  7. the container and AWS Batch profiles, as `nextflow config` and `nextflow inspect` resolve
     them (no Docker engine or AWS account here: the strongest check there is).
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
from conftest import has
from nextflow_run import REPO, Run, nextflow, require_nextflow, run_pipeline

from seqclass import __version__

DEMO = REPO / "assets" / "demo"
TRAIN_PROCESSES = ["SEQCLASS_BUILD", "SEQCLASS_SPLIT", "SEQCLASS_CHUNK", "SEQCLASS_TRAIN",
                   "SEQCLASS_EVALUATE", "SEQCLASS_REPORT", "MULTIQC"]


@pytest.fixture(scope="module")
def nxf_home(tmp_path_factory) -> Path:
    require_nextflow()
    return tmp_path_factory.mktemp("nxf_home")


def succeeded(run: Run) -> Run:
    assert run.returncode == 0, run.output
    return run


def process_names(run: Run) -> list[str]:
    return sorted(row["name"].split(":")[-1].split(" (")[0] for row in run.trace())


def published(outdir: Path) -> dict[str, str]:
    """sha256 of every published file but the run reports, by path under outdir."""
    return {str(p.relative_to(outdir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(outdir.rglob("*"))
            if p.is_file() and p.relative_to(outdir).parts[0] != "pipeline_info"}


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def tasks_started(launch_dir: Path) -> list[Path]:
    return list((launch_dir / "work").glob("*/*"))


# ---------------------------------------------------------------- 1-3: train, predict, resume

@pytest.fixture(scope="module")
def train_run(tmp_path_factory, nxf_home) -> Run:
    launch = tmp_path_factory.mktemp("train")
    return succeeded(run_pipeline(["-profile", "test,local", "--trace_report_suffix", "first"],
                                  launch, nxf_home, launch / "results"))


@pytest.fixture(scope="module")
def resume_run(train_run, nxf_home) -> tuple[Run, dict[str, str]]:
    """Run 1 again in its launch directory with -resume; and what run 1 had published."""
    before = published(train_run.outdir)
    run = run_pipeline(["-profile", "test,local", "--trace_report_suffix", "resumed", "-resume"],
                       train_run.launch_dir, nxf_home, train_run.outdir)
    return succeeded(run), before


def test_train_runs_every_task_once(train_run):
    """tests/main.nf.test, "train mode - test profile": build → split → chunk → train →
    evaluate → report → MultiQC, each task once and COMPLETED."""
    rows = train_run.trace()
    assert process_names(train_run) == sorted(TRAIN_PROCESSES)
    assert {row["status"] for row in rows} == {"COMPLETED"}


def test_train_publishes_each_step(train_run):
    out = train_run.outdir
    assert listing(out) == ["build", "chunk", "evaluate", "multiqc", "pipeline_info", "split", "train"]
    assert listing(out / "build") == ["seqclass.dataset.parquet", "seqclass.dataset.summary.json"]
    assert listing(out / "split") == ["seqclass.split.leakage.tsv", "seqclass.split.parquet",
                                      "seqclass.split.summary.json"]
    assert listing(out / "chunk") == ["seqclass.chunks.parquet"]
    # the model directory once, not the training log inside it a second time
    assert listing(out / "train") == ["seqclass.model"]
    # .seqclass.json: the marker that a seqclass step wrote the directory (io.atomic)
    assert listing(out / "train" / "seqclass.model") == [".seqclass.json", "config.json", "labels.json",
                                                         "model.safetensors", "ood.json", "training.json"]
    assert listing(out / "evaluate") == ["seqclass.evaluation"]


def test_train_results(train_run):
    out = train_run.outdir
    dataset = json.loads((out / "build" / "seqclass.dataset.summary.json").read_text())
    split = json.loads((out / "split" / "seqclass.split.summary.json").read_text())
    config = json.loads((out / "train" / "seqclass.model" / "config.json").read_text())
    metrics = json.loads((out / "evaluate" / "seqclass.evaluation" / "metrics.json").read_text())
    # both demo files: 373 promoters (26 repeated ids renamed) and 1000 non-promoters
    assert dataset["records_kept"] == 1373
    assert dataset["classes"] == {"non_promoter": 1000, "promoter": 373}
    assert dataset["renamed_duplicate_ids"] == 26
    assert split["strategy"] == "homology"
    assert sum(sum(classes.values()) for classes in split["counts"].values()) == 1373
    assert (config["family"], config["window"], config["params"]["k"]) == ("kmer-logreg", 81, 5)
    assert json.loads((out / "train" / "seqclass.model" / "labels.json").read_text()) == ["non_promoter",
                                                                                           "promoter"]
    assert metrics["split"] == "test"
    assert metrics["n"] == sum(split["counts"]["test"].values())
    assert metrics["accuracy"] > 0.6
    assert metrics["roc_auc"] > 0.7
    evaluation = out / "evaluate" / "seqclass.evaluation"
    plots = {"confusion_matrix.png", "roc.png", "pr.png"}
    assert {"metrics.json", "predictions.tsv", *plots} <= set(listing(evaluation))
    header = (evaluation / "predictions.tsv").read_text().splitlines()[0]
    assert header == "id\ttrue_label\tlabel\tprob_non_promoter\tprob_promoter"


def test_train_multiqc_report(train_run):
    multiqc = train_run.outdir / "multiqc"
    assert listing(multiqc) == ["seqclass-train_multiqc_report.html", "seqclass-train_multiqc_report_data"]
    html = (multiqc / "seqclass-train_multiqc_report.html").read_text()
    for section in ("Dataset: class counts", "Split and leakage", "Evaluation metrics", "Software Versions"):
        assert section in html, section
    versions = (multiqc / "seqclass-train_multiqc_report_data" / "multiqc_software_versions.txt").read_text()
    assert "SEQCLASS_TRAIN" in versions


def test_train_pipeline_info(train_run):
    reports = listing(train_run.outdir / "pipeline_info")
    assert reports == ["execution_report_first.html", "execution_timeline_first.html",
                       "execution_trace_first.txt", "pipeline_dag_first.html"]


def test_predict_with_the_trained_model(train_run, tmp_path, nxf_home):
    """Run 2: -profile test_predict,local with run 1's model; the twin of tests/main.nf.test,
    "predict mode - test_predict profile"."""
    model = train_run.outdir / "train" / "seqclass.model"
    run = succeeded(run_pipeline(["-profile", "test_predict,local", "--model", str(model)],
                                 tmp_path, nxf_home, tmp_path / "results"))
    assert process_names(run) == ["MULTIQC", "SEQCLASS_PREDICT", "SEQCLASS_REPORT"]
    out = run.outdir
    assert listing(out) == ["multiqc", "pipeline_info", "predict"]
    assert listing(out / "predict") == ["e_coli_K12_0-20kb.predictions.tsv", "e_coli_K12_0-20kb.tracks.tsv"]
    predictions = (out / "predict" / "e_coli_K12_0-20kb.predictions.tsv").read_text().splitlines()
    tracks = (out / "predict" / "e_coli_K12_0-20kb.tracks.tsv").read_text().splitlines()
    # run 1's model scores out-of-distribution inputs too (its ood.json)
    assert predictions[0] == "id\tlabel\tprob_non_promoter\tprob_promoter\tood_score\tood"
    assert len(predictions) == 2 and predictions[1].startswith("NC_000913.3:0-20000\t")
    assert tracks[0].startswith("id\tstart\tend\tlabel\tprob_non_promoter\tprob_promoter")
    # the model's 81-nt window every 20 nt along 20,000 nt, the last one ending at the end
    assert len(tracks) == 1 + 997
    assert tracks[2].split("\t")[1:3] == ["20", "101"]
    assert tracks[-1].split("\t")[1:3] == ["19919", "20000"]
    html = (out / "multiqc" / "seqclass-predict_multiqc_report.html").read_text()
    assert "Predicted classes" in html


def test_resume_caches_every_task(resume_run):
    """Run 3: run 1 again with -resume: nothing recomputed, nothing published differently."""
    run, before = resume_run
    rows = run.trace()
    assert process_names(run) == sorted(TRAIN_PROCESSES)
    assert {row["status"] for row in rows} == {"CACHED"}
    assert published(run.outdir) == before


# ---------------------------------------------------------------- 4: the other entry paths

def test_aligned_reads_route(tmp_path, nxf_home):
    """--reads: FASTQ pairs → BWA_INDEX → BWA_MEM_SORT per sample → build --bam → a multi-label
    dataset of one consensus per sample, labelled with the drugs it resists → train, evaluate."""
    if not all(has(tool) for tool in ("bwa", "samtools", "wgsim")):
        pytest.skip("bwa, samtools and wgsim are not on PATH (make tools installs them)")
    # seqclass.data.simulate_tb's tiny panel: enough samples for both classes of every drug in training
    data = tmp_path / "simulated"
    subprocess.run([sys.executable, "-m", "seqclass.data.simulate_tb", "--outdir", str(data),
                    "--panel", "tiny", "--samples", "16", "--gene-length", "200", "--coverage", "8",
                    "--resistance-rate", "0.3", "--seed", "5"], check=True, capture_output=True)
    samples = sorted(line.split(",")[0] for line in (data / "samplesheet.csv").read_text().splitlines()[1:])
    run = succeeded(run_pipeline(
        ["-profile", "local", "--reads", str(data / "samplesheet.csv"),
         "--reference", str(data / "reference.fa"), "--regions", str(data / "regions.bed"),
         "--phenotypes", str(data / "phenotypes.csv"),
         "--split_strategy", "random", "--seed", "1"], tmp_path / "launch", nxf_home, tmp_path / "results"))
    names = process_names(run)
    assert names.count("BWA_INDEX") == 1 and names.count("BWA_MEM_SORT") == len(samples)
    bams = sorted(f"{sample}.bam{suffix}" for sample in samples for suffix in ("", ".bai"))
    assert listing(run.outdir / "alignments") == bams
    dataset = pd.read_parquet(run.outdir / "build" / "seqclass.dataset.parquet")
    assert sorted(dataset["id"]) == samples
    metrics = json.loads((run.outdir / "evaluate" / "seqclass.evaluation" / "metrics.json").read_text())
    assert metrics["task"] == "multilabel"


def test_short_read_model_beside_the_long_one(tmp_path, nxf_home):
    """--short_window: a second chunk table, model and evaluation, named <id>_short."""
    run = succeeded(run_pipeline(["-profile", "test,local", "--short_window", "40", "--short_stride", "20"],
                                 tmp_path, nxf_home, tmp_path / "results"))
    out = run.outdir
    assert listing(out / "chunk_short") == ["seqclass_short.chunks.parquet"]
    assert listing(out / "train_short") == ["seqclass_short.model"]
    short_config = json.loads((out / "train_short" / "seqclass_short.model" / "config.json").read_text())
    assert short_config["window"] == 40
    short = json.loads((out / "evaluate_short" / "seqclass_short.evaluation" / "metrics.json").read_text())
    assert short["level"] == "window"
    html = (out / "multiqc" / "seqclass-train_multiqc_report.html").read_text()
    assert "seqclass_short.evaluation (test)" in html and "seqclass.evaluation (test)" in html


def test_language_model_pretrained_in_the_run(tmp_path, nxf_home):
    """--pretrain_input with awd-lstm: SEQCLASS_PRETRAIN on the E. coli fragment, the classifier
    fine-tuned from its language model, and training curves in the report named by model."""
    run = succeeded(run_pipeline(
        ["-profile", "test,local", "--pretrain_input", str(DEMO / "e_coli_K12_0-20kb.fa"),
         "--family", "awd-lstm", "--max_steps", "4", "--batch_size", "32"],
        tmp_path, nxf_home, tmp_path / "results"))
    assert "SEQCLASS_PRETRAIN" in process_names(run)
    out = run.outdir
    assert listing(out / "pretrain") == ["seqclass.lm"]
    config = json.loads((out / "train" / "seqclass.model" / "config.json").read_text())
    lm = json.loads((out / "pretrain" / "seqclass.lm" / "config.json").read_text())
    assert config["family"] == "awd-lstm"
    # started from the run's language model (staged apart from the model it writes), its k-mers
    assert config["params"]["pretrained"] == "pretrained/seqclass.lm"
    assert config["params"]["token_k"] == lm["k"] == 3
    # the model's training curves in the report, and their data beside it
    assert "Training curves" in (out / "multiqc" / "seqclass-train_multiqc_report.html").read_text()
    curves = out / "multiqc" / "seqclass-train_multiqc_report_data" / "multiqc_seqclass_training_plot.txt"
    assert "train_loss" in curves.read_text()


def test_interpret(tmp_path, nxf_home):
    """tests/main.nf.test, "predict mode - test_predict profile - interpret": ISM and occlusion
    of the 20 kb contig, scored as predict scores it."""
    args = ["-profile", "test_predict,local", "--interpret", "--interpret_max_length", "20000"]
    run = succeeded(run_pipeline(args, tmp_path, nxf_home, tmp_path / "results"))
    assert process_names(run) == ["MULTIQC", "SEQCLASS_INTERPRET", "SEQCLASS_PREDICT", "SEQCLASS_REPORT"]
    interp = run.outdir / "interpret" / "seqclass.interpretation"
    assert listing(interp) == [".seqclass.json", "NC_000913.3_0-20000.saliency.png", "ism.tsv",
                               "saliency.tsv", "sequences.tsv", "tracks.png"]
    predictions = (run.outdir / "predict" / "e_coli_K12_0-20kb.predictions.tsv").read_text().splitlines()
    sequences = (interp / "sequences.tsv").read_text().splitlines()
    assert len(sequences) == 2
    assert sequences[1].split("\t")[4:6] == predictions[1].split("\t")[2:4]
    assert len((interp / "ism.tsv").read_text().splitlines()) == 1 + 3 * 20000
    assert len((interp / "saliency.tsv").read_text().splitlines()) == 1 + 20000
    assert "Interpretation" in (run.outdir / "multiqc" / "seqclass-predict_multiqc_report.html").read_text()


def test_glob_of_inputs_that_share_a_file_name(tmp_path, nxf_home):
    """--input 'asm*/contigs.fa' in predict mode: one task per file, told apart by folder."""
    contig = (DEMO / "e_coli_K12_0-20kb.fa").read_text().splitlines()
    for name, lines in (("asm1", contig[:40]), ("asm2", contig[:1] + contig[40:80])):
        (tmp_path / "inputs" / name).mkdir(parents=True)
        (tmp_path / "inputs" / name / "contigs.fa").write_text("\n".join(lines) + "\n")
    glob = str(tmp_path / "inputs" / "asm*" / "contigs.fa")
    run = succeeded(run_pipeline(["-profile", "test_predict,local", "--input", glob],
                                 tmp_path / "launch", nxf_home, tmp_path / "results"))
    assert process_names(run) == ["MULTIQC", "SEQCLASS_PREDICT", "SEQCLASS_PREDICT", "SEQCLASS_REPORT"]
    assert listing(run.outdir / "predict") == ["asm1_contigs.predictions.tsv", "asm1_contigs.tracks.tsv",
                                              "asm2_contigs.predictions.tsv", "asm2_contigs.tracks.tsv"]


@pytest.fixture
def served(tmp_path):
    """tmp_path/served over HTTP on loopback: a remote file system (like S3) for Nextflow."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_samplesheet_on_a_remote_file_system(served, tmp_path, nxf_home):
    """Relative paths in a samplesheet that is not on the local disk resolve beside it, on its
    file system (HTTP here, as S3 for a sheet at s3://...), through validation and staging."""
    root, url = served
    (root / "run" / "fasta").mkdir(parents=True)
    for name in ("bacillus_promoter.fa", "bacillus_non_promoter.fa"):
        shutil.copy(DEMO / name, root / "run" / "fasta" / name)
    (root / "run" / "sheet.csv").write_text("sample,label,file\n"
                                            "promoter,promoter,fasta/bacillus_promoter.fa\n"
                                            "non_promoter,non_promoter,fasta/bacillus_non_promoter.fa\n")
    run = succeeded(run_pipeline(["-profile", "test,local", "-stub", "--input", f"{url}/run/sheet.csv"],
                                 tmp_path / "launch", nxf_home, tmp_path / "results"))
    assert process_names(run) == sorted(TRAIN_PROCESSES)
    # BUILD read the two files, downloaded from beside the samplesheet
    staged = sorted(p.name for p in (tmp_path / "launch" / "work").glob("*/*/inputs/*/*.fa"))
    assert staged == ["bacillus_non_promoter.fa", "bacillus_promoter.fa"]


@pytest.mark.parametrize("profile", ["test", "test_predict"])
def test_stub_run(profile, tmp_path, nxf_home):
    """tests/main.nf.test, "... - stub": the whole graph on the modules' stub: blocks."""
    run = succeeded(run_pipeline(["-profile", f"{profile},local", "-stub"], tmp_path, nxf_home,
                                 tmp_path / "results"))
    expected = TRAIN_PROCESSES if profile == "test" else ["SEQCLASS_PREDICT", "SEQCLASS_REPORT", "MULTIQC"]
    assert process_names(run) == sorted(expected)
    assert {row["status"] for row in run.trace()} == {"COMPLETED"}
    assert (run.outdir / "multiqc" / "multiqc_report.html").exists()
    if profile == "test":
        for published_file in ("build/seqclass.dataset.parquet", "split/seqclass.split.parquet",
                               "chunk/seqclass.chunks.parquet", "train/seqclass.model/config.json",
                               "evaluate/seqclass.evaluation/metrics.json"):
            assert (run.outdir / published_file).exists(), published_file
    else:
        assert listing(run.outdir / "predict") == ["e_coli_K12_0-20kb.predictions.tsv",
                                                   "e_coli_K12_0-20kb.tracks.tsv"]
        assert not (run.outdir / "train").exists()


# ---------------------------------------------------------------- 5: bad parameters and inputs

def samplesheet(tmp_path: Path, text: str) -> str:
    for name in ("bacillus_promoter.fa", "bacillus_non_promoter.fa"):
        shutil.copy(DEMO / name, tmp_path / name)
    (tmp_path / "sheet.csv").write_text(text)
    return str(tmp_path / "sheet.csv")


BAD_RUNS = {
    "missing input file": (["--input", "{tmp}/nowhere.csv"], ["--input: no such file: '{tmp}/nowhere.csv'"]),
    "unknown mode": (["--mode", "foo"], ["--mode must be 'train' or 'predict' (given: foo)"]),
    "unknown family": (["--family", "forest"], [
        "--family must be one of kmer-logreg, gc-logreg, similarity, cnn, bilstm, embedding-bag, "
        "transformer, awd-lstm, hf, hf-embed (given: forest)"]),
    "misspelt parameter": (["--kmersize", "5"],
                           ["--kmersize is not a seqclass parameter (did you mean --kmer_size?)"]),
    "negative window": (["--window", "-5"], ["--window: -5 is less than 1"]),
    # every published result but the report is read by a later step, which move would break
    "publish by moving": (["--publish_dir_mode", "move"], [
        "--publish_dir_mode must be symlink, rellink, link, copy or copyNoFollow (move would take a "
        "step's results from the steps that still read them) (given: move)"]),
    "samplesheet row without its file": (
        ["--input", "SHEET:sample,label,file\npromoter,promoter,bacillus_promoter.fa\nother,other,gone.fa\n"],
        ["sheet.csv line 3 (sample 'other'): file: no such file: 'gone.fa'"]),
    "samplesheet without a file column": (
        ["--input", "SHEET:sample,label\npromoter,promoter\n"],
        ["sheet.csv: no column 'file' (its header: sample,label)"]),
    "samplesheet repeating a sample": (
        ["--input", "SHEET:sample,label,file\nx,promoter,bacillus_promoter.fa\n"
                    "x,other,bacillus_non_promoter.fa\n"],
        ["sheet.csv: sample 'x' is on more than one line (lines 2, 3)"]),
    "predict glob matching nothing": (
        ["--mode", "predict", "--model", str(DEMO / "promoter.model"), "--input", "{tmp}/*.fa"],
        ["--input: no file matches '{tmp}/*.fa'"]),
    "no outdir": ([], ["--outdir is required"]),
    # a renamed parameter's old name beside the new one: which would win is not guessed
    "deprecated name beside its replacement": (["--learning_rate", "0.05", "--lr", "0.01"], [
        "WARN: --learning_rate is deprecated and will be removed in the next release; use --lr",
        "--learning_rate is the deprecated name of --lr: give only --lr"]),
}


@pytest.mark.parametrize("case", sorted(BAD_RUNS))
def test_bad_parameters_stop_the_run_before_any_task(case, tmp_path, nxf_home):
    args, expected = BAD_RUNS[case]
    args = [samplesheet(tmp_path, a[len("SHEET:"):]) if a.startswith("SHEET:") else a.format(tmp=tmp_path)
            for a in args]
    outdir = [] if case == "no outdir" else ["--outdir", str(tmp_path / "results")]
    run = nextflow(["run", str(REPO / "main.nf"), "-profile", "test,local", *args, *outdir],
                   tmp_path / "launch", nxf_home)
    assert run.returncode != 0
    assert run.problems() == [line.format(tmp=tmp_path) for line in expected], run.output
    assert not tasks_started(tmp_path / "launch")
    # no step's results; Nextflow opens its trace in pipeline_info/ before the script starts
    assert not (tmp_path / "results").exists() or listing(tmp_path / "results") == ["pipeline_info"]


def test_help_offline(tmp_path, nxf_home):
    run = nextflow(["run", str(REPO / "main.nf"), "--help"], tmp_path, nxf_home)
    assert run.returncode == 0, run.output
    for expected in ("--input", "--family", "Training options (seqclass train)"):
        assert expected in run.output, expected
    one = nextflow(["run", str(REPO / "main.nf"), "--help", "window"], tmp_path, nxf_home)
    assert one.returncode == 0 and one.problems()[0] == "--window"


def test_deprecated_learning_rate_still_sets_lr(tmp_path, nxf_home):
    """--learning_rate, --lr's name before the params were named like the flags they set, works
    for one more release: a warning, and its value reaches `seqclass train --lr` (a -stub run,
    whose train stub echoes its options as nf-core's stubs do)."""
    run = succeeded(run_pipeline(["-profile", "test,local", "-stub", "--learning_rate", "0.05"],
                                 tmp_path / "launch", nxf_home, tmp_path / "results"))
    assert "WARN: --learning_rate is deprecated and will be removed in the next release; use --lr" \
        in run.output.splitlines(), run.output
    train = [row["hash"] for row in run.trace() if row["name"].split(":")[-1].startswith("SEQCLASS_TRAIN ")]
    assert len(train) == 1, run.trace()
    script = next((tmp_path / "launch" / "work").glob(f"{train[0]}*/.command.sh")).read_text()
    assert "--lr 0.05" in script, script
    assert (run.outdir / "train" / "seqclass.model" / "config.json").exists()


# ---------------------------------------------------------------- 6: the strict parser

def test_strict_parser_run(train_run, tmp_path, nxf_home):
    """Run 1 under NXF_SYNTAX_PARSER=v2, the default from Nextflow 26.04: the same results."""
    run = succeeded(run_pipeline(["-profile", "test,local"], tmp_path, nxf_home, tmp_path / "results",
                                 NXF_SYNTAX_PARSER="v2"))
    assert process_names(run) == sorted(TRAIN_PROCESSES)
    metrics = "evaluate/seqclass.evaluation/metrics.json"
    assert (run.outdir / metrics).read_text() == (train_run.outdir / metrics).read_text()


# ---------------------------------------------------------------- 7: containers and AWS Batch

def resolved_config(profiles: str, *params: str) -> dict[str, str]:
    """The config `nextflow run -profile <profiles> <params>` resolves (tests/nextflow_config.groovy:
    `nextflow config` takes no --params), flattened: {"process.queue": "cpu-q", ...}."""
    jars = REPO / "tools" / "nextflow" / "lib"
    if not jars.is_dir():
        pytest.skip("tools/nextflow/lib/ (make nextflow) holds the Nextflow jars the config probe runs on")
    proc = subprocess.run(["java", "-cp", f"{jars}/*", "groovy.ui.GroovyMain",
                           str(REPO / "tests" / "nextflow_config.groovy"), str(REPO), profiles, *params],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def containers(profile: str, nxf_home: Path, tmp_path: Path) -> dict[str, str]:
    run = nextflow(["inspect", str(REPO / "main.nf"), "-profile", profile, "--outdir", str(tmp_path)],
                   tmp_path, nxf_home)
    assert run.returncode == 0, run.output
    inspected = json.loads(run.output[run.output.index("{"):])
    return {p["name"]: p["container"] for p in inspected["processes"]}


def test_awsbatch_profile(tmp_path, nxf_home):
    config = resolved_config("awsbatch,gpu", "--awsqueue", "cpu-q", "--awsqueue_gpu", "gpu-q")
    assert config["process.executor"] == "awsbatch"
    assert config["process.queue"] == "cpu-q"
    assert config["process.withLabel:process_gpu.queue"] == "gpu-q"
    assert config["process.withLabel:process_gpu.accelerator"] == "1"
    # Nextflow stages files with the AWS CLI of the compute environment's AMI, the schema's default
    assert config["aws.batch.cliPath"] == schema_default("awscli") == "/home/ec2-user/miniconda/bin/aws"
    assert config["aws.region"] is None
    # without --awsqueue_gpu the GPU tasks share the one queue; --awsregion and --awscli are taken
    other = resolved_config("awsbatch", "--awsqueue", "q", "--awsregion", "us-east-1", "--awscli", "/opt/aws")
    assert other["process.withLabel:process_gpu.queue"] == "q"
    assert (other["aws.region"], other["aws.batch.cliPath"]) == ("us-east-1", "/opt/aws")
    # without --awsqueue, or with a local work directory, the run stops before any task. The AWS
    # Batch executor makes Nextflow fetch its nf-amazon plugin at start, which an offline run
    # cannot: the executor is made local here, the check reads the profile
    (tmp_path / "local.config").write_text("process.executor = 'local'\n")
    run = nextflow(["run", str(REPO / "main.nf"), "-profile", "test,awsbatch",
                    "-c", str(tmp_path / "local.config"), "--outdir", str(tmp_path / "r")],
                   tmp_path / "launch", nxf_home)
    assert run.returncode != 0
    assert run.problems() == [
        "-profile awsbatch needs --awsqueue <AWS Batch job queue>",
        "-profile awsbatch needs -work-dir s3://<bucket>/<path> (AWS Batch jobs share files through S3; "
        f"here: {tmp_path / 'launch' / 'work'})"], run.output
    assert not tasks_started(tmp_path / "launch")


def schema_default(name: str):
    schema = json.loads((REPO / "nextflow_schema.json").read_text())
    return next(group["properties"][name]["default"] for group in schema["$defs"].values()
                if name in group.get("properties", {}))


@pytest.mark.parametrize("engine", ["docker", "singularity", "apptainer"])
def test_container_profiles(engine, tmp_path, nxf_home):
    config = resolved_config(f"{engine},gpu")
    assert config[f"{engine}.enabled"] == "true"
    assert config[f"{engine}.registry"] == "quay.io"
    gpu_flag = "--gpus all" if engine == "docker" else "--nv"
    assert gpu_flag in config[f"{engine}.runOptions"]
    assert gpu_flag not in (resolved_config(engine).get(f"{engine}.runOptions") or "")

    version = __version__  # the image tag is the pipeline's version, manifest.version (test_nextflow_wiring)
    images = containers(f"test,{engine},gpu", nxf_home, tmp_path)
    gpu_processes = {"SEQCLASS_TRAIN", "SEQCLASS_PREDICT", "SEQCLASS_PRETRAIN", "SEQCLASS_INTERPRET"}
    for process, image in images.items():
        if process == "MULTIQC":
            # Singularity takes the depot's image file; Docker the registry's; Apptainer's name gets
            # apptainer.registry when it is pulled (docker://quay.io/...), which inspect leaves out
            expected = {"singularity": "https://depot.galaxyproject.org/singularity/multiqc:1.25.1--pyhdfd78af_0",
                        "docker": "quay.io/biocontainers/multiqc:1.25.1--pyhdfd78af_0",
                        "apptainer": "biocontainers/multiqc:1.25.1--pyhdfd78af_0"}[engine]
        elif process in gpu_processes:
            expected = f"ghcr.io/seqclass/seqclass-cuda:{version}"
        else:
            expected = f"ghcr.io/seqclass/seqclass:{version}"
        assert image == expected, process
    # without -profile gpu every seqclass task has the CPU image
    cpu = containers(f"test,{engine}", nxf_home, tmp_path)
    assert cpu["SEQCLASS_TRAIN"] == f"ghcr.io/seqclass/seqclass:{version}"
