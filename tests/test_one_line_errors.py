"""Every expected failure is one line on stderr (`seqclass STEP: error: ...`) naming the file,
record or flag, with exit status 1 (2: a command line argparse cannot parse; 130: Ctrl-C; 143:
SIGTERM), and nothing written; --debug re-raises. Option values are refused when the step's
Config is made, before any file is read (issue 14)."""

from __future__ import annotations

import errno
import importlib.util
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ONE_THREAD_ENV, REPO, fails, listing, ok, random_dna, run, write_fasta

from seqclass.errors import InputError

HAVE_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch is not installed")


# ---------------------------------------------------------------- outputs that cannot be written

def test_output_under_sys_is_one_line(capsys, tmp_path, pipeline):
    out = Path("/sys/kernel/seqclass_out")
    fails(capsys, ["chunk", "--dataset", pipeline.split, "--window", "60",
                      "--out", out / "c.parquet"], [out], [tmp_path], alone=False)
    assert not out.exists()


def test_output_below_a_file_is_one_line(capsys, tmp_path, pipeline):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where a directory is expected\n")
    fails(capsys, ["predict", "--model", pipeline.model, "--input", pipeline.fastas["pos"],
                      "--out", blocker / "p.tsv"], [blocker], [tmp_path], alone=False)


def test_disk_full_is_one_line(capsys, tmp_path, monkeypatch):
    from seqclass.steps import versions

    def full(cfg):
        raise OSError(errno.ENOSPC, "No space left on device", str(cfg.out))

    monkeypatch.setattr(versions, "run", full)
    fails(capsys, ["versions", "--process", "P", "--out", tmp_path / "v.yml"],
          [f"{tmp_path / 'v.yml'}: No space left on device"], alone=False)


def test_train_out_dot_is_one_line(capsys, tmp_path, pipeline, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fails(capsys, ["train", "--dataset", pipeline.split, "--family", "gc-logreg", "--out", "."],
          [".: exists and was not written by seqclass"], [tmp_path], alone=False)


def test_train_out_holding_the_input_is_one_line(capsys, tmp_path, pipeline):
    data = tmp_path / "data"
    data.mkdir()
    dataset = data / "split.parquet"
    dataset.write_bytes(pipeline.split.read_bytes())
    fails(capsys, ["train", "--dataset", dataset, "--family", "gc-logreg", "--out", data],
          [f"{data}: output would hold the input {dataset}"], [tmp_path], alone=False)


# ---------------------------------------------------------------- options checked at parse time

@pytest.mark.parametrize("flags, mention", [
    (["--window", "-10"], "--window -10"),
    (["--window", "0"], "--window 0"),
    (["--stride", "-5"], "--stride -5"),
    (["--min-prob", "1.5"], "--min-prob 1.5"),
    (["--threshold", "-0.1"], "--threshold -0.1"),
    (["--short-below", "0"], "--short-below 0"),
    (["--threads", "0"], "--threads 0: must be at least 1"),
])
def test_predict_options_refused_before_reading(capsys, tmp_path, pipeline, flags, mention):
    missing = tmp_path / "never_read.fa"  # an option is refused before any input is opened
    fails(capsys, ["predict", "--model", tmp_path / "no_model", "--input", missing,
                      "--out", tmp_path / "p.tsv", *flags], [mention], [tmp_path], alone=False)


@pytest.mark.parametrize("step, flags, mention", [
    ("chunk", ["--window", "10", "--stride", "0"], "--stride 0"),
    ("chunk", ["--window", "10", "--rc-prob", "2"], "--rc-prob 2"),
    ("train", ["--ood-quantile", "1"], "--ood-quantile 1"),
    ("split", ["--identity", "0"], "--identity 0"),
    ("split", ["--threads", "0"], "--threads 0"),
    ("build", ["--max-ambiguous", "1.5"], "--max-ambiguous 1.5"),
    ("evaluate", ["--threshold", "2"], "--threshold 2"),
    ("evaluate", ["--threads", "0"], "--threads 0: must be at least 1"),
    ("pretrain", ["--kmer-size", "-1"], "--kmer-size -1"),
    ("pretrain", ["--batch-size", "0"], "--batch-size 0"),
    ("interpret", ["--batch-size", "0"], "--batch-size 0"),
])
def test_step_options_refused_before_reading(capsys, tmp_path, step, flags, mention):
    missing = tmp_path / "never_read"
    given = {"chunk": ["--dataset", missing], "train": ["--dataset", missing],
             "split": ["--dataset", missing], "build": ["--input", missing],
             "evaluate": ["--model", missing, "--dataset", missing],
             "pretrain": ["--input", missing],
             "interpret": ["--model", missing, "--input", missing]}[step]
    fails(capsys, [step, *given, "--out", tmp_path / "out", *flags], [mention], [tmp_path], alone=False)


HAVE_HF = HAVE_TORCH and importlib.util.find_spec("transformers") is not None


def _deep(flags: list[str], mention: str, hf: bool = False):
    return pytest.param(flags, mention, marks=pytest.mark.skipif(
        not (HAVE_HF if hf else HAVE_TORCH), reason="the family needs PyTorch (and transformers)"))


@pytest.mark.parametrize("flags, mention", [
    _deep(["--family", "cnn", "--channels", "0"], "--channels 0: must be at least 1"),
    _deep(["--family", "cnn", "--kernel-size", "-3"], "--kernel-size -3: must be at least 1"),
    _deep(["--family", "cnn", "--pooling", "flatten", "--max-len", "0"],
          "--pooling flatten needs --max-len"),
    _deep(["--family", "cnn", "--pooling", "flatten", "--max-len", "20", "--pool-size", "8"],
          "--max-len 20 leaves no position after 3 max-pools of width 8"),
    _deep(["--family", "cnn", "--batch-size", "0"], "--batch-size 0: must be at least 1"),
    _deep(["--family", "transformer", "--embed-dim", "30", "--heads", "4"],
          "--heads 4 must divide --embed-dim 30"),
    _deep(["--family", "transformer", "--heads", "0"], "--heads 0: must be at least 1"),
    _deep(["--family", "transformer", "--ff-dim", "0"], "--ff-dim 0: must be at least 1"),
    _deep(["--family", "transformer", "--max-len", "0"], "--positions learned needs --max-len"),
    _deep(["--family", "bilstm", "--lstm-layers", "0"], "--lstm-layers 0: must be at least 1"),
    _deep(["--family", "bilstm", "--embed-dim", "0"], "--embed-dim 0: must be at least 1"),
    _deep(["--family", "bilstm", "--token-k", "0"], "--token-k 0: must be at least 1"),
    _deep(["--family", "embedding-bag", "--bag-hidden", "-1"], "--bag-hidden -1: must be at least 0"),
    _deep(["--family", "awd-lstm", "--token-stride", "0"], "--token-stride 0: must be at least 1"),
    _deep(["--family", "awd-lstm", "--awd-layers", "0"], "--awd-layers 0: must be at least 1"),
    _deep(["--family", "awd-lstm", "--weight-dropout", "1"], "--weight-dropout 1.0: must be in [0, 1)"),
    _deep(["--family", "awd-lstm", "--lr-decay-per-layer", "0"],
          "--lr-decay-per-layer 0.0: must be above 0"),
    _deep(["--family", "awd-lstm", "--unfreeze-every", "-2"], "--unfreeze-every -2: must be at least -1"),
    _deep(["--family", "hf-embed", "--head-epochs", "0"], "--head-epochs 0: must be at least 1", hf=True),
    _deep(["--family", "hf", "--hf-kmer", "0"], "--hf-kmer 0: must be at least 1", hf=True),
    (["--family", "kmer-logreg", "--kmer-stride", "0"], "--kmer-stride 0: must be at least 1"),
    (["--family", "kmer-logreg", "--kmer-size", "0"], "--kmer-size 0: must be at least 1"),
    (["--family", "similarity", "--max-hits", "0"], "--max-hits 0: must be at least 1"),
    (["--family", "similarity", "--threads", "0"], "--threads 0: must be at least 1"),
    (["--family", "similarity", "--kmer-k", "-1"], "--kmer-k -1: must be at least 0"),
    (["--family", "similarity", "--holdout-identity", "0"], "--holdout-identity 0.0: must be in (0, 1]"),
])
def test_family_options_refused_before_reading(capsys, tmp_path, flags, mention):
    """A family option that is wrong whatever the data is refused when the flags are parsed
    (its Params' __post_init__): the dataset, which does not exist, is never opened."""
    missing = tmp_path / "never_read.parquet"
    line = fails(capsys, ["train", "--dataset", missing, "--out", tmp_path / "m", *flags],
                 [mention], [tmp_path])
    assert line.startswith(f"seqclass train: error: {mention}"), line
    assert str(missing) not in line


def test_usage_errors_are_one_line(capsys, tmp_path):
    fails(capsys, ["chunk", "--dataset", tmp_path / "d.parquet"], ["--out", "--window"], status=2,
          alone=False)
    fails(capsys, ["predict", "--window", "ten"], ["--window", "ten"], status=2, alone=False)


# ---------------------------------------------------------------- corrupt inputs

@pytest.mark.parametrize("column", ["id", "sequence", "label"])
def test_parquet_with_nulls_is_one_line(capsys, tmp_path, pipeline, column):
    table = pq.read_table(pipeline.split)
    values = table.column(column).to_pylist()
    values[3] = None
    table = table.set_column(table.column_names.index(column), column,
                             pa.array(values, pa.string()))
    bad = tmp_path / "nulls.parquet"
    pq.write_table(table, bad)  # the schema keeps the seqclass metadata
    out = tmp_path / "out"
    out.mkdir()
    fails(capsys, ["train", "--dataset", bad, "--family", "gc-logreg", "--out", out / "m"],
          [bad, repr(column), "row 3"], [out], alone=False)


def test_corrupt_report_inputs_are_one_line(capsys, tmp_path, pipeline):
    out = tmp_path / "out"
    out.mkdir()
    evaluation = tmp_path / "evaluation"
    evaluation.mkdir()
    (evaluation / "metrics.json").write_text("[1, 2, 3]\n")
    fails(capsys, ["report", "--evaluation", evaluation, "--out", out / "r"], [evaluation / "metrics.json"],
          [out], alone=False)
    predictions = tmp_path / "p.tsv"
    predictions.write_text("id\tscore\nx\t0.5\n")  # no label column
    fails(capsys, ["report", "--predictions", predictions, "--out", out / "r"], [predictions, "label"], [out],
          alone=False)
    leakage = tmp_path / "leakage.tsv"
    leakage.write_text("id\tsomething\nx\t1\n")
    fails(capsys, ["report", "--leakage", leakage, "--out", out / "r"], [leakage], [out], alone=False)
    versions = tmp_path / "versions.yml"
    versions.write_text("a: [unclosed\n")
    fails(capsys, ["report", "--versions", versions, "--out", out / "r"], [versions], [out], alone=False)
    summary = tmp_path / "summary.json"
    summary.write_bytes(b"\xff\xfe\x00garbage")
    fails(capsys, ["report", "--dataset-summary", summary, "--out", out / "r"], [summary], [out], alone=False)


def _newest_checkpoint(directory: Path) -> Path:
    return sorted((directory / "checkpoints").iterdir())[-1]


@needs_torch
@pytest.mark.parametrize("damage", ["truncated safetensors", "invalid state.json"])
def test_corrupt_checkpoint_on_train_resume_is_one_line(capsys, tmp_path, pipeline, damage,
                                                        one_torch_thread):
    model = tmp_path / "m"
    flags = ["--family", "cnn", "--batch-size", "8", "--max-len", "100", "--eval-every", "1"]
    ok("train", "--dataset", pipeline.split, *flags, "--max-steps", "1", "--out", model)
    step = _newest_checkpoint(model)
    if damage == "truncated safetensors":
        broken = step / "model.safetensors"
        broken.write_bytes(broken.read_bytes()[:100])
    else:
        broken = step / "state.json"
        broken.write_text('{"step": 1, ')
    before = listing(tmp_path)
    line = fails(capsys, ["train", "--dataset", pipeline.split, *flags, "--max-steps", "2",
                             "--resume", "--out", model], ["--resume"], alone=False)
    # named as the copy of MODEL that --resume trains on
    assert f"{step.name}/{broken.name}" in line, line
    assert listing(tmp_path) == before  # no .m.partial kept: it was a copy of the finished model


@needs_torch
def test_corrupt_checkpoint_on_pretrain_resume_is_one_line(capsys, tmp_path, one_torch_thread):
    fasta = write_fasta(tmp_path / "genome.fa", [("chr1", random_dna(__import__("random").Random(5),
                                                                       2000))])
    flags = ["--kmer-size", "3", "--embed-dim", "8", "--hidden", "8", "--layers", "1", "--bptt",
             "10", "--batch-size", "4", "--eval-every", "2"]
    lm = tmp_path / "lm"
    ok("pretrain", "--input", fasta, *flags, "--max-steps", "2", "--out", lm)
    broken = _newest_checkpoint(lm) / "optimizer.safetensors"
    broken.write_bytes(broken.read_bytes()[:50])
    before = listing(tmp_path)
    fails(capsys, ["pretrain", "--input", fasta, *flags, "--max-steps", "4", "--resume",
                      "--out", lm], [f"{broken.parent.name}/optimizer.safetensors", "--resume"], alone=False)
    assert listing(tmp_path) == before


# ---------------------------------------------------------------- other failures, signals

def test_multi_line_messages_are_joined(capsys, tmp_path, monkeypatch):
    from seqclass.steps import versions

    def breaks(cfg):
        raise InputError("first line\nsecond line\n\nthird", cfg.out)

    monkeypatch.setattr(versions, "run", breaks)
    fails(capsys, ["versions", "--process", "P", "--out", tmp_path / "v.yml"],
          [f"{tmp_path / 'v.yml'}: first line; second line; third"], alone=False)


def test_unexpected_exception_is_one_line_and_debug_raises(capsys, tmp_path, monkeypatch):
    from seqclass.steps import versions

    def bug(cfg):
        raise RuntimeError("something broke\nwith details")

    monkeypatch.setattr(versions, "run", bug)
    args = ["versions", "--process", "P", "--out", tmp_path / "v.yml"]
    fails(capsys, args, ["internal error: RuntimeError: something broke; rerun with "
                               "--debug for the traceback"], alone=False)
    with pytest.raises(RuntimeError):
        run("--debug", *args)


def test_keyboard_interrupt_is_130(capsys, tmp_path, monkeypatch):
    from seqclass.steps import versions

    def interrupted(cfg):
        raise KeyboardInterrupt

    monkeypatch.setattr(versions, "run", interrupted)
    fails(capsys, ["versions", "--process", "P", "--out", tmp_path / "v.yml"], ["interrupted"], status=130,
          alone=False)


@needs_torch
def test_sigterm_removes_temporary_outputs(tmp_path):
    fasta = write_fasta(tmp_path / "genome.fa", [("chr1", random_dna(__import__("random").Random(6),
                                                                       3000))])
    lm = tmp_path / "lm"
    partial = tmp_path / ".lm.partial"
    proc = subprocess.Popen(
        [sys.executable, "-m", "seqclass", "pretrain", "--input", str(fasta), "--out", str(lm),
         "--kmer-size", "3", "--embed-dim", "8", "--hidden", "8", "--layers", "1", "--bptt", "10",
         "--batch-size", "4", "--max-steps", "1000000", "--eval-every", "50",
         "--checkpoint-every", "5"],
        env=ONE_THREAD_ENV, cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while not (partial / "checkpoints").is_dir() and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.2)
        time.sleep(0.5)  # training, between checkpoints
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "seqclass pretrain: error: terminated (SIGTERM)", err
    assert not lm.exists()
    # only the documented work directory, kept to --resume from, and the input remain
    assert {p.name for p in tmp_path.iterdir()} == {"genome.fa", ".lm.partial"}
    assert not [p for p in tmp_path.rglob("*.tmp") if p.parent.name != "checkpoints"]
    assert json.loads((sorted((partial / "checkpoints").glob("step-*"))[-1] / "state.json")
                      .read_text())["step"] >= 5
