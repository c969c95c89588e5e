"""`similarity`: BLAST bit-scores per class → logistic regression, through the CLI.

Gene families are simulated: each is a random ancestor, and its members carry independent
substitutions at 20%, so two members share about 65% identity, the regime below a homology
split's 80% where composition says little and alignment still says which family. Protein
families (for blastx) share a random ancestral protein with 35% of its residues replaced in each
member, written with a random synonymous codon for every residue: members share about half
their residues but little more than chance at the third codon position, where nucleotide
alignment loses them and protein-level alignment does not.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import has, listing, ok, run, write_fasta
from safetensors.numpy import load_file

from seqclass.sequence.alphabets import reverse_complement
from seqclass.sequence.translation import translate

pytestmark = pytest.mark.skipif(not (has("blastn") and has("makeblastdb")),
                                reason="NCBI BLAST+ is not installed (apt install ncbi-blast+)")

CLASSES = ("AGly", "Bla", "Tet")


def mutate(rng: np.random.Generator, seq: str, rate: float) -> str:
    out = list(seq)
    for i in np.flatnonzero(rng.random(len(seq)) < rate):
        out[i] = rng.choice([b for b in "ACGT" if b != seq[i]])
    return "".join(out)


@pytest.fixture(scope="module")
def families(tmp_path_factory):
    """Two families per class, 8 members each; a random split; a FASTA of new members."""
    root = tmp_path_factory.mktemp("similarity")
    rng = np.random.default_rng(5)
    fastas, new = [], []
    for label in CLASSES:
        records = []
        for fam in range(2):
            ancestor = "".join(rng.choice(list("ACGT"), 600))
            records += [(f"{label}_{fam}_{m}", mutate(rng, ancestor, 0.2)) for m in range(8)]
            new += [(f"new_{label}_{fam}", mutate(rng, ancestor, 0.2))]
        fastas.append(write_fasta(root / f"{label}.fa", records))
    ok("build", "--input", *fastas, "--out", root / "dataset.parquet")
    ok("split", "--dataset", root / "dataset.parquet", "--strategy", "random", "--seed", "1",
       "--fractions", "0.6,0.2,0.2", "--out", root / "split.parquet")
    write_fasta(root / "new.fa", new)
    ok("train", "--dataset", root / "split.parquet", "--family", "similarity", "--out", root / "model")
    return root


@pytest.fixture(scope="module")
def protein_families(tmp_path_factory):
    """Two coding families per class, 8 members each; a random split; new members, half of
    them given as their reverse complement (blastx searches the query's six frames)."""
    root = tmp_path_factory.mktemp("protein_families")
    rng = np.random.default_rng(7)
    codons: dict[str, list[str]] = {}
    for codon in (a + b + c for a in "ACGT" for b in "ACGT" for c in "ACGT"):
        codons.setdefault(translate(codon), []).append(codon)
    residues = sorted(set(codons) - {"*"})

    def member(ancestor: str) -> str:
        protein = "".join(rng.choice(residues) if rng.random() < 0.35 else a for a in ancestor)
        return "".join(rng.choice(codons[a]) for a in protein) + "TAA"

    fastas, new = [], []
    for label in CLASSES:
        records = []
        for fam in range(2):
            ancestor = "M" + "".join(rng.choice(residues, 150))
            records += [(f"{label}_{fam}_{m}", member(ancestor)) for m in range(8)]
            gene = member(ancestor)
            new.append((f"new_{label}_{fam}", reverse_complement(gene) if fam else gene))
        fastas.append(write_fasta(root / f"{label}.fa", records))
    ok("build", "--input", *fastas, "--out", root / "dataset.parquet")
    ok("split", "--dataset", root / "dataset.parquet", "--strategy", "random", "--seed", "1",
       "--fractions", "0.6,0.2,0.2", "--out", root / "split.parquet")
    write_fasta(root / "new.fa", new)
    return root


def test_blastx_finds_the_protein_family_that_blastn_misses(protein_families):
    root = protein_families
    right = {}
    for search in ("blastn", "blastx"):
        ok("train", "--dataset", root / "split.parquet", "--family", "similarity", "--search", search,
           "--out", root / search)
        ok("predict", "--model", root / search, "--input", root / "new.fa", "--out", root / f"{search}.tsv")
        pred = pd.read_csv(root / f"{search}.tsv", sep="\t")
        right[search] = (pred.id.str.split("_").str[1] == pred.label).mean()
    ok("evaluate", "--model", root / "blastx", "--dataset", root / "split.parquet", "--split", "test",
       "--out", root / "eval")
    assert json.loads((root / "eval" / "metrics.json").read_text())["accuracy"] >= 0.9
    assert right["blastx"] == 1.0 and right["blastn"] <= 0.5, right
    # the model keeps its reference as DNA; the translation is redone when it is loaded
    weights = load_file(str(root / "blastx" / "model.safetensors"))
    assert set(weights["reference_residues"].tobytes().decode()) <= set("ACGT")


def test_calls_the_family_of_distant_members(families):
    ok("evaluate", "--model", families / "model", "--dataset", families / "split.parquet",
       "--split", "test", "--out", families / "eval")
    metrics = json.loads((families / "eval" / "metrics.json").read_text())
    assert metrics["n"] >= 8 and metrics["accuracy"] >= 0.9
    ok("predict", "--model", families / "model", "--input", families / "new.fa",
       "--out", families / "new.tsv")
    pred = pd.read_csv(families / "new.tsv", sep="\t")
    assert (pred.id.str.split("_").str[1] == pred.label).mean() >= 5 / 6


def test_model_keeps_its_reference_in_safetensors(families):
    from seqclass.models import store

    weights = load_file(str(families / "model" / "model.safetensors"))
    split = pd.read_parquet(families / "split.parquet")
    train = split[split.split == "train"]
    offsets = weights["reference_offsets"]
    assert len(offsets) == len(train) + 1 and offsets[-1] == train.sequence.str.len().sum()
    assert weights["reference_targets"].shape == (len(train), len(CLASSES))
    # bits, identity, nearest neighbour per class, no-hit
    assert weights["coef"].shape == (len(CLASSES), 3 * len(CLASSES) + 1)
    config = json.loads((families / "model" / "config.json").read_text())
    assert config["family"] == "similarity" and config["params"]["search"] == "auto"
    assert config["params"]["c"] == 0.1  # its own default, not the linear families' 1.0
    a, b = store.load(families / "model"), store.load(families / "model")
    seqs = list(split.sequence[:6]) + ["ACGT" * 30]
    np.testing.assert_allclose(a.logits(seqs), b.logits(seqs), rtol=1e-6)


def test_features_per_class_nearest_neighbour_and_no_hit():
    from seqclass.models.families.similarity import features

    targets = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 1]], dtype=np.uint8)  # (R, C); the last two classes
    hits = np.array([[0, 0, 90.0, 50.0],   # query 0: class 0 at 50 bits, 90% identity
                     [0, 2, 60.0, 80.0],   # ... and the two-class reference at 80 bits: its nearest
                     [2, 1, 70.0, 20.0]])  # query 2: class 1; query 1 has no hit
    x = features(hits, targets, np.array([100, 50, 10]))  # (3, 3C + 1)
    np.testing.assert_allclose(x[0], [0.5, 0.8, 0.8, 0.9, 0.6, 0.6, 0, 1, 1, 0])
    np.testing.assert_allclose(x[1], [0] * 9 + [1])
    np.testing.assert_allclose(x[2], [0, 2.0, 0, 0, 0.7, 0, 0, 1, 0, 0])


def test_a_model_with_other_feature_columns_is_refused(families, tmp_path, capsys):
    from safetensors.numpy import save_file

    shutil.copytree(families / "model", tmp_path / "old")
    weights = load_file(str(tmp_path / "old" / "model.safetensors"))
    weights["coef"] = np.ascontiguousarray(weights["coef"][:, :2 * len(CLASSES) + 1])  # an older layout
    save_file(weights, str(tmp_path / "old" / "model.safetensors"))
    capsys.readouterr()
    assert run("predict", "--model", tmp_path / "old", "--input", families / "new.fa",
               "--out", tmp_path / "p.tsv") == 1
    err = capsys.readouterr().err.strip()
    assert "retrain it" in err and len(err.splitlines()) == 1 and not (tmp_path / "p.tsv").exists()


def test_kmer_features_and_multilabel(families, pipeline, tmp_path):
    from test_formats import FORMATS, check_columns, parse

    ok("train", "--dataset", families / "split.parquet", "--family", "similarity", "--kmer-k", "3",
       "--out", tmp_path / "k3")
    assert load_file(str(tmp_path / "k3" / "model.safetensors"))["idf"].shape == (64,)
    section = parse(FORMATS.read_text())["model/model.safetensors (similarity)"]
    for model, tags in ((families / "model", frozenset()), (tmp_path / "k3", frozenset({"--kmer-k"}))):
        tensors = load_file(str(model / "model.safetensors"))
        check_columns(section, {k: str(v.dtype) for k, v in tensors.items()}, str(model), text=False,
                      tags=tags)
    ok("evaluate", "--model", tmp_path / "k3", "--dataset", families / "split.parquet",
       "--split", "test", "--out", tmp_path / "k3.eval")
    assert json.loads((tmp_path / "k3.eval" / "metrics.json").read_text())["accuracy"] >= 0.9
    ok("train", "--dataset", pipeline.multilabel_split, "--family", "similarity", "--out", tmp_path / "ml")
    assert json.loads((tmp_path / "ml" / "config.json").read_text())["task"] == "multilabel"


def test_predict_threads_reach_blast_and_leave_the_model_as_it_was(families, tmp_path, capsys,
                                                                   monkeypatch):
    from seqclass.models.families import similarity

    calls = []
    real = similarity._run
    monkeypatch.setattr(similarity, "_run", lambda cmd: calls.append(cmd) or real(cmd))
    ok("predict", "--model", families / "model", "--input", families / "new.fa",
       "--out", tmp_path / "three.tsv", "--threads", "3")
    searches = [cmd for cmd in calls if cmd[0] == "blastn"]
    assert searches and all(cmd[cmd.index("-num_threads") + 1] == "3" for cmd in searches)
    config = json.loads((families / "model" / "config.json").read_text())
    assert config["params"]["threads"] == 1  # the training run's setting, untouched
    ok("predict", "--model", families / "model", "--input", families / "new.fa",
       "--out", tmp_path / "default.tsv")
    assert (pd.read_csv(tmp_path / "three.tsv", sep="\t").label.tolist()
            == pd.read_csv(tmp_path / "default.tsv", sep="\t").label.tolist())
    for step, data in (("predict", ["--input", families / "new.fa"]),
                       ("evaluate", ["--dataset", families / "split.parquet"])):
        assert run(step, "--model", families / "model", *data, "--out", tmp_path / "zero",
                   "--threads", "0") == 1
        assert "--threads 0: must be at least 1" in capsys.readouterr().err
    assert listing(tmp_path) == {"three.tsv", "default.tsv"}


def test_bad_search_and_missing_blast_fail_cleanly(families, tmp_path, capsys, monkeypatch):
    assert run("train", "--dataset", families / "split.parquet", "--family", "similarity",
               "--search", "blastp", "--out", tmp_path / "m") == 1
    assert "--search blastp needs protein" in capsys.readouterr().err
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert run("train", "--dataset", families / "split.parquet", "--family", "similarity",
               "--out", tmp_path / "m") == 1
    err = capsys.readouterr().err.strip()
    assert "makeblastdb not found on PATH" in err and "ncbi-blast+" in err and len(err.splitlines()) == 1
    assert listing(tmp_path) == set()


def test_blastx_needs_dna(protein_fasta, tmp_path, capsys):
    ok("build", "--input", protein_fasta, "--label-from", "header-key:class", "--out", tmp_path / "p.parquet")
    ok("split", "--dataset", tmp_path / "p.parquet", "--strategy", "random", "--out", tmp_path / "s.parquet")
    capsys.readouterr()
    assert run("train", "--dataset", tmp_path / "s.parquet", "--family", "similarity", "--search", "blastx",
               "--out", tmp_path / "m") == 1
    err = capsys.readouterr().err.strip()
    assert "--search blastx needs DNA sequences, not protein" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "m").exists()


def test_no_hit_goes_to_the_class_most_no_hit_rows_belong_to(tmp_path):
    """A small class whose members align to nothing must not claim every gene without a hit."""
    rng = np.random.default_rng(11)

    def random_seq() -> str:
        return "".join(rng.choice(list("ACGT"), 500))

    ancestor = random_seq()
    fastas = [write_fasta(tmp_path / "neg.fa", [(f"neg{i}", random_seq()) for i in range(40)]),
              write_fasta(tmp_path / "fam.fa", [(f"fam{i}", mutate(rng, ancestor, 0.15)) for i in range(10)]),
              write_fasta(tmp_path / "rare.fa", [(f"rare{i}", random_seq()) for i in range(4)])]
    ok("build", "--input", *fastas, "--out", tmp_path / "d.parquet")
    ok("split", "--dataset", tmp_path / "d.parquet", "--strategy", "random", "--fractions", "1,0,0",
       "--out", tmp_path / "s.parquet")
    ok("train", "--dataset", tmp_path / "s.parquet", "--family", "similarity", "--out", tmp_path / "m")
    write_fasta(tmp_path / "new.fa", [(f"new{i}", random_seq()) for i in range(20)]
                + [("fam_new", mutate(rng, ancestor, 0.15))])
    ok("predict", "--model", tmp_path / "m", "--input", tmp_path / "new.fa", "--out", tmp_path / "p.tsv")
    calls = pd.read_csv(tmp_path / "p.tsv", sep="\t").set_index("id").label
    assert (calls.drop("fam_new") == "neg").all() and calls["fam_new"] == "fam"
