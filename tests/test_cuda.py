"""The CUDA paths of the training loop and of scoring: bf16 and fp16 autocast, the fp16 gradient
scaler, resume after a kill, a model trained on the GPU scored on the CPU, and `hf` on the GPU.

They run only where PyTorch sees a CUDA device (CI has none: they are skipped there, with the
reason). On a GPU machine: `python -m pytest tests/test_cuda.py` or `benchmarks/gpu.sh`.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import log_records, ok, run_killed
from safetensors.numpy import load_file
from test_deep import SMALL
from test_hf import checkpoints  # noqa: F401  (the tiny ESM and BERT checkpoints fixture)


def _have_cuda() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


pytestmark = pytest.mark.skipif(not _have_cuda(), reason="no CUDA device (these run on a GPU "
                                "machine: benchmarks/gpu.sh)")
STEPS = ["--batch-size", "16", "--lr", "5e-3", "--device", "cuda"]


def held_out(pipeline) -> pd.DataFrame:
    table = pq.read_table(pipeline.split).to_pandas()
    return table[table["split"] == "test"]


def scores_on(model, device: str, sequences: list[str]) -> np.ndarray:
    """The model's logits with scoring moved to `device` (training's device is the default)."""
    model.spec = dataclasses.replace(model.spec, params=dataclasses.replace(model.spec.params,
                                                                            device=device))
    return model.logits(sequences)


@pytest.mark.parametrize("family", ["cnn", "bilstm", "embedding-bag", "transformer", "awd-lstm"])
def test_bf16_training_on_cuda_scores_alike_on_cpu(pipeline, tmp_path, family):
    """--device cuda trains under bf16 autocast (precision auto); the saved fp32 weights give
    the same probabilities on the CPU in fp32, to bf16's precision."""
    import torch

    from seqclass.models import store
    from seqclass.spec import to_probabilities

    out = tmp_path / family
    small = SMALL.get(family, ["--embed-dim", "16", "--awd-hidden", "32", "--awd-layers", "2"])
    ok("train", "--dataset", pipeline.split, "--family", family, "--out", out, *small, *STEPS,
       "--max-steps", "60", "--eval-every", "20")
    loop = json.loads((out / "training.json").read_text())["training_loop"]
    assert loop["device"].startswith("cuda")
    assert loop["precision"] == ("bf16" if torch.cuda.is_bf16_supported() else "fp16")
    assert all(np.isfinite(r["train_loss"]) for r in log_records(out))

    ok("evaluate", "--model", out, "--dataset", pipeline.split, "--out", tmp_path / "eval")
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    if family == "cnn":  # the one family that trains long enough here to learn the motifs
        assert metrics["mcc"] >= 0.6, metrics

    sequences = list(held_out(pipeline)["sequence"])
    model = store.load(out)
    gpu = to_probabilities(scores_on(model, "cuda", sequences), "multiclass")
    cpu = to_probabilities(scores_on(model, "cpu", sequences), "multiclass")
    np.testing.assert_allclose(gpu, cpu, atol=0.05)  # bf16 keeps about 3 significant digits
    assert (gpu.argmax(1) == cpu.argmax(1)).mean() >= 0.9  # near-ties may flip


def test_fp16_training_on_cuda(pipeline, tmp_path):
    """--precision fp16 trains through the gradient scaler: finite losses, a usable model."""
    out = tmp_path / "fp16"
    ok("train", "--dataset", pipeline.split, "--family", "cnn", "--out", out, *SMALL["cnn"], *STEPS,
       "--precision", "fp16", "--max-steps", "40", "--eval-every", "20")
    loop = json.loads((out / "training.json").read_text())["training_loop"]
    assert loop["precision"] == "fp16"
    assert all(np.isfinite(r["train_loss"]) and np.isfinite(r["valid_loss"]) for r in log_records(out))
    weights = load_file(str(out / "model.safetensors"))
    assert all(w.dtype == np.float32 and np.isfinite(w).all() for w in weights.values())


def test_resume_after_kill_on_cuda(pipeline, tmp_path):
    """A run killed on the GPU resumes from its last checkpoint (CUDA generator states
    included) and ends where an uninterrupted run ends, to CUDA's run-to-run tolerance."""
    args = ["train", "--dataset", str(pipeline.split), "--family", "cnn", *SMALL["cnn"], *STEPS,
            "--max-steps", "12", "--grad-accum", "2", "--eval-every", "2", "--checkpoint-every", "4",
            "--dropout", "0.3"]
    ok(*args, "--out", tmp_path / "whole")
    killed = tmp_path / "killed"
    proc = run_killed(args, killed, 7)
    assert proc.returncode == -9, proc.stderr
    ok(*args, "--out", killed, "--resume")
    loop = json.loads((killed / "training.json").read_text())["training_loop"]
    assert loop["steps"] == 12 and loop["resumed_from_step"] == 4
    for a, b in zip(log_records(tmp_path / "whole"), log_records(killed), strict=True):
        assert a["step"] == b["step"]
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-2, abs=1e-3), (a, b)


def test_hf_fine_tunes_on_cuda(pipeline, checkpoints, tmp_path):  # noqa: F811
    """The tiny ESM checkpoint fine-tuned on the GPU in bf16, then predicted there and on the CPU."""
    from seqclass.models import store

    out = tmp_path / "hf"
    ok("train", "--dataset", pipeline.split, "--family", "hf", "--pretrained", checkpoints["esm"],
       "--out", out, *STEPS, "--lr", "1e-3", "--max-steps", "12", "--eval-every", "6")
    assert json.loads((out / "training.json").read_text())["training_loop"]["device"].startswith("cuda")
    ok("predict", "--model", out, "--input", pipeline.long_fasta, "--out", tmp_path / "p.tsv")
    assert len(pd.read_csv(tmp_path / "p.tsv", sep="\t")) > 0
    sequences = list(held_out(pipeline)["sequence"])[:16]
    model = store.load(out)
    np.testing.assert_allclose(scores_on(model, "cuda", sequences), scores_on(model, "cpu", sequences),
                               atol=0.1)
