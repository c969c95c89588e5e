"""Data-parallel training under torchrun: two processes on the CPU with gloo, as GPUs would
train with NCCL. Each launch starts two Python processes that import PyTorch, about 10 s.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import signal
import subprocess
import sys

import pytest
from conftest import REPO, listing, log_records, ok, run
from test_deep import SMALL


def _have_gloo() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch.distributed

    return torch.distributed.is_available() and torch.distributed.is_gloo_available()


needs_gloo = pytest.mark.skipif(not _have_gloo(), reason="PyTorch with torch.distributed and its "
                                "gloo backend is not installed")


@pytest.fixture(scope="module", autouse=True)
def one_thread(one_torch_thread):
    """The in-process steps here run torch on one thread (see conftest.one_torch_thread)."""


def torchrun(*args) -> subprocess.CompletedProcess:
    """`seqclass ARGS...` in two processes, as `torchrun --nproc_per_node 2` starts them.

    A launch that hangs (a process waiting at a step the other never takes) fails the test,
    and takes its processes with it.
    """
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "seqclass", *map(str, args)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          cwd=REPO, start_new_session=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"torchrun {' '.join(map(str, args))} hung: {proc.communicate()[1]}")
    return subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)


@needs_gloo
def test_two_processes_share_each_epoch(pipeline, tmp_path):
    out = tmp_path / "m"
    args = ["train", "--dataset", pipeline.split, "--family", "cnn", *SMALL["cnn"], "--batch-size", "8",
            "--lr", "5e-3", "--device", "cpu"]
    proc = torchrun(*args, "--epochs", "2", "--out", out)
    assert proc.returncode == 0, proc.stderr
    # rank 1 wrote nothing: no second model, no work directory left, nothing beside OUT
    assert listing(tmp_path) == {"m", *(f"m/{p}" for p in listing(out))}
    assert {p.name for p in out.iterdir()} == {
        ".seqclass.json", "config.json", "labels.json", "model.safetensors", "training.json", "ood.json",
        "training_log.jsonl", "loss.png", "metrics.png", "checkpoints"}

    # a step takes a batch of 8 on each process: 16 rows, and half the steps of one process
    training = json.loads((out / "training.json").read_text())
    loop = training["training_loop"]
    steps_per_epoch = math.ceil(math.ceil(training["n_train"] / 8) / 2)
    assert loop["world_size"] == 2 and loop["effective_batch_size"] == 16
    assert loop["steps"] == loop["total_steps"] == 2 * steps_per_epoch and loop["epochs"] == 2.0
    assert [r["step"] for r in log_records(out)] == [steps_per_epoch, 2 * steps_per_epoch]
    (ckpt,) = (out / "checkpoints").iterdir()
    assert json.loads((ckpt / "state.json").read_text())["world_size"] == 2
    ok(*args, "--epochs", "2", "--out", tmp_path / "one")  # the same in one process
    one = json.loads((tmp_path / "one" / "training.json").read_text())["training_loop"]
    assert one["world_size"] == 1 and one["effective_batch_size"] == 8
    assert one["steps"] == 2 * loop["steps"]  # an even number of batches an epoch

    ok("evaluate", "--model", out, "--dataset", pipeline.split, "--out", tmp_path / "e")
    assert json.loads((tmp_path / "e" / "metrics.json").read_text())["family"] == "cnn"

    # both processes continue the finished model: rank 0 copies it into the work directory,
    # rank 1 reads its checkpoint there
    proc = torchrun(*args, "--epochs", "3", "--out", out, "--resume")
    assert proc.returncode == 0, proc.stderr
    loop = json.loads((out / "training.json").read_text())["training_loop"]
    assert loop["steps"] == 3 * steps_per_epoch and loop["resumed_from_step"] == 2 * steps_per_epoch
    assert [r["step"] for r in log_records(out)] == [steps_per_epoch * e for e in (1, 2, 3)]


@needs_gloo
def test_early_stopping_stops_every_process(pipeline, tmp_path, capsys):
    """With --lr 0 nothing improves after the first evaluation: rank 0 stops at the third, and
    rank 1 with it (else it would wait for rank 0's gradients until the launch timed out)."""
    out = tmp_path / "m"
    args = ["train", "--dataset", pipeline.split, "--family", "embedding-bag", "--embed-dim", "8",
            "--batch-size", "8", "--max-steps", "50", "--eval-every", "2", "--lr", "0",
            "--early-stop-metric", "loss", "--patience", "2", "--device", "cpu", "--out", out]
    proc = torchrun(*args)
    assert proc.returncode == 0, proc.stderr
    loop = json.loads((out / "training.json").read_text())["training_loop"]
    assert loop["stopped_early"] is True and loop["steps"] == 6 and loop["best_step"] == 2
    assert [r["step"] for r in log_records(out)] == [2, 4, 6]

    # its steps took 16 rows each: one process must not continue them as steps of 8
    before = (out / "model.safetensors").read_bytes()
    assert run(*args, "--resume") == 1
    assert "trained by 2 processes" in capsys.readouterr().err
    assert (out / "model.safetensors").read_bytes() == before
