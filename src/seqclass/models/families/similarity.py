"""`similarity`: BLAST bit-scores to the training sequences of each class → logistic regression.

The DeepARG-LS idea: a gene that shares 60% identity with a known β-lactamase is best
described by that alignment, which k-mer counts barely see below ~80% identity. Each query
is aligned with NCBI BLAST+ to the training sequences, which the model keeps: blastn -task
blastn for DNA, blastp for protein, or, at the protein level for DNA, blastx (the query in six
frames against each training sequence translated in its most open frame, which for a gene or a
window of one is its coding frame) or tblastx (six frames on both sides, slower, for training
sequences that need not code). Its features, per class c (C classes):

    bits[c]    = the best bit-score of a hit to a training sequence of class c / query length
    ident[c]   = the best percent identity of such a hit / 100
    nearest[c] = 1 when the query's top-scoring hit (its nearest neighbour) carries class c
    no_hit     = 1 when the query has no hit at --evalue                     # (N, 3C + 1)

and, with --kmer-k K > 0, the sublinear TF-IDF K-mer profile of kmer-logreg beside them, so
that genes without any hit still get a composition-based call. A class-weighted logistic
regression maps the features to logits; `nearest` lets it take the best hit's class as it is
wherever the scores say nothing better, which the per-class maxima alone cannot express for
every class at once. Its balanced class weights re-weight only the rows
with a hit; rows without one keep the training prior, so that "no hit" is called by the class
most such rows belong to (the negatives) rather than by a small class that happens to have
members without a hit outside their own cluster.

Training rows get their features from a search of the training set against itself. A row's
own hit is left out, and so is every hit at --holdout-identity or more (identity as the search
reports it: of amino acids for blastx and tblastx), so that training
features look like those of a new gene from a homology split at that identity rather than
like near-copies (which would teach the head that only a near-perfect hit means anything).

Weights (model.safetensors): `reference_residues` (R,) uint8, the training sequences
concatenated, `reference_offsets` (N + 1,) int64, `reference_targets` (N, C) uint8, the head's
`coef` (C, F) and `intercept` (C,), and with --kmer-k the k-mer `idf` (4^K or 20^K,).
The reference is kept as given (DNA for blastx); its translation is redone when the database is
built. Needs the BLAST program and makeblastdb on PATH (Debian: ncbi-blast+).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
import weakref
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np
from scipy import sparse

from seqclass import config
from seqclass.config import option
from seqclass.errors import ClusterError
from seqclass.models.base import Classifier, register
from seqclass.models.families.kmer_logreg import tfidf
from seqclass.models.linear import fit_logreg
from seqclass.sequence.alphabets import DNA, PROTEIN
from seqclass.sequence.kmers import check_k, count_matrix
from seqclass.sequence.translation import coding_protein
from seqclass.spec import ModelSpec, TrainContext, TrainData

# program → (database type, query alphabet); --search auto is blastn or blastp by the data's alphabet
PROGRAMS = {"blastn": ("nucl", DNA), "blastp": ("prot", PROTEIN), "tblastx": ("nucl", DNA),
            "blastx": ("prot", DNA)}
HIT_COLUMNS = "qseqid sseqid pident bitscore"


@dataclass
class SimilarityParams:
    search: str = option("BLAST program: auto is blastn for DNA and blastp for protein; blastx "
                         "compares DNA at the protein level (queries in six frames, training "
                         "sequences in their most open frame: for genes and gene windows); "
                         "tblastx translates both sides in six frames (slower)", "auto",
                         choices=["auto", *PROGRAMS])
    evalue: float = option("hits above this E-value are ignored", 1e-5)
    max_hits: int = option("hits kept per query (BLAST -max_target_seqs)", 50)
    holdout_identity: float = option("training features ignore hits at this identity or more "
                                     "(as a homology split at that identity would); 1: only "
                                     "a row's hit to itself", 0.8)
    kmer_k: int = option("add the k-mer TF-IDF profile of this k to the features; 0: none", 0)
    # chosen on the valid splits of the ARG benchmark (experiments/arg_head_grid.py): stronger
    # regularisation than the linear families' 1.0 keeps the head near the best hit's call,
    # which generalised better there (macro-F1 0.909 at 0.1, 0.895 at 1)
    c: float = option("inverse L2 regularisation strength of the logistic regression", 0.1)
    max_iter: int = option("solver iterations", 2000)
    class_weight: str = option("class weights of the loss: balanced or none", "balanced",
                               choices=["balanced", "none"])
    threads: int = option("BLAST threads", 1)

    def __post_init__(self) -> None:
        config.at_least(self, ("max_hits", "threads"))
        config.at_least(self, ("kmer_k",), 0)  # 0: none; a k against the alphabet: check_params
        config.within(self, "holdout_identity", 0, 1, low_open=True)


def program(spec: ModelSpec) -> str:
    name = spec.params.search
    if name == "auto":
        return "blastn" if spec.alphabet == DNA else "blastp"
    return name


def _write_fasta(path: Path, sequences: list[str]) -> None:
    """Records named s0, s1, ...: BLAST reads an all-digit name as a GenBank gi and renames it."""
    with open(path, "w") as handle:
        for i, seq in enumerate(sequences):
            handle.write(f">s{i}\n{seq}\n")


def _run(cmd: list[str]) -> str:
    if shutil.which(cmd[0]) is None:
        raise ClusterError(f"{cmd[0]} not found on PATH: the similarity family needs NCBI BLAST+ "
                           "(Debian/Ubuntu: apt install ncbi-blast+; conda: blast)")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise ClusterError(f"{cmd[0]} failed (exit {proc.returncode}): {last}")
    return proc.stdout


class Reference:
    """The training sequences as a BLAST database in a private temporary folder."""

    def __init__(self, sequences: list[str], spec: ModelSpec):
        self.spec = spec
        self._tmp = tempfile.TemporaryDirectory(prefix="seqclass_blast_")
        self.folder = Path(self._tmp.name)
        weakref.finalize(self, self._tmp.cleanup)
        if program(spec) == "blastx":
            # "X" stands in for a sequence too short to hold a codon: BLAST refuses empty records
            sequences = [coding_protein(s) or "X" for s in sequences]
        _write_fasta(self.folder / "reference.fa", sequences)
        dbtype = PROGRAMS[program(spec)][0]
        _run(["makeblastdb", "-in", str(self.folder / "reference.fa"), "-dbtype", dbtype,
              "-out", str(self.folder / "db")])

    def search(self, queries: list[str], threads: int) -> np.ndarray:
        """Hits of each query: rows (query index, reference index, identity %, bit-score).  # (H, 4)"""
        fd, name = tempfile.mkstemp(suffix=".fa", dir=self.folder)
        os.close(fd)
        try:
            _write_fasta(Path(name), queries)
            p = self.spec.params
            task = ["-task", "blastn"] if program(self.spec) == "blastn" else []  # not megablast
            out = _run([program(self.spec), *task, "-query", name, "-db", str(self.folder / "db"),
                        "-evalue", str(p.evalue), "-max_target_seqs", str(p.max_hits),
                        "-outfmt", f"6 {HIT_COLUMNS}", "-num_threads", str(threads)])
        finally:
            os.unlink(name)
        rows = [(q[1:], r[1:], ident, bits) for q, r, ident, bits in
                (line.split("\t") for line in out.splitlines() if line)]
        return np.array(rows, dtype=np.float64).reshape(len(rows), 4)


def n_features(n_classes: int) -> int:
    return 3 * n_classes + 1


def features(hits: np.ndarray, targets: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Per-class best bit-score per residue and identity, the nearest neighbour's classes, and
    a no-hit flag.  # (N, 3C + 1)

    hits: (H, 4) query, reference, identity %, bit-score; targets: (R, C) 0/1 classes of the
    references; lengths: (N,) query lengths in residues."""
    n, c = len(lengths), targets.shape[1]
    out = np.zeros((n, n_features(c)), dtype=np.float32)
    if len(hits):
        query, ref = hits[:, 0].astype(np.int64), hits[:, 1].astype(np.int64)
        bits = hits[:, 3] / np.maximum(lengths[query], 1)  # (H,)
        for j in range(c):  # a hit counts for every class its reference carries
            sel = targets[ref, j] > 0
            np.maximum.at(out[:, j], query[sel], bits[sel])
            np.maximum.at(out[:, c + j], query[sel], hits[sel, 2] / 100.0)
        order = np.lexsort((-hits[:, 3], query))  # by query, then bit-score, highest first
        top = order[np.r_[True, query[order][1:] != query[order][:-1]]]  # (queries with a hit,)
        out[query[top], 2 * c:3 * c] = targets[ref[top]]
    out[:, -1] = out[:, :c].max(axis=1) == 0
    return out


def one_hot_targets(train: TrainData, spec: ModelSpec) -> np.ndarray:
    if spec.task == "multilabel":
        return train.targets.astype(np.uint8)  # (N, C)
    return np.eye(len(spec.labels), dtype=np.uint8)[train.targets]  # (N, C)


@register("similarity")
class Similarity(Classifier):
    Params = SimilarityParams
    batch_windows: ClassVar[int] = 32768  # each logits() call starts BLAST and reads its database

    def __init__(self, spec: ModelSpec, reference: list[str], targets: np.ndarray, coef: np.ndarray,
                 intercept: np.ndarray, idf: np.ndarray | None):
        super().__init__(spec)
        self.reference, self.targets = reference, targets
        self.coef, self.intercept, self.idf = coef, intercept, idf

    @functools.cached_property
    def database(self) -> Reference:
        return Reference(self.reference, self.spec)

    @classmethod
    def check_params(cls, spec: ModelSpec) -> None:
        p = spec.params
        needs = PROGRAMS[program(spec)][1]
        if spec.alphabet != needs:
            raise ValueError(f"--search {program(spec)} needs {'DNA' if needs == DNA else 'protein'} "
                             f"sequences, not {spec.alphabet}")
        if p.kmer_k:
            check_k(p.kmer_k, spec.alphabet, config.flag(SimilarityParams, "kmer_k"))

    def design(self, sequences: list[str]):
        """The features of new sequences: searched against the whole reference.  # (N, F)"""
        return self._design(sequences, self.database.search(sequences, self.spec.params.threads))

    def _design(self, sequences: list[str], hits: np.ndarray):
        lengths = np.array([len(s) for s in sequences], dtype=np.int64)
        x = features(hits, self.targets, lengths)  # (N, 3C + 1)
        if self.idf is None:
            return x
        counts = count_matrix(sequences, self.spec.params.kmer_k, self.spec.alphabet)
        return sparse.hstack([sparse.csr_matrix(x), tfidf(counts, self.idf)]).tocsr()

    @classmethod
    def unfitted(cls, spec: ModelSpec, train: TrainData) -> Similarity:
        """The model with its reference (and k-mer idf) but no head yet."""
        cls.check_params(spec)
        idf = None
        if spec.params.kmer_k:
            counts = count_matrix(train.sequences, spec.params.kmer_k, spec.alphabet)
            df = np.asarray((counts > 0).sum(axis=0)).ravel()
            idf = (np.log((1 + counts.shape[0]) / (1 + df)) + 1).astype(np.float32)
        return cls(spec, list(train.sequences), one_hot_targets(train, spec),
                   np.zeros(0, np.float32), np.zeros(0, np.float32), idf)

    def training_design(self):
        """The training rows' features, from a search of the reference against itself, and
        which rows have a hit: `(x (N, F), evidence (N,) bool)`."""
        hits = self.database.search(self.reference, self.spec.params.threads)  # (H, 4)
        keep = hits[:, 0] != hits[:, 1]
        if self.spec.params.holdout_identity < 1:
            keep &= hits[:, 2] < 100.0 * self.spec.params.holdout_identity
        evidence = np.zeros(len(self.reference), dtype=bool)
        evidence[hits[keep, 0].astype(np.int64)] = True
        return self._design(self.reference, hits[keep]), evidence

    @classmethod
    def fit(cls, spec: ModelSpec, train: TrainData, valid: TrainData | None, seed: int,
            context: TrainContext | None = None) -> Similarity:
        model = cls.unfitted(spec, train)
        x, evidence = model.training_design()
        # class balancing only among rows with a hit: a small class whose members have no hit
        # outside their cluster would otherwise claim the no-hit pattern (every gene that
        # aligns to nothing) from the negative class, which owns nearly all such rows
        model.coef, model.intercept = fit_logreg(x, train, spec, seed, balanced_rows=evidence)
        return model

    def use_threads(self, threads: int) -> None:
        # BLAST's, for this scoring run; the model directory keeps the training run's
        self.spec = replace(self.spec, params=replace(self.spec.params, threads=threads))

    def logits(self, sequences: list[str]) -> np.ndarray:
        if not sequences:
            return np.zeros((0, len(self.spec.labels)), dtype=np.float32)
        x = self.design(sequences)  # (N, F)
        return np.asarray(x @ self.coef.T + self.intercept[None, :], dtype=np.float32)  # (N, C)

    def tensors(self) -> dict[str, np.ndarray]:
        joined = "".join(self.reference).encode("ascii")
        offsets = np.cumsum([0] + [len(s) for s in self.reference], dtype=np.int64)
        out: dict[str, np.ndarray] = {
            "reference_residues": np.frombuffer(joined, dtype=np.uint8), "reference_offsets": offsets,
            "reference_targets": self.targets, "coef": self.coef, "intercept": self.intercept}
        if self.idf is not None:
            out["idf"] = self.idf
        return out

    @classmethod
    def from_tensors(cls, spec: ModelSpec, tensors: dict[str, np.ndarray]) -> Similarity:
        cls.check_params(spec)
        try:
            raw = tensors["reference_residues"].tobytes().decode("ascii")
            offsets = tensors["reference_offsets"]
            reference = [raw[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
            coef, idf = tensors["coef"], tensors.get("idf")
        except KeyError as err:
            raise ValueError(f"no {err.args[0]} tensor: not a similarity model") from None
        expected = n_features(len(spec.labels)) + (0 if idf is None else len(idf))
        if coef.shape[1] != expected:
            raise ValueError(f"coef has {coef.shape[1]} feature columns where this seqclass computes "
                             f"{expected}: a similarity model of another seqclass version; retrain it")
        return cls(spec, reference, tensors["reference_targets"], coef, tensors["intercept"], idf)
