"""Genomic-ULMFiT: `seqclass pretrain` of a k-mer AWD-LSTM language model on a tiny synthetic
genome, and the `awd-lstm` family fine-tuned from it (pretrained encoder, gradual unfreezing,
discriminative learning rates) or trained from scratch, through train, evaluate and predict;
pretraining's checkpoints and --resume after a kill.

The networks are tiny and run for a few steps on one CPU thread.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import (
    assert_no_pickle,
    listing,
    log_records,
    ok,
    random_dna,
    run,
    run_killed,
    write_fasta,
)
from safetensors.numpy import load_file

HAVE_TORCH = importlib.util.find_spec("torch") is not None
pytestmark = pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch is not installed")

LM_FLAGS = ["--kmer-size", "3", "--kmer-stride", "2", "--embed-dim", "16", "--hidden", "24",
            "--layers", "2", "--bptt", "16", "--batch-size", "8", "--max-steps", "20",
            "--eval-every", "10", "--lr", "1e-2"]
TRAIN_FLAGS = ["--max-steps", "10", "--eval-every", "5", "--batch-size", "16", "--lr", "5e-3",
               "--awd-head-hidden", "8", "--max-len", "200"]
# evaluations at 4, 8, 12; checkpoints at 3, 6, 9, 12, so a kill at 8 resumes from 6, mid-way
# between two evaluations (the running loss and the log are restored, the log cut back)
RESUME_FLAGS = ["--kmer-size", "3", "--kmer-stride", "2", "--embed-dim", "16", "--hidden", "32",
                "--layers", "2", "--bptt", "20", "--batch-size", "8", "--max-steps", "12",
                "--eval-every", "4", "--checkpoint-every", "3", "--keep-checkpoints", "2"]


@pytest.fixture(scope="module", autouse=True)
def one_thread(one_torch_thread):
    """Every test here runs torch on one thread (see conftest.one_torch_thread)."""


def genome(seed: int = 3, n: int = 6000) -> list[tuple[str, str]]:
    """Two 'chromosomes' with a repeated element, so the language model has something to learn."""
    rng = random.Random(seed)
    repeat = random_dna(rng, 40)
    chrom = "".join(repeat if rng.random() < 0.3 else random_dna(rng, 40) for _ in range(n // 40))
    return [("chr1", chrom), ("chr2", chrom[::-1])]


@pytest.fixture(scope="module")
def lm(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lm")
    fasta = write_fasta(root / "genome.fa.gz", genome())
    ok("pretrain", "--input", fasta, "--out", root / "lm", *LM_FLAGS)
    return root / "lm"


@pytest.fixture(scope="module")
def fine_tuned(lm, pipeline, tmp_path_factory) -> Path:
    """awd-lstm from the LM: head alone for 5 steps, then the top LSTM layer too; evaluated."""
    root = tmp_path_factory.mktemp("awd")
    ok("train", "--dataset", pipeline.split, "--family", "awd-lstm", "--pretrained", lm,
       "--unfreeze-every", "5", "--out", root / "model", *TRAIN_FLAGS)
    ok("evaluate", "--model", root / "model", "--dataset", pipeline.split, "--out", root / "eval")
    ok("predict", "--model", root / "model", "--input", pipeline.long_fasta,
       "--out", root / "pred.tsv")
    return root / "model"


# ---------------------------------------------------------------- pretrain

def test_lm_directory(lm):
    assert {p.name for p in lm.iterdir()} == {".seqclass.json", "config.json", "model.safetensors",
                                              "training.json", "training_log.jsonl", "checkpoints"}
    assert [p.name for p in (lm / "checkpoints").iterdir()] == ["step-00000020"]  # keep 1
    assert not (lm.parent / ".lm.partial").exists()
    config = json.loads((lm / "config.json").read_text())
    assert config["kind"] == "seqclass-language-model" and config["architecture"] == "awd-lstm"
    assert (config["alphabet"], config["k"], config["stride"]) == ("dna", 3, 2)
    assert config["vocab_size"] == 4 ** 3 + 2
    assert (config["embed_dim"], config["hidden"], config["layers"]) == (16, 24, 2)
    weights = load_file(str(lm / "model.safetensors"))
    assert weights["encoder.embed.weight"].shape == (66, 16)
    assert weights["encoder.rnns.0.weight_hh_l0"].shape == (4 * 24, 24)
    assert weights["encoder.rnns.1.weight_ih_l0"].shape == (4 * 16, 24)  # last layer → E (tied)
    assert "decoder.weight" not in weights and weights["decoder.bias"].shape == (66,)
    training = json.loads((lm / "training.json").read_text())
    assert training["seed"] == 0 and training["n_records"] == 2
    assert len(training["input_sha256"]) == 64 and "torch" in training["versions"]
    assert training["n_train_tokens"] + training["n_valid_tokens"] == training["n_tokens"]
    assert training["resumed_from_step"] is None
    log = [json.loads(line) for line in (lm / "training_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [10, 20]
    for r in log:
        assert np.isclose(r["train_perplexity"], np.exp(r["train_loss"]))
        assert 1 < r["valid_perplexity"] < 200


def test_pretrain_is_reproducible(lm, tmp_path):
    fasta = write_fasta(tmp_path / "genome.fa", genome())  # plain text, same records
    ok("pretrain", "--input", fasta, "--out", tmp_path / "again", *LM_FLAGS)
    a, b = load_file(str(lm / "model.safetensors")), load_file(str(tmp_path / "again" /
                                                                   "model.safetensors"))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert json.loads((tmp_path / "again" / "config.json").read_text())["input_sha256"] == \
        json.loads((lm / "config.json").read_text())["input_sha256"]


def test_strided_tokens():
    from seqclass.sequence.encoding import tokens

    full = tokens("ACGTACGTAC", "dna", 3)
    assert list(tokens("ACGTACGTAC", "dna", 3, 2)) == list(full[::2])
    assert len(tokens("AC", "dna", 3, 2)) == 1  # shorter than k: one unknown token


# ---------------------------------------------------------------- fine-tuning

def test_fine_tuned_model(fine_tuned, lm, pipeline):
    config = json.loads((fine_tuned / "config.json").read_text())
    p = config["params"]
    assert config["family"] == "awd-lstm"
    assert (p["token_k"], p["token_stride"], p["embed_dim"], p["awd_hidden"], p["awd_layers"]) == \
        (3, 2, 16, 24, 2)  # the LM's, not the flags' defaults
    assert p["pretrained"] == str(lm)
    metrics = json.loads((fine_tuned.parent / "eval" / "metrics.json").read_text())
    assert "mcc" in json.dumps(metrics)
    pred = pd.read_csv(fine_tuned.parent / "pred.tsv", sep="\t")
    assert len(pred) == 3 and {"prob_pos", "prob_neg"} <= set(pred.columns)
    assert np.allclose(pred["prob_pos"] + pred["prob_neg"], 1, atol=1e-5)


def test_gradual_unfreezing_keeps_frozen_layers(fine_tuned, lm):
    """Steps 0-4 train the head, 5-9 also the top LSTM; embedding and layer 0 never train,
    so they are still the language model's, which also shows the encoder started from it."""
    model = load_file(str(fine_tuned / "model.safetensors"))
    language = load_file(str(lm / "model.safetensors"))
    for name in ("encoder.embed.weight", "encoder.rnns.0.weight_ih_l0",
                 "encoder.rnns.0.weight_hh_l0", "encoder.rnns.0.bias_hh_l0"):
        assert np.array_equal(model[name], language[name]), name


def test_encoder_starts_from_the_language_model(lm):
    """After 0 steps: the built-and-initialised classifier holds the LM's encoder."""
    import torch

    from seqclass.models.families.awd_lstm import AwdLstm, AwdLstmParams
    from seqclass.spec import ModelSpec

    spec = ModelSpec("awd-lstm", "dna", "multiclass", ["neg", "pos"],
                     params=AwdLstmParams(pretrained=str(lm)))
    spec = AwdLstm.resolve(spec)
    net = AwdLstm.build(spec)
    AwdLstm.initialise(net, spec)
    language = load_file(str(lm / "model.safetensors"))
    for name, value in net.encoder.state_dict().items():
        assert torch.equal(value, torch.from_numpy(language[f"encoder.{name}"])), name

    # discriminative learning rates: head 1, each group below 2.6 times slower
    scales = [s for _, s in AwdLstm.param_groups(net, spec)]
    assert np.allclose(scales, [2.6 ** -3, 2.6 ** -2, 2.6 ** -1, 1.0])
    # gradual unfreezing by step: head, + top LSTM, + LSTM 0, + embedding
    spec = dataclasses.replace(spec, params=dataclasses.replace(spec.params, unfreeze_every=5))
    for step, trainable in ((0, 1), (4, 1), (5, 2), (10, 3), (15, 4), (99, 4)):
        AwdLstm.before_step(net, spec, step, steps_per_epoch=3)
        flags = [all(w.requires_grad for w in g) for g in net.layer_groups()]
        assert flags == [False] * (4 - trainable) + [True] * trainable, step


def test_from_scratch_with_stride(pipeline, tmp_path):
    ok("train", "--dataset", pipeline.split, "--family", "awd-lstm", "--token-k", "4",
       "--token-stride", "2", "--embed-dim", "8", "--awd-hidden", "8", "--awd-layers", "1",
       "--out", tmp_path / "m", *TRAIN_FLAGS)
    p = json.loads((tmp_path / "m" / "config.json").read_text())["params"]
    assert (p["token_k"], p["token_stride"], p["pretrained"]) == (4, 2, None)
    ok("predict", "--model", tmp_path / "m", "--input", pipeline.long_fasta,
       "--out", tmp_path / "p.tsv")
    assert len(pd.read_csv(tmp_path / "p.tsv", sep="\t")) == 3


# ---------------------------------------------------------------- bad input

def _fails(capsys, args, mentions, watch: Path) -> str:
    before = listing(watch)
    capsys.readouterr()
    rc = run(*args)
    err = capsys.readouterr().err
    assert rc == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for text in mentions:
        assert str(text) in lines[0], lines[0]
    assert listing(watch) == before, "files left behind"
    return lines[0]


def test_empty_fasta(capsys, tmp_path):
    (tmp_path / "empty.fa").write_text("")
    _fails(capsys, ["pretrain", "--input", tmp_path / "empty.fa", "--out", tmp_path / "lm"],
           ["seqclass pretrain: error:", "empty.fa", "empty"], tmp_path)


def test_genome_too_short(capsys, tmp_path):
    write_fasta(tmp_path / "short.fa", [("c", "ACGT" * 10)])
    _fails(capsys, ["pretrain", "--input", tmp_path / "short.fa", "--out", tmp_path / "lm",
                    *LM_FLAGS], ["too few", "--bptt"], tmp_path)


def test_protein_lm_for_dna(capsys, pipeline, tmp_path):
    rng = random.Random(5)
    prot = "".join(rng.choice("ACDEFGHIKLMNPQRSTVWY") for _ in range(3000))
    write_fasta(tmp_path / "prot.faa", [("p1", prot)])
    ok("pretrain", "--input", tmp_path / "prot.faa", "--out", tmp_path / "plm", "--kmer-size", "1",
       "--kmer-stride", "1", "--embed-dim", "8", "--hidden", "8", "--layers", "1", "--bptt", "16",
       "--batch-size", "4", "--max-steps", "2", "--eval-every", "2")
    assert json.loads((tmp_path / "plm" / "config.json").read_text())["alphabet"] == "protein"
    _fails(capsys, ["train", "--dataset", pipeline.split, "--family", "awd-lstm", "--pretrained",
                    tmp_path / "plm", "--out", tmp_path / "m", *TRAIN_FLAGS],
           ["protein language model", "dna"], tmp_path)


def test_missing_or_conflicting_lm(capsys, pipeline, lm, tmp_path):
    _fails(capsys, ["train", "--dataset", pipeline.split, "--family", "awd-lstm", "--pretrained",
                    tmp_path / "nowhere", "--out", tmp_path / "m", *TRAIN_FLAGS],
           ["nowhere", "not found"], tmp_path)
    _fails(capsys, ["train", "--dataset", pipeline.split, "--family", "awd-lstm", "--pretrained",
                    lm, "--token-k", "5", "--out", tmp_path / "m", *TRAIN_FLAGS],
           ["--token-k 5", "leave it out"], tmp_path)
    (tmp_path / "notlm").mkdir()
    _fails(capsys, ["train", "--dataset", pipeline.split, "--family", "awd-lstm", "--pretrained",
                    tmp_path / "notlm", "--out", tmp_path / "m", *TRAIN_FLAGS],
           ["not a seqclass language model"], tmp_path)


# ---------------------------------------------------------------- docs/formats.md

def test_lm_directory_is_documented(lm):
    from test_formats import FORMATS, check_json, parse, read_json

    doc = parse(FORMATS.read_text())
    for name in ("config.json", "training.json"):
        check_json(doc[f"LM_DIR/{name}"], read_json(lm / name), f"LM_DIR/{name}")
    for line in (lm / "training_log.jsonl").read_text().splitlines():
        check_json(doc["LM_DIR/training_log.jsonl"], json.loads(line), "training_log.jsonl")
    (ckpt,) = (lm / "checkpoints").iterdir()
    check_json(doc["LM_DIR/checkpoints/step-<N>/state.json"], read_json(ckpt / "state.json"),
               "checkpoint state.json")
    section = doc["LM_DIR/model.safetensors"]
    weights = load_file(str(lm / "model.safetensors"))
    for key, value in weights.items():
        entry = next((e for e in section.entries if e.name == key or
                      (e.pattern is not None and e.pattern.fullmatch(key))), None)
        assert entry is not None, f"tensor {key} is not documented"
        assert entry.type == str(value.dtype), key


# ---------------------------------------------------------------- checkpoints and --resume

def _checkpoints(directory: Path) -> list[str]:
    return sorted(p.name for p in (directory / "checkpoints").iterdir())


def test_resume_after_kill_matches_an_uninterrupted_run(capsys, tmp_path):
    fasta = write_fasta(tmp_path / "genome.fa", genome(n=3000))
    args = ["pretrain", "--input", str(fasta), *RESUME_FLAGS]
    ok(*args, "--out", tmp_path / "whole")

    killed = tmp_path / "killed"
    proc = run_killed(args, killed, 8)
    assert proc.returncode == -9, proc.stderr  # SIGKILL: no clean-up ran
    partial = tmp_path / ".killed.partial"
    assert not killed.exists() and partial.is_dir()
    assert _checkpoints(partial) == ["step-00000003", "step-00000006"]  # 9 never came
    assert [r["step"] for r in log_records(partial)] == [4, 8]  # 8: after the checkpoint
    assert_no_pickle(partial)
    state = json.loads((partial / "checkpoints" / "step-00000006" / "state.json").read_text())
    assert (state["step"], state["loss_n"], state["seed"]) == (6, 2, 0)  # steps 5 and 6

    # --resume refuses, in one line and touching nothing, what it cannot continue
    other = write_fasta(tmp_path / "other.fa", genome(seed=4, n=3000))
    for extra, mentions in (
            (["--seed", "1"], ["step-00000006", "--seed 0", "resume with it"]),
            (["--hidden", "24"], ["--hidden 32, not 24"]),
            (["--input", other], ["other sequences"])):
        _fails(capsys, [*args, "--out", killed, "--resume", *extra],
               ["seqclass pretrain: error:", *mentions], tmp_path)

    ok(*args, "--out", killed, "--resume")
    assert not partial.exists()
    assert _checkpoints(killed) == ["step-00000009", "step-00000012"]
    assert json.loads((killed / "training.json").read_text())["resumed_from_step"] == 6
    assert json.loads((tmp_path / "whole" / "training.json").read_text())["resumed_from_step"] is None
    whole_log, resumed_log = log_records(tmp_path / "whole"), log_records(killed)
    assert [r["step"] for r in resumed_log] == [r["step"] for r in whole_log] == [4, 8, 12]
    for a, b in zip(whole_log, resumed_log):
        for key in ("lr", "train_loss", "valid_loss"):
            assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-7), (a, b)
    whole = load_file(str(tmp_path / "whole" / "model.safetensors"))
    resumed = load_file(str(killed / "model.safetensors"))
    assert whole.keys() == resumed.keys()
    for name in whole:
        np.testing.assert_allclose(whole[name], resumed[name], rtol=1e-5, atol=1e-6)
    assert_no_pickle(killed)

    # a finished LM trains on with --resume; another --seed is refused and LM_DIR kept as it is
    _fails(capsys, [*args, "--out", killed, "--resume", "--seed", "1"], ["--seed 0"], tmp_path)
    ok(*args, "--out", killed, "--resume", "--max-steps", "14")
    assert not partial.exists()
    assert _checkpoints(killed) == ["step-00000012", "step-00000014"]
    assert [r["step"] for r in log_records(killed)] == [4, 8, 12, 14]
    assert json.loads((killed / "training.json").read_text())["resumed_from_step"] == 12


def test_partial_directory_without_resume_is_discarded(capsys, tmp_path):
    fasta = write_fasta(tmp_path / "genome.fa", genome(n=2000))
    small = ["pretrain", "--input", fasta, "--out", tmp_path / "lm", *LM_FLAGS, "--max-steps", "2",
             "--eval-every", "2"]
    left = tmp_path / ".lm.partial"
    (left / "checkpoints" / "step-00000001").mkdir(parents=True)
    (left / "checkpoints" / "step-00000001" / "state.json").write_text("{}")
    (left / "stale.txt").write_text("left by a killed run")
    ok(*small)
    assert not left.exists() and not (tmp_path / "lm" / "stale.txt").exists()
    assert "discarding" in capsys.readouterr().err
    # --resume with no checkpoint anywhere starts from scratch, and says so
    ok(*small[:4], tmp_path / "fresh", *small[5:], "--resume")
    assert "no checkpoint" in capsys.readouterr().err
    assert json.loads((tmp_path / "fresh" / "training.json").read_text())["resumed_from_step"] is None
