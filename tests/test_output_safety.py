"""Outputs never destroy what the user had (issue 14).

A directory output replaces only a directory a seqclass step wrote (it carries `.seqclass.json`);
no output may be, hold or lie inside an input or another output, symlinks resolved; and two
processes never write one output at once. Each refusal is exit status 1, one line on stderr
naming the path, and every byte the user had where it was.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ONE_THREAD_ENV, REPO, fails, listing, ok, run

from seqclass import __version__
from seqclass.io.atomic import MARKER, lock_path, work_path

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                 reason="PyTorch is not installed")
DEEP = ["--family", "embedding-bag", "--embed-dim", "8", "--bag-hidden", "0", "--batch-size", "8",
        "--max-steps", "4", "--eval-every", "2"]


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path below `root` (and `root` itself when a file), with a file's bytes."""
    if root.is_file():
        return {".": root.read_bytes()}
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


def refused(capsys, args, path, *watch: Path, text: str | None = None) -> str:
    """A command that must be refused (conftest.fails) in a line naming `path` (and `text`),
    every file below `watch` unchanged byte for byte."""
    before = {w: snapshot(w) for w in watch}
    line = fails(capsys, args, [path, *([text] if text is not None else [])])
    for w in watch:
        assert snapshot(w) == before[w], f"{w} changed"
    return line


@pytest.fixture
def proj(tmp_path, pipeline) -> Path:
    """A user's project directory: the split, a model, an evaluation and notes."""
    proj = tmp_path / "proj"
    proj.mkdir()
    shutil.copy(pipeline.split, proj / "split.parquet")
    shutil.copytree(pipeline.model, proj / "model")
    shutil.copytree(pipeline.evaluation, proj / "evaluation")
    (proj / "notes.txt").write_text("three weeks of notes\n")
    return proj


# ---------------------------------------------------------------- (a) directory outputs

def test_train_out_holding_the_dataset_is_refused(capsys, proj):
    refused(capsys, ["train", "--dataset", proj / "split.parquet", "--family", "kmer-logreg",
                     "--out", proj], proj, proj)


def test_train_out_over_a_user_directory_is_refused(capsys, tmp_path, pipeline):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me\n")
    refused(capsys, ["train", "--dataset", pipeline.split, "--family", "kmer-logreg", "--out", mine],
            mine, tmp_path, text="not written by seqclass")
    empty = tmp_path / "empty"
    empty.mkdir()  # even an empty one: seqclass did not make it
    refused(capsys, ["train", "--dataset", pipeline.split, "--family", "gc-logreg", "--out", empty],
            empty, tmp_path, text="not written by seqclass")


def test_evaluate_out_at_the_parent_of_its_inputs_is_refused(capsys, proj):
    refused(capsys, ["evaluate", "--model", proj / "model", "--dataset", proj / "split.parquet",
                     "--out", proj], proj, proj)


def test_report_out_at_the_parent_of_its_inputs_is_refused(capsys, proj):
    refused(capsys, ["report", "--evaluation", proj / "evaluation", "--out", proj], proj, proj)


def test_interpret_out_over_a_user_directory_is_refused(capsys, tmp_path, pipeline):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "plot.png").write_bytes(b"not ours")
    refused(capsys, ["interpret", "--model", pipeline.model, "--input", pipeline.fastas["pos"],
                     "--max-sequences", "1", "--out", mine], mine, tmp_path,
            text="not written by seqclass")


@pytest.mark.parametrize("step", ["train", "evaluate", "report", "pretrain"])
def test_existing_file_as_directory_out_is_refused(capsys, tmp_path, pipeline, step):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a directory\n")
    args = {
        "train": ["train", "--dataset", pipeline.split, "--family", "gc-logreg"],
        "evaluate": ["evaluate", "--model", pipeline.model, "--dataset", pipeline.split],
        "report": ["report", "--evaluation", pipeline.evaluation],
        "pretrain": ["pretrain", "--input", pipeline.fastas["pos"], "--max-steps", "2"],
    }[step]
    refused(capsys, [*args, "--out", notes], notes, tmp_path, text="not written by seqclass")


def test_seqclass_directories_are_replaced_and_marked(tmp_path, pipeline):
    out = tmp_path / "m"
    ok("train", "--dataset", pipeline.split, "--family", "gc-logreg", "--out", out)
    assert json.loads((out / MARKER).read_text()) == {"step": "train", "version": __version__}
    ok("train", "--dataset", pipeline.split, "--family", "kmer-logreg", "--out", out,
       "--kmer-size", "4")
    assert json.loads((out / "config.json").read_text())["family"] == "kmer-logreg"
    ok("evaluate", "--model", out, "--dataset", pipeline.split, "--out", tmp_path / "ev")
    ok("evaluate", "--model", out, "--dataset", pipeline.split, "--out", tmp_path / "ev")
    assert json.loads((tmp_path / "ev" / MARKER).read_text())["step"] == "evaluate"
    assert listing(tmp_path) == {"m", *(f"m/{p}" for p in listing(out)),
                                 "ev", *(f"ev/{p}" for p in listing(tmp_path / "ev"))}


def test_file_outputs_still_replace_files(tmp_path, pipeline):
    out = tmp_path / "p.tsv"
    out.write_text("yesterday's predictions\n")
    ok("predict", "--model", pipeline.model, "--input", pipeline.fastas["pos"], "--out", out)
    assert out.read_text().startswith("id\t")


def test_model_directory_without_marker_is_still_an_input(tmp_path, pipeline):
    """Model directories of earlier versions have no marker: they are read as before."""
    old = tmp_path / "old_model"
    shutil.copytree(pipeline.model, old)
    (old / MARKER).unlink()
    ok("predict", "--model", old, "--input", pipeline.fastas["pos"], "--out", tmp_path / "p.tsv")
    ok("evaluate", "--model", old, "--dataset", pipeline.split, "--out", tmp_path / "ev")
    assert not (old / MARKER).exists()


# ---------------------------------------------------------------- (b) side outputs

def test_predict_tracks_inside_the_model_is_refused(capsys, tmp_path, pipeline):
    model = tmp_path / "m"
    shutil.copytree(pipeline.model, model)
    refused(capsys, ["predict", "--model", model, "--input", pipeline.fastas["pos"],
                     "--out", tmp_path / "p.tsv", "--tracks", model / "labels.json"],
            model / "labels.json", tmp_path, text="refusing")


def test_predict_out_equal_to_tracks_is_refused(capsys, tmp_path, pipeline):
    same = tmp_path / "p.tsv"
    refused(capsys, ["predict", "--model", pipeline.model, "--input", pipeline.fastas["pos"],
                     "--out", same, "--tracks", same], same, tmp_path, text="refusing")
    assert not same.exists()


def test_build_out_equal_to_summary_is_refused(capsys, tmp_path, pipeline):
    same = tmp_path / "d.parquet"
    refused(capsys, ["build", "--input", pipeline.fastas["pos"], pipeline.fastas["neg"],
                     "--out", same, "--summary", same], same, tmp_path, text="refusing")


def test_build_summary_over_an_input_is_refused(capsys, tmp_path, pipeline):
    pos = tmp_path / "pos.fa"
    shutil.copy(pipeline.fastas["pos"], pos)
    refused(capsys, ["build", "--input", pos, pipeline.fastas["neg"], "--out", tmp_path / "d.parquet",
                     "--summary", pos], pos, tmp_path, text="refusing")


def test_split_sidecar_over_an_input_is_refused(capsys, tmp_path, pipeline):
    """split writes <stem>.leakage.tsv beside --out: here that is the dataset itself."""
    dataset = tmp_path / "s.leakage.tsv"
    shutil.copy(pipeline.dataset, dataset)
    refused(capsys, ["split", "--dataset", dataset, "--out", tmp_path / "s.parquet",
                     "--clusterer", "builtin"], dataset, tmp_path, text="refusing")


def test_output_inside_another_output_is_refused(capsys, tmp_path, pipeline):
    out = tmp_path / "p.tsv"
    refused(capsys, ["predict", "--model", pipeline.model, "--input", pipeline.fastas["pos"],
                     "--out", out, "--tracks", out / "tracks.tsv"], out / "tracks.tsv", tmp_path,
            text="refusing")


# ---------------------------------------------------------------- symlinks

def test_symlinked_output_into_the_model_is_refused(capsys, tmp_path, pipeline):
    model = tmp_path / "m"
    shutil.copytree(pipeline.model, model)
    link = tmp_path / "link"
    link.symlink_to(model)
    refused(capsys, ["predict", "--model", model, "--input", pipeline.fastas["pos"],
                     "--out", tmp_path / "p.tsv", "--tracks", link / "labels.json"],
            link / "labels.json", tmp_path, text="refusing")


def test_symlink_to_an_input_as_output_is_refused(capsys, tmp_path, pipeline):
    dataset = tmp_path / "d.parquet"
    shutil.copy(pipeline.split, dataset)
    link = tmp_path / "c.parquet"
    link.symlink_to(dataset)
    refused(capsys, ["chunk", "--dataset", dataset, "--out", link, "--window", "60"],
            link, tmp_path, text="refusing")


def test_symlink_to_a_user_directory_as_directory_out_is_refused(capsys, tmp_path, pipeline):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me\n")
    link = tmp_path / "out"
    link.symlink_to(mine)
    refused(capsys, ["evaluate", "--model", pipeline.model, "--dataset", pipeline.split,
                     "--out", link], link, tmp_path, text="not written by seqclass")


def test_input_through_a_symlinked_directory_is_seen(capsys, tmp_path, proj):
    """--out is the project; the dataset is named through a link to it."""
    link = tmp_path / "alias"
    link.symlink_to(proj)
    refused(capsys, ["train", "--dataset", link / "split.parquet", "--family", "gc-logreg",
                     "--out", proj], proj, proj)


# ---------------------------------------------------------------- (c) one writer per output

HOLD = """
import sys, time
from pathlib import Path
from seqclass.io.atomic import atomic_outputs
with atomic_outputs([], [Path(sys.argv[1])], step="train") as outs:
    d = outs.work_directory(Path(sys.argv[1]), keep_on_error=lambda d: True)
    (d / "training_log.jsonl").write_text("the first run's log\\n")
    print("holding", flush=True)
    time.sleep(120)
"""


def test_second_writer_of_an_output_is_refused(capsys, tmp_path, pipeline):
    out = tmp_path / "m"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE,
                              text=True, cwd=REPO, env=ONE_THREAD_ENV)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        partial = work_path(out)
        line = refused(capsys, ["train", "--dataset", pipeline.split, "--family", "gc-logreg",
                                "--out", out], out, partial,
                       text=f"in use by another seqclass process (pid {holder.pid})")
        assert line.endswith(f"{out} is in use by another seqclass process (pid {holder.pid})")
        assert (partial / "training_log.jsonl").read_text() == "the first run's log\n"
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()


@needs_torch
def test_two_deep_trainings_to_one_out(capsys, tmp_path, pipeline):
    """The first runs to the end; the second is refused at once, touching nothing."""
    out = tmp_path / "m"
    args = ["train", "--dataset", str(pipeline.split), *DEEP, "--max-steps", "400",
            "--eval-every", "200", "--out", str(out)]
    first = subprocess.Popen([sys.executable, "-m", "seqclass", *args], stderr=subprocess.PIPE,
                             text=True, cwd=REPO, env=ONE_THREAD_ENV)
    try:
        deadline = time.monotonic() + 120
        while not lock_path(out).exists():
            assert first.poll() is None, "the first training ended before it was seen running"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        refused(capsys, args, out, text=f"in use by another seqclass process (pid {first.pid})")
        _, err = first.communicate(timeout=300)
        assert first.returncode == 0, err
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert (out / "model.safetensors").is_file() and (out / MARKER).is_file()
    assert listing(tmp_path) == {"m", *(f"m/{p}" for p in listing(out))}  # no lock, no .partial


@needs_torch
def test_stale_lock_is_taken_over(tmp_path, pipeline):
    out = tmp_path / "m"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    lock_path(out).write_text(dead.stdout)  # left by a process that died holding it
    ok("train", "--dataset", pipeline.split, *DEEP, "--out", out)
    assert listing(tmp_path) == {"m", *(f"m/{p}" for p in listing(out))}


def test_foreign_partial_directory_is_refused(capsys, tmp_path, pipeline):
    """A hidden .OUT.partial that seqclass did not leave is not trained into or deleted."""
    out = tmp_path / "m"
    partial = work_path(out)
    partial.mkdir()
    (partial / "thesis.tex").write_text("\\chapter{}\n")
    if importlib.util.find_spec("torch") is None:
        pytest.skip("PyTorch is not installed")
    refused(capsys, ["train", "--dataset", pipeline.split, *DEEP, "--out", out], partial, tmp_path,
            text="not written by seqclass")


def test_failed_step_leaves_no_lock_or_new_directories(capsys, tmp_path, pipeline):
    out = tmp_path / "new" / "deeper" / "p.tsv"
    empty = tmp_path / "empty.fa"
    empty.write_text("")
    capsys.readouterr()
    assert run("predict", "--model", pipeline.model, "--input", empty, "--out", out) == 1
    assert listing(tmp_path) == {"empty.fa"}
    assert not os.path.exists(lock_path(out))
