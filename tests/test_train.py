"""`seqclass train`: the model directory of each family, reproducibility, no pickle."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import listing, ok, run, write_fasta
from safetensors.numpy import load_file

import seqclass

MODEL_FILES = {"config.json", "labels.json", "model.safetensors", "training.json", "ood.json",
               ".seqclass.json"}  # the marker of a directory seqclass wrote (issue 14)


def train_hash(split_path):
    table = pq.read_table(split_path).to_pandas()
    train = table[table["split"] == "train"] if "split" in table else table
    h = hashlib.sha256()
    for col in ("id", "sequence", "label"):
        for value in train[col]:
            h.update(value.encode())
            h.update(b"\0")
    return h.hexdigest(), len(train)


@pytest.mark.parametrize("which, family", [("model", "kmer-logreg"), ("gc_model", "gc-logreg")])
def test_model_directory(pipeline, which, family):
    model = getattr(pipeline, which)
    assert {p.name for p in model.iterdir()} == MODEL_FILES
    config = json.loads((model / "config.json").read_text())
    assert config["family"] == family
    assert config["alphabet"] == "dna" and config["task"] == "multiclass"
    assert config["window"] is None and config["stride"] is None  # trained on whole sequences
    assert config["format_version"] == 1
    assert json.loads((model / "labels.json").read_text()) == ["neg", "pos"]
    training = json.loads((model / "training.json").read_text())
    assert training["seed"] == 0
    assert training["versions"]["seqclass"] == seqclass.__version__
    for lib in ("python", "numpy", "scikit-learn", "pyarrow"):
        assert training["versions"][lib]
    sha, n_train = train_hash(pipeline.split)
    assert training["train_data_sha256"] == sha
    assert training["n_train"] == n_train
    assert sum(training["train_class_counts"].values()) == n_train
    assert training["provenance"][-1]["step"] == "train"
    tensors = load_file(str(model / "model.safetensors"))
    assert tensors and all(isinstance(v, np.ndarray) for v in tensors.values())


def test_kmer_params_recorded(pipeline):
    config = json.loads((pipeline.model / "config.json").read_text())
    assert config["params"]["k"] == 6
    tensors = load_file(str(pipeline.model / "model.safetensors"))
    assert tensors["coef"].shape == (2, 4 ** 6)
    assert tensors["idf"].shape == (4 ** 6,)
    assert tensors["intercept"].shape == (2,)


def test_no_pickle_anywhere(pipeline):
    for model in (pipeline.model, pipeline.chunk_model, pipeline.gc_model, pipeline.multilabel_model):
        for path in model.rglob("*"):
            assert path.suffix not in (".pkl", ".pickle", ".joblib", ".pt", ".bin")
            assert not path.read_bytes().startswith(b"\x80"), f"{path} looks like a pickle"


def test_chunk_model_records_window_and_stride(pipeline):
    config = json.loads((pipeline.chunk_model / "config.json").read_text())
    assert config["window"] == 60 and config["stride"] == 30
    sha, n_train = train_hash(pipeline.chunks)
    training = json.loads((pipeline.chunk_model / "training.json").read_text())
    assert training["train_data_sha256"] == sha and training["n_train"] == n_train


def test_training_is_reproducible(tmp_path, pipeline):
    ok("train", "--dataset", pipeline.split, "--family", "kmer-logreg", "--out", tmp_path / "m",
       "--kmer-size", "6")
    assert (tmp_path / "m" / "model.safetensors").read_bytes() == \
        (pipeline.model / "model.safetensors").read_bytes()
    a = json.loads((tmp_path / "m" / "training.json").read_text())
    b = json.loads((pipeline.model / "training.json").read_text())
    assert a["train_data_sha256"] == b["train_data_sha256"]


def test_seed_and_family_options(tmp_path, pipeline):
    ok("train", "--dataset", pipeline.split, "--family", "kmer-logreg", "--out", tmp_path / "m",
       "--kmer-size", "3", "--kmer-stride", "2", "--c", "0.5", "--seed", "9")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["params"] == {"k": 3, "kmer_stride": 2, "canonical": False, "c": 0.5,
                                "max_iter": 2000, "class_weight": "balanced"}
    assert json.loads((tmp_path / "m" / "training.json").read_text())["seed"] == 9


def test_overwrites_existing_model_directory(tmp_path, pipeline):
    out = tmp_path / "m"
    ok("train", "--dataset", pipeline.split, "--family", "gc-logreg", "--out", out)
    ok("train", "--dataset", pipeline.split, "--family", "kmer-logreg", "--out", out, "--kmer-size", "4")
    assert json.loads((out / "config.json").read_text())["family"] == "kmer-logreg"
    assert listing(tmp_path) == {"m", *(f"m/{n}" for n in MODEL_FILES)}


def test_protein_model(tmp_path, pipeline):
    ok("train", "--dataset", pipeline.protein_dataset, "--family", "kmer-logreg",
       "--out", tmp_path / "m", "--kmer-size", "2")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["alphabet"] == "protein"
    assert load_file(str(tmp_path / "m" / "model.safetensors"))["coef"].shape == (2, 400)


def test_gc_logreg_refuses_protein(tmp_path, pipeline, capsys):
    rc = run("train", "--dataset", pipeline.protein_dataset, "--family", "gc-logreg",
             "--out", tmp_path / "m")
    assert rc == 1
    err = capsys.readouterr().err
    assert "gc-logreg" in err and str(pipeline.protein_dataset) in err
    assert not (tmp_path / "m").exists()
    assert listing(tmp_path) == set()


def test_one_class_refused(tmp_path, capsys):
    write_fasta(tmp_path / "only.fa", [("a", "ACGTACGTAC"), ("b", "TTTTGGGGCC")])
    ok("build", "--out", tmp_path / "d.parquet", "--input", tmp_path / "only.fa")
    rc = run("train", "--dataset", tmp_path / "d.parquet", "--family", "kmer-logreg",
             "--out", tmp_path / "m")
    assert rc == 1
    assert "one class" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_canonical_kmers_score_both_strands_alike(pipeline, tmp_path):
    from seqclass.models import store
    from seqclass.sequence.alphabets import reverse_complement

    ok("train", "--dataset", pipeline.split, "--family", "kmer-logreg", "--kmer-size", "4", "--canonical",
       "--out", tmp_path / "canon")
    model = store.load(tmp_path / "canon")
    assert model.spec.params.canonical is True
    seqs = pq.read_table(pipeline.split).column("sequence").to_pylist()[:20]
    forward = model.logits(seqs)
    backward = model.logits([reverse_complement(s) for s in seqs])
    np.testing.assert_allclose(forward, backward, rtol=1e-5, atol=1e-6)
    # without --canonical the two strands differ
    plain = store.load(pipeline.model)
    assert not np.allclose(plain.logits(seqs), plain.logits([reverse_complement(s) for s in seqs]))


def test_class_weight_none_keeps_the_prior(pipeline, tmp_path):
    ok("train", "--dataset", pipeline.split, "--family", "kmer-logreg", "--class-weight", "none",
       "--out", tmp_path / "prior")
    config = json.loads((tmp_path / "prior" / "config.json").read_text())
    assert config["params"]["class_weight"] == "none"


def test_canonical_needs_dna(protein_fasta, tmp_path):
    ok("build", "--input", protein_fasta, "--out", tmp_path / "p.parquet")
    assert run("train", "--dataset", tmp_path / "p.parquet", "--family", "kmer-logreg", "--kmer-size", "2",
               "--canonical", "--out", tmp_path / "m") == 1
    assert not (tmp_path / "m").exists()
