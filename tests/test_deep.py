"""Deep families on the shared training loop: train, evaluate and predict through the CLI,
multilabel, resume after a kill, checkpoints without pickle, reverse-complement averaging,
and the linear families' independence from PyTorch.

The networks are tiny and train for a few dozen steps on one CPU thread, so the module runs
in seconds; the planted motifs of conftest are easy enough that the CNN finds them.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import ONE_THREAD_ENV, REPO, assert_no_pickle, listing, log_records, ok, run, run_killed
from safetensors.numpy import load_file

from seqclass.training import batching

HAVE_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch is not installed "
                                 "(pip install 'seqclass[deep]')")
FAMILIES = ("cnn", "bilstm", "embedding-bag", "transformer")

SMALL = {
    "cnn": ["--channels", "32", "--conv-layers", "2", "--kernel-size", "9"],
    "bilstm": ["--embed-dim", "16", "--lstm-hidden", "16"],
    "embedding-bag": ["--embed-dim", "16", "--bag-hidden", "16"],
    "transformer": ["--embed-dim", "32", "--heads", "4", "--ff-dim", "64", "--encoder-layers", "1"],
}
# (case, family, dataset attribute of the pipeline fixture, extra flags); only the CNN trains long
# enough to learn, the others check the plumbing (and --max-len cropping and windowed scoring)
CASES = [
    ("cnn", "cnn", "split", ["--max-steps", "60", "--eval-every", "20"]),
    ("transformer", "transformer", "split", ["--max-len", "100"]),
    ("bilstm-dna", "bilstm", "split", ["--max-len", "100"]),
    ("bilstm-protein", "bilstm", "protein_dataset", []),
    ("embedding-bag-protein", "embedding-bag", "protein_dataset", ["--token-k", "2"]),
]
STEPS = ["--max-steps", "20", "--eval-every", "10", "--batch-size", "16", "--lr", "5e-3"]


@pytest.fixture(scope="module", autouse=True)
def one_thread(one_torch_thread):
    """Every test here runs torch on one thread (see conftest.one_torch_thread)."""


@pytest.fixture(scope="module")
def deep_models(pipeline, tmp_path_factory) -> dict[str, Path]:
    """Each case trained once, evaluated and predicted; tests read, never change, these."""
    if not HAVE_TORCH:
        pytest.skip("PyTorch is not installed")
    root = tmp_path_factory.mktemp("deep")
    for case, fam, data, extra in CASES:
        ok("train", "--dataset", getattr(pipeline, data), "--family", fam, "--out", root / case,
           *SMALL[fam], *STEPS, *extra)  # later flags win
        # the protein dataset has no split column: every row, said so in metrics.json
        ok("evaluate", "--model", root / case, "--dataset", getattr(pipeline, data),
           *(["--split", "all"] if data == "protein_dataset" else []), "--out", root / f"{case}.eval")
        inputs = pipeline.long_fasta if data == "split" else pipeline.root / "kinase.faa"
        ok("predict", "--model", root / case, "--input", inputs, "--out", root / f"{case}.tsv")
    return {case: root / case for case, *_ in CASES}


# ---------------------------------------------------------------- train, evaluate, predict

@needs_torch
@pytest.mark.parametrize("case, fam, data, extra", CASES, ids=[c[0] for c in CASES])
def test_model_directory(deep_models, pipeline, case, fam, data, extra):
    model = deep_models[case]
    names = {p.name for p in model.iterdir()}
    assert names == {".seqclass.json", "config.json", "labels.json", "model.safetensors",
                     "training.json", "ood.json", "training_log.jsonl", "loss.png", "metrics.png",
                     "checkpoints"}
    for png in ("loss.png", "metrics.png"):
        assert (model / png).read_bytes().startswith(b"\x89PNG")
    config = json.loads((model / "config.json").read_text())
    assert config["family"] == fam
    assert config["alphabet"] == ("dna" if data == "split" else "protein")
    params = config["params"]
    steps = 60 if fam == "cnn" else 20
    assert params["max_steps"] == steps and params["batch_size"] == 16
    if fam != "cnn":
        assert params["token_k"] == (2 if "--token-k" in extra else 1)  # the family default
    loop = json.loads((model / "training.json").read_text())["training_loop"]
    assert loop["steps"] == steps and loop["device"] == "cpu" and loop["precision"] == "fp32"
    assert loop["resumed_from_step"] is None

    records = log_records(model)
    assert [r["step"] for r in records] == ([20, 40, 60] if fam == "cnn" else [10, 20])
    for r in records:
        assert isinstance(r["train_loss"], float) and r["lr"] >= 0
        if data == "split":  # a validation split: validation loss and metrics
            assert {"valid_loss", "valid_accuracy", "valid_mcc", "valid_f1_macro",
                    "valid_balanced_accuracy"} <= set(r)
        else:
            assert not any(k.startswith("valid_") for k in r)
    assert [p.name for p in (model / "checkpoints").iterdir()] == [f"step-{steps:08d}"]

    metrics = json.loads((model.with_name(f"{case}.eval") / "metrics.json").read_text())
    assert metrics["family"] == fam and metrics["task"] == "multiclass"
    for key in ("accuracy", "balanced_accuracy", "mcc", "f1_macro", "roc_auc", "pr_auc",
                "confusion_matrix", "per_class"):
        assert key in metrics
    preds = pd.read_csv(model.with_name(f"{case}.tsv"), sep="\t")
    labels = json.loads((model / "labels.json").read_text())
    assert list(preds.columns) == ["id", "label", *(f"prob_{c}" for c in labels), "ood_score", "ood"]
    np.testing.assert_allclose(preds[[f"prob_{c}" for c in labels]].sum(axis=1), 1.0, atol=1e-5)


@needs_torch
def test_cnn_finds_the_planted_motifs(deep_models):
    metrics = json.loads((deep_models["cnn"].with_name("cnn.eval") / "metrics.json").read_text())
    assert metrics["n"] >= 10
    assert metrics["accuracy"] >= 0.8, metrics  # chance is 0.5
    assert metrics["mcc"] >= 0.6, metrics
    preds = pd.read_csv(deep_models["cnn"].with_name("cnn.tsv"), sep="\t").set_index("id")
    assert preds.loc["long_pos", "label"] == "pos" and preds.loc["long_neg", "label"] == "neg"


@needs_torch
def test_loading_a_model_gives_the_training_logits(deep_models, pipeline):
    """from_tensors rebuilds the same network: the evaluation's probabilities are reproducible."""
    from seqclass.models import store
    from seqclass.spec import to_probabilities

    model = store.load(deep_models["transformer"])
    table = pq.read_table(pipeline.split).to_pandas()
    test = table[table["split"] == "test"]
    probs = to_probabilities(model.logits(list(test["sequence"])), "multiclass")
    evaluated = pd.read_csv(deep_models["transformer"].with_name("transformer.eval") /
                            "predictions.tsv", sep="\t").set_index("id")
    np.testing.assert_allclose(probs[:, 1], evaluated.loc[list(test["id"]), "prob_pos"],
                               rtol=1e-4, atol=1e-5)
    # --threads of evaluate and predict: PyTorch's CPU threads
    import torch

    before = torch.get_num_threads()
    try:
        store.load(deep_models["transformer"], threads=2)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    # batching does not change a sequence's logits (padding is masked)
    one = model.logits([test["sequence"].iloc[0]])
    np.testing.assert_allclose(one[0], model.logits(list(test["sequence"]))[0], rtol=1e-4, atol=1e-5)


@needs_torch
def test_multilabel(pipeline, tmp_path):
    out = tmp_path / "m"
    ok("train", "--dataset", pipeline.multilabel_split, "--family", "embedding-bag", "--out", out,
       "--token-k", "6", "--embed-dim", "16", "--bag-hidden", "0", "--max-steps", "40",
       "--batch-size", "8", "--lr", "0.05", "--eval-every", "20", "--early-stop-metric", "f1_macro")
    assert json.loads((out / "config.json").read_text())["task"] == "multilabel"
    assert all("valid_f1_macro" in r for r in log_records(out))
    ok("evaluate", "--model", out, "--dataset", pipeline.multilabel_split, "--out", tmp_path / "e")
    metrics = json.loads((tmp_path / "e" / "metrics.json").read_text())
    assert metrics["task"] == "multilabel" and "hamming_loss" in metrics
    assert set(metrics["per_class"]) == {"A", "B", "C"}
    assert metrics["f1_macro"] > 0.5, metrics  # A and B are single planted 6-mers


@needs_torch
def test_weighted_sampler_and_gradient_accumulation(pipeline, tmp_path):
    ok("train", "--dataset", pipeline.split, "--family", "embedding-bag", "--out", tmp_path / "m",
       "--embed-dim", "8", "--bag-hidden", "0", "--epochs", "2", "--batch-size", "4",
       "--grad-accum", "3", "--sampler", "weighted", "--schedule", "linear", "--warmup-ratio", "0")
    loop = json.loads((tmp_path / "m" / "training.json").read_text())["training_loop"]
    n_train = json.loads((tmp_path / "m" / "training.json").read_text())["n_train"]
    steps_per_epoch = math.ceil(math.ceil(n_train / 4) / 3)
    assert loop["steps"] == 2 * steps_per_epoch and loop["effective_batch_size"] == 12
    assert [r["step"] for r in log_records(tmp_path / "m")] == [steps_per_epoch, 2 * steps_per_epoch]


@needs_torch
def test_early_stopping_keeps_the_best_step(pipeline, tmp_path):
    """With --lr 0 nothing improves after the first evaluation: patience 2 stops at the third."""
    ok("train", "--dataset", pipeline.split, "--family", "embedding-bag", "--out", tmp_path / "m",
       "--embed-dim", "8", "--batch-size", "8", "--max-steps", "50", "--eval-every", "2",
       "--lr", "0", "--early-stop-metric", "loss", "--patience", "2")
    loop = json.loads((tmp_path / "m" / "training.json").read_text())["training_loop"]
    assert loop["stopped_early"] is True and loop["steps"] == 6 and loop["best_step"] == 2
    assert [r["step"] for r in log_records(tmp_path / "m")] == [2, 4, 6]
    assert loop["best_value"] == log_records(tmp_path / "m")[0]["valid_loss"]


# ---------------------------------------------------------------- resume after a kill

@needs_torch
def test_resume_after_kill_matches_an_uninterrupted_run(pipeline, tmp_path):
    args = ["train", "--dataset", str(pipeline.split), "--family", "cnn", *SMALL["cnn"],
            "--max-steps", "12", "--batch-size", "8", "--grad-accum", "2", "--eval-every", "2",
            "--checkpoint-every", "4", "--keep-checkpoints", "2", "--dropout", "0.3"]
    ok(*args, "--out", tmp_path / "whole")

    killed = tmp_path / "killed"
    proc = run_killed(args, killed, 7)
    assert proc.returncode == -9, proc.stderr  # SIGKILL: no clean-up ran
    partial = tmp_path / ".killed.partial"
    assert not killed.exists() and partial.is_dir()
    assert sorted(p.name for p in (partial / "checkpoints").iterdir()) == \
        ["step-00000004"]  # step 8 never came
    assert [r["step"] for r in log_records(partial)] == [2, 4, 6]  # 6: after the checkpoint

    ok(*args, "--out", killed, "--resume")
    assert not partial.exists()
    assert sorted(p.name for p in (killed / "checkpoints").iterdir()) == \
        ["step-00000008", "step-00000012"]
    loop = json.loads((killed / "training.json").read_text())["training_loop"]
    assert loop["steps"] == 12 and loop["resumed_from_step"] == 4
    whole_log, resumed_log = log_records(tmp_path / "whole"), log_records(killed)
    assert [r["step"] for r in resumed_log] == [r["step"] for r in whole_log] == [2, 4, 6, 8, 10, 12]
    for a, b in zip(whole_log, resumed_log):
        for key in ("train_loss", "valid_loss", "lr"):
            assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-7), (a, b)
    whole = load_file(str(tmp_path / "whole" / "model.safetensors"))
    resumed = load_file(str(killed / "model.safetensors"))
    assert whole.keys() == resumed.keys()
    for name in whole:
        np.testing.assert_allclose(whole[name], resumed[name], rtol=1e-5, atol=1e-6)


@needs_torch
def test_resume_continues_a_finished_model(pipeline, tmp_path):
    out = tmp_path / "m"
    base = ["train", "--dataset", pipeline.split, "--family", "embedding-bag", "--out", out,
            "--embed-dim", "8", "--batch-size", "16", "--eval-every", "3"]
    ok(*base, "--max-steps", "6")
    ok(*base, "--max-steps", "9", "--resume")
    loop = json.loads((out / "training.json").read_text())["training_loop"]
    assert loop["steps"] == 9 and loop["resumed_from_step"] == 6
    assert [r["step"] for r in log_records(out)] == [3, 6, 9]
    # without --resume the same command starts over
    ok(*base, "--max-steps", "3")
    assert [r["step"] for r in log_records(out)] == [3]


@needs_torch
def test_resume_refuses_other_data(pipeline, tmp_path):
    out = tmp_path / "m"
    small = ["--family", "embedding-bag", "--embed-dim", "8", "--max-steps", "2", "--out", out]
    ok("train", "--dataset", pipeline.split, *small)
    before = (out / "model.safetensors").read_bytes()
    assert run("train", "--dataset", pipeline.chunks, *small, "--resume") == 1
    assert (out / "model.safetensors").read_bytes() == before
    assert listing(tmp_path) == {"m", *(f"m/{p}" for p in listing(out))}  # no .m.partial


# ---------------------------------------------------------------- no pickle

@needs_torch
def test_no_pickle_in_model_or_checkpoints(deep_models):
    for model in deep_models.values():
        assert_no_pickle(model, other_suffixes=(".png",))
        (ckpt,) = (model / "checkpoints").iterdir()
        assert {"model.safetensors", "optimizer.safetensors", "rng.safetensors",
                "state.json"} <= {p.name for p in ckpt.iterdir()}
        state = json.loads((ckpt / "state.json").read_text())
        assert ckpt.name == f"step-{state['step']:08d}" and state["optimizer"]["param_groups"]


@needs_torch
def test_outputs_match_docs_formats(deep_models):
    """docs/formats.md documents every key and tensor of a deep model directory, both ways."""
    from test_formats import FORMATS, check_columns, check_json, parse, read_json

    doc = parse(FORMATS.read_text())
    for case, model in deep_models.items():
        tags = frozenset({"valid"}) if "protein" not in case else frozenset()
        for name in ("config.json", "labels.json"):
            check_json(doc[f"model/{name}"], read_json(model / name), f"{case}/{name}")
        check_json(doc["model/training.json"], read_json(model / "training.json"),
                   f"{case}/training.json", frozenset({"deep"}))
        check_json(doc["model/ood.json"], read_json(model / "ood.json"), f"{case}/ood.json")
        tensors = load_file(str(model / "model.safetensors"))
        check_columns(doc["model/model.safetensors (deep families)"],
                      {k: str(v.dtype) for k, v in tensors.items()}, f"{case}/model.safetensors",
                      text=False)
        for line in (model / "training_log.jsonl").read_text().splitlines():
            check_json(doc["model/training_log.jsonl"], json.loads(line, parse_constant=float),
                       f"{case}/training_log.jsonl", tags)
            assert "NaN" not in line and "Infinity" not in line, line
        (ckpt,) = (model / "checkpoints").iterdir()
        check_json(doc["model/checkpoints/step-<N>/state.json"], read_json(ckpt / "state.json"),
                   f"{case}/{ckpt.name}/state.json")
        optimizer = load_file(str(ckpt / "optimizer.safetensors"))
        check_columns(doc["model/checkpoints/step-<N>/optimizer.safetensors"],
                      {k: str(v.dtype) for k, v in optimizer.items()}, f"{case}/optimizer", text=False)


# ---------------------------------------------------------------- reverse-complement averaging

@needs_torch
def test_rc_average_scores_both_strands_alike(pipeline, deep_models, tmp_path):
    from seqclass.models import store
    from seqclass.sequence.alphabets import reverse_complement

    ok("train", "--dataset", pipeline.split, "--family", "cnn", *SMALL["cnn"], "--rc-average",
       "--max-steps", "10", "--batch-size", "16", "--out", tmp_path / "rc")
    model = store.load(tmp_path / "rc")
    assert model.spec.params.rc_average is True
    seqs = pq.read_table(pipeline.split).column("sequence").to_pylist()[:24] + ["ACGTNNACGTA", "A"]
    np.testing.assert_allclose(model.logits(seqs), model.logits([reverse_complement(s) for s in seqs]),
                               rtol=1e-5, atol=1e-6)
    plain = store.load(deep_models["cnn"])
    assert not np.allclose(plain.logits(seqs), plain.logits([reverse_complement(s) for s in seqs]))


@needs_torch
def test_cnn_flatten_pooling_is_position_aware(pipeline, tmp_path):
    """--pooling flatten: a motif's position changes the logits; short inputs are padded."""
    from seqclass.models import store

    ok("train", "--dataset", pipeline.split, "--family", "cnn", *SMALL["cnn"], "--pooling", "flatten",
       "--pool-size", "2", "--max-len", "64", "--max-steps", "30", "--batch-size", "16",
       "--out", tmp_path / "flat")
    ok("evaluate", "--model", tmp_path / "flat", "--dataset", pipeline.split, "--out", tmp_path / "e")
    assert json.loads((tmp_path / "e" / "metrics.json").read_text())["n"] > 0
    model = store.load(tmp_path / "flat")
    assert load_file(str(tmp_path / "flat" / "model.safetensors"))["head.0.weight"].shape == (32, 32 * 16)
    body = "ACGT" * 16
    shifted = [body[:i] + "GGGGCCCC" + body[i + 8:] for i in (0, 28, 56)]
    logits = model.logits([*shifted, "ACG", body * 3])  # shorter and longer than --max-len
    assert np.isfinite(logits).all() and logits.shape == (5, 2)
    assert not np.allclose(logits[0], logits[1]) and not np.allclose(logits[1], logits[2])
    # the global max-pool with --pool-size still takes inputs shorter than the pools need
    ok("train", "--dataset", pipeline.split, "--family", "cnn", *SMALL["cnn"], "--pool-size", "4",
       "--max-steps", "2", "--out", tmp_path / "pooled")
    assert np.isfinite(store.load(tmp_path / "pooled").logits(["A", "ACGTAC"])).all()


@needs_torch
def test_bilstm_on_the_cpu_runs_each_sequence_alone():
    """The CPU path (one LSTM call per distinct length) gives what a packed batch gives: each
    sequence's outputs from its own tokens alone, zero after its end."""
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    from seqclass.models import family
    from seqclass.spec import ModelSpec

    cls = family("bilstm")
    params = cls.Params(embed_dim=8, lstm_hidden=6, lstm_layers=2, token_k=1)
    net = cls.build(ModelSpec(family="bilstm", alphabet="dna", task="multiclass",
                              labels=["a", "b"], params=params)).eval()
    torch.manual_seed(0)
    lengths = torch.tensor([7, 12, 3, 12, 7])
    x = torch.randn(5, 12, 8)
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    expected, _ = pad_packed_sequence(net.lstm(packed)[0], batch_first=True, total_length=12)
    with torch.no_grad():
        got = net.recur(x, lengths)
        torch.testing.assert_close(got, expected.detach(), rtol=1e-5, atol=1e-6)
        assert not got[2, 3:].any()  # nothing after a sequence's end
        torch.testing.assert_close(got[1:2], net.recur(x[1:2], lengths[1:2]), rtol=1e-5, atol=1e-6)


@needs_torch
def test_transformer_attention_dropout_is_its_own():
    """--attention-dropout reaches the attention weights alone; models saved before the flag
    existed rebuild with --dropout there, as they were trained."""

    from seqclass.models import family, store
    from seqclass.spec import ModelSpec

    cls = family("transformer")
    spec = ModelSpec(family="transformer", alphabet="dna", task="multiclass", labels=["a", "b"],
                     params=cls.Params(dropout=0.3, attention_dropout=0.2))
    layers = cls.build(spec).encoder.layers
    assert [(layer.self_attn.dropout, layer.dropout1.p) for layer in layers] == [(0.2, 0.3)] * 2
    # a config.json written before --attention-dropout existed: one dropout for both
    stored = dataclasses.asdict(spec.params)
    del stored["attention_dropout"]
    old = dataclasses.replace(spec, params=store.params_from_config(cls, stored, Path(".")))
    assert cls.build(old).encoder.layers[0].self_attn.dropout == 0.3


@needs_torch
def test_transformer_scores_off_pytorchs_encoder_fast_path(monkeypatch):
    """In eval mode a stock encoder layer takes PyTorch's fused fast path, whose CPU attention is
    2-5x slower with padding (benchmarks/README.md); the family's own GELU keeps it off."""
    import torch

    from seqclass.models import family
    from seqclass.spec import ModelSpec

    def fast_path(*args, **kwargs):
        raise AssertionError("the encoder took PyTorch's fast path")

    monkeypatch.setattr(torch, "_transformer_encoder_layer_fwd", fast_path)
    cls = family("transformer")
    params = cls.Params(heads=4, embed_dim=16)
    net = cls.build(ModelSpec(family="transformer", alphabet="dna", task="multiclass",
                              labels=["a", "b"], params=params)).eval()
    tokens = torch.randint(1, 5, (3, 20))
    tokens[0, 15:] = 0  # padding in one row
    with torch.no_grad():
        assert torch.isfinite(net(tokens, torch.tensor([15, 20, 20]))).all()


@needs_torch
def test_bad_deep_options_fail_cleanly(pipeline, tmp_path, capsys):
    cases = [(["--family", "cnn", "--rc-average"], pipeline.protein_dataset, "--rc-average needs DNA"),
             (["--family", "cnn", "--precision", "fp16", "--device", "cpu"], pipeline.split, "fp16"),
             (["--family", "transformer", "--embed-dim", "30", "--heads", "4"], pipeline.split,
              "--heads 4 must divide"),
             (["--family", "embedding-bag", "--token-k", "9"], pipeline.protein_dataset, "--token-k 9"),
             (["--family", "cnn", "--pooling", "flatten", "--max-len", "0"], pipeline.split,
              "--pooling flatten needs --max-len"),
             (["--family", "cnn", "--pooling", "flatten", "--max-len", "20", "--pool-size", "8"],
              pipeline.split, "leaves no position"),
             (["--family", "bilstm", "--dropout", "1"], pipeline.split, "--dropout 1.0: must be in [0, 1)"),
             (["--family", "transformer", "--attention-dropout", "-0.1"], pipeline.split,
              "--attention-dropout -0.1: must be in [0, 1)")]
    for flags, dataset, message in cases:
        assert run("train", "--dataset", dataset, *flags, "--max-steps", "1",
                   "--out", tmp_path / "m") == 1
        assert message in capsys.readouterr().err
    assert listing(tmp_path) == set()  # no model, no .m.partial left behind


# ---------------------------------------------------------------- registry and flags

@needs_torch
def test_help_lists_deep_families_and_training_flags(capsys):
    with pytest.raises(SystemExit):
        run("train", "--help")
    out = capsys.readouterr().out
    group = next(line for line in out.splitlines() if line.startswith("deep training options ("))
    assert set(FAMILIES) <= set(group.split("(", 1)[1].rstrip("):").split(", "))  # and others
    for flag in ("--epochs", "--max-steps", "--grad-accum", "--warmup-ratio", "--schedule",
                 "--clip-norm", "--sampler", "--early-stop-metric", "--patience", "--eval-every",
                 "--eval-max-samples", "--checkpoint-every", "--precision", "--device", "--resume",
                 "--rc-average", "--token-k", "--positions"):
        assert flag in out, flag
    for fam in FAMILIES:
        assert f"{fam} options" in out


def test_shared_flags_keep_each_familys_default(pipeline, tmp_path, capsys):
    """Families share one flag per field name (--c: kmer-logreg, gc-logreg, similarity,
    hf-embed); a flag not given takes the chosen family's own default, and --help names the
    families whose default differs."""
    with pytest.raises(SystemExit):
        run("train", "--help")
    help_text = " ".join(capsys.readouterr().out.split())
    assert "(default: 1.0; similarity: 0.1)" in help_text
    for fam, extra, expected in (("kmer-logreg", ["--kmer-size", "3"], 1.0), ("gc-logreg", [], 1.0),
                                 ("gc-logreg", ["--c", "0.5"], 0.5)):
        out = tmp_path / f"{fam}-{len(extra)}"
        ok("train", "--dataset", pipeline.split, "--family", fam, *extra, "--out", out)
        assert json.loads((out / "config.json").read_text())["params"]["c"] == expected


def test_linear_families_never_import_torch(pipeline, tmp_path):
    """kmer-logreg trains, evaluates and predicts with PyTorch blocked, and without importing it
    where it is installed; the deep families then say what to install."""
    script = f"""
import sys
from seqclass.cli import main
out = {str(tmp_path)!r}
assert main(["train", "--dataset", {str(pipeline.split)!r}, "--family", "kmer-logreg",
             "--kmer-size", "4", "--out", out + "/m"]) == 0
assert main(["predict", "--model", out + "/m", "--input", {str(pipeline.long_fasta)!r},
             "--out", out + "/p.tsv"]) == 0
assert "torch" not in sys.modules, "a linear family imported torch"
if sys.argv[1] == "blocked":
    assert main(["train", "--dataset", {str(pipeline.split)!r}, "--family", "cnn",
                 "--out", out + "/c"]) == 1
print("ok")
"""
    block = ("import sys\nclass Block:\n    def find_spec(self, name, path=None, target=None):\n"
             "        if name.split('.')[0] == 'torch':\n"
             "            raise ModuleNotFoundError('No module named ' + repr(name))\n"
             "sys.meta_path.insert(0, Block())\n")
    for mode in ("installed", "blocked"):
        code = (block if mode == "blocked" else "") + script
        proc = subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True,
                              timeout=120, cwd=REPO, env=ONE_THREAD_ENV)
        assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
        if mode == "blocked":
            assert "needs PyTorch" in proc.stderr


# ---------------------------------------------------------------- batching (no torch)

def test_epoch_plan_buckets_by_length():
    rng = np.random.default_rng(0)
    lengths = rng.integers(10, 1000, size=1003)
    batches = batching.plan_epoch(len(lengths), lengths, 32, batching.epoch_rng(0, 0))
    assert len(batches) == -(-1003 // 32)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1003))
    assert sum(len(b) < 32 for b in batches) == 1
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    assert spread < 0.2 * np.ptp(lengths)  # sorted within pools: little padding
    again = batching.plan_epoch(len(lengths), lengths, 32, batching.epoch_rng(0, 0))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))  # a resumed run's plan
    tokens, lens = batching.pad([np.arange(1, 6), np.arange(1, 3)])
    assert tokens.tolist() == [[1, 2, 3, 4, 5], [1, 2, 0, 0, 0]] and lens.tolist() == [5, 2]


def test_weighted_sampling_balances_classes():
    targets = np.array([0] * 90 + [1] * 10)
    p = batching.inverse_frequency(targets, "multiclass")
    assert p[:90].sum() == pytest.approx(0.5) and p[90:].sum() == pytest.approx(0.5)
    multi = np.array([[1, 0], [1, 0], [1, 1], [0, 0]])
    assert batching.inverse_frequency(multi, "multilabel").sum() == pytest.approx(1.0)
