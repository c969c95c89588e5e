"""The Hugging Face families `hf` (fine-tuned on the shared loop) and `hf-embed` (frozen
embeddings and a head), on tiny checkpoints built here from configs: no downloads.

An ESM-shaped model with a 3-mer nucleotide tokenizer (EsmTokenizer, the Nucleotide
Transformer layout) and a BERT-shaped model with a residue-level protein tokenizer
(BertTokenizer, the ProtBERT layout, which wants residues separated by spaces) are saved
with save_pretrained and passed as --pretrained directories.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ok, run

HAVE_HF = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers"))
pytestmark = pytest.mark.skipif(not HAVE_HF, reason="needs PyTorch and transformers "
                                "(pip install 'seqclass[deep,hf]')")
REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
STEPS = ["--max-steps", "12", "--eval-every", "6", "--batch-size", "16", "--lr", "1e-3"]
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle")


@pytest.fixture(scope="module", autouse=True)
def one_thread(one_torch_thread):
    """Every test here runs torch on one thread (see conftest.one_torch_thread)."""


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """Tiny pretrained checkpoints in the save_pretrained layout, built from configs."""
    if not HAVE_HF:
        pytest.skip("transformers is not installed")
    import torch
    from transformers import (
        BertConfig,
        BertForMaskedLM,
        BertTokenizer,
        EsmConfig,
        EsmForMaskedLM,
        EsmTokenizer,
    )

    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("hf_checkpoints")
    esm = root / "esm"
    esm.mkdir()
    kmers = ["".join(p) for p in itertools.product("ACGT", repeat=3)]
    (esm / "vocab.txt").write_text("\n".join(["<cls>", "<pad>", "<eos>", "<unk>", "<mask>", *kmers,
                                              *"ACGTN"]) + "\n")
    tok = EsmTokenizer(str(esm / "vocab.txt"))
    cfg = EsmConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                    intermediate_size=64, max_position_embeddings=66, pad_token_id=tok.pad_token_id,
                    mask_token_id=tok.mask_token_id, position_embedding_type="absolute")
    EsmForMaskedLM(cfg).save_pretrained(str(esm))
    tok.save_pretrained(str(esm))

    bert = root / "bert"
    bert.mkdir()
    (bert / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
                                               *"ACDEFGHIKLMNPQRSTVWYXBZUO"]) + "\n")
    btok = BertTokenizer(str(bert / "vocab.txt"), do_lower_case=False)
    bcfg = BertConfig(vocab_size=len(btok), hidden_size=32, num_hidden_layers=2,
                      num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    BertForMaskedLM(bcfg).save_pretrained(str(bert))
    btok.save_pretrained(str(bert))
    return {"esm": esm, "bert": bert}


# (case, family, checkpoint, dataset attribute of the pipeline fixture, extra flags)
CASES = [
    ("hf-dna", "hf", "esm", "split", STEPS),
    ("hf-protein", "hf", "bert", "protein_dataset", STEPS),
    ("embed-logreg", "hf-embed", "esm", "split", []),
    ("embed-mlp", "hf-embed", "bert", "protein_dataset", ["--head", "mlp", "--head-epochs", "20"]),
]


@pytest.fixture(scope="module")
def hf_models(pipeline, checkpoints, tmp_path_factory) -> dict[str, Path]:
    """Each case trained once from a copy of its checkpoint, which is deleted afterwards:
    evaluating and predicting then need nothing but the model directory."""
    root = tmp_path_factory.mktemp("hf")
    for case, fam, ckpt, data, extra in CASES:
        source = root / f"{case}.pretrained"
        shutil.copytree(checkpoints[ckpt], source)
        ok("train", "--dataset", getattr(pipeline, data), "--family", fam, "--out", root / case,
           "--pretrained", source, *extra)
        shutil.rmtree(source)
        # the protein dataset has no split column: every row, said so in metrics.json
        ok("evaluate", "--model", root / case, "--dataset", getattr(pipeline, data),
           *(["--split", "all"] if data == "protein_dataset" else []), "--out", root / f"{case}.eval")
        inputs = pipeline.long_fasta if data == "split" else pipeline.root / "kinase.faa"
        ok("predict", "--model", root / case, "--input", inputs, "--out", root / f"{case}.tsv")
    return {case: root / case for case, *_ in CASES}


@pytest.mark.parametrize("case, fam, ckpt, data, extra", CASES, ids=[c[0] for c in CASES])
def test_model_directory(hf_models, case, fam, ckpt, data, extra):
    model = hf_models[case]
    names = {p.name for p in model.iterdir()}
    assert {"config.json", "labels.json", "training.json", "hf"} <= names
    assert ("model.safetensors" in names) == (fam == "hf-embed")  # hf: every weight is in hf/
    bundle = {p.name for p in (model / "hf").iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer_config.json"} <= bundle
    config = json.loads((model / "config.json").read_text())
    assert config["family"] == fam
    params = config["params"]
    assert params["trust_remote_code"] is False  # off unless given
    assert params["hf_input"] == ("spaced" if ckpt == "bert" else "raw")  # auto, resolved
    if fam == "hf":
        hf_config = json.loads((model / "hf" / "config.json").read_text())
        labels = json.loads((model / "labels.json").read_text())
        assert hf_config["id2label"] == {str(i): c for i, c in enumerate(labels)}
        loop = json.loads((model / "training.json").read_text())["training_loop"]
        assert loop["steps"] == 12
    metrics = json.loads((model.with_name(f"{case}.eval") / "metrics.json").read_text())
    assert metrics["family"] == fam and 0.0 <= metrics["accuracy"] <= 1.0
    preds = pd.read_csv(model.with_name(f"{case}.tsv"), sep="\t")
    labels = json.loads((model / "labels.json").read_text())
    assert list(preds.columns)[:2 + len(labels)] == ["id", "label", *(f"prob_{c}" for c in labels)]
    assert abs(preds[[f"prob_{c}" for c in labels]].sum(axis=1) - 1.0).max() < 1e-5


def test_no_pickle_anywhere(hf_models):
    for model in hf_models.values():
        found = [p for p in model.rglob("*") if p.suffix in PICKLE_SUFFIXES]
        assert not found, found


def test_frozen_embeddings_head_learns(hf_models):
    """The planted protein motifs are visible even to a random tiny encoder's mean embedding."""
    metrics = json.loads((hf_models["embed-mlp"].with_name("embed-mlp.eval") /
                          "metrics.json").read_text())
    assert metrics["accuracy"] >= 0.6, metrics


def test_fresh_process_offline(hf_models, pipeline, tmp_path):
    """A fresh process with HF_HUB_OFFLINE=1 loads every model (their checkpoints are gone) and
    gives the same probabilities; a hub id that is not cached fails with one line."""
    script = """
import json, sys
import numpy as np
import pandas as pd
import torch
torch.set_num_threads(1)
from seqclass.cli import main
from seqclass.models import store
models = json.loads(sys.argv[1])
for case, path in models.items():
    model = store.load(path)
    assert main(["predict", "--model", path, "--input", sys.argv[2], "--out",
                 sys.argv[3] + "/" + case + ".tsv"]) == 0
rc = main(["train", "--dataset", sys.argv[4], "--family", "hf", "--out", sys.argv[3] + "/x",
           "--pretrained", "nobody-here/no-such-model", "--max-steps", "1"])
print("rc", rc)
"""
    models = {c: str(p) for c, p in hf_models.items() if c in ("hf-dna", "embed-logreg")}
    proc = subprocess.run([sys.executable, "-c", script, json.dumps(models), str(pipeline.long_fasta),
                           str(tmp_path), str(pipeline.split)],
                          capture_output=True, text=True, timeout=120, cwd=REPO, env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("rc 1"), proc.stdout
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "nobody-here/no-such-model" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr
    for case in models:
        again = pd.read_csv(tmp_path / f"{case}.tsv", sep="\t")
        first = pd.read_csv(hf_models[case].with_name(f"{case}.tsv"), sep="\t")
        cols = [c for c in first.columns if c.startswith("prob_")]
        assert abs(again[cols].to_numpy() - first[cols].to_numpy()).max() < 1e-4


def test_trust_remote_code_is_off_unless_given(pipeline, checkpoints, tmp_path, monkeypatch):
    import transformers

    seen: list[tuple[str, object]] = []
    for name in ("AutoTokenizer", "AutoConfig", "AutoModelForSequenceClassification"):
        cls = getattr(transformers, name)
        original = cls.from_pretrained

        def recorder(*args, _name=name, _original=original, **kwargs):
            seen.append((_name, kwargs.get("trust_remote_code")))
            return _original(*args, **kwargs)

        monkeypatch.setattr(cls, "from_pretrained", recorder)
    ok("train", "--dataset", pipeline.split, "--family", "hf", "--pretrained", checkpoints["esm"],
       "--max-steps", "1", "--out", tmp_path / "off")
    assert {n for n, _ in seen} == {"AutoTokenizer", "AutoConfig",
                                    "AutoModelForSequenceClassification"}
    assert all(v is False for _, v in seen), seen
    seen.clear()
    ok("train", "--dataset", pipeline.split, "--family", "hf", "--pretrained", checkpoints["esm"],
       "--max-steps", "1", "--trust-remote-code", "--out", tmp_path / "on")
    assert seen and all(v is True for _, v in seen), seen
    assert json.loads((tmp_path / "on" / "config.json").read_text())["params"]["trust_remote_code"]


@pytest.mark.parametrize("flags, message", [
    (["--pretrained", "/no/such/checkpoint"], "--pretrained /no/such/checkpoint: no such directory"),
    ([], "--pretrained is required"),
])
def test_bad_pretrained_is_one_line(pipeline, tmp_path, capsys, flags, message):
    for fam in ("hf", "hf-embed"):
        assert run("train", "--dataset", pipeline.split, "--family", fam, *flags,
                   "--out", tmp_path / "m") == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
        assert not (tmp_path / "m").exists()
