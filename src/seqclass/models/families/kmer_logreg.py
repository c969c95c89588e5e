"""`kmer-logreg`: k-mer counts → sublinear TF-IDF → class-weighted logistic regression.

The baseline of NucArg's ablation. Features index every k-mer of the core alphabet
(see sequence.kmers), so the only fitted state is the IDF vector and the linear
weights, saved as `idf` (F,), `coef` (C, F) and `intercept` (C,).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from seqclass import config
from seqclass.models.base import Classifier, check_shapes, register
from seqclass.models.linear import fit_logreg
from seqclass.sequence.kmers import check_k, count_matrix, n_features, stream_counts
from seqclass.spec import ModelSpec, TrainContext, TrainData


@dataclass
class KmerLogRegParams:
    k: int = field(default=6, metadata={"help": "k-mer length (DNA 4^k, protein 20^k features)",
                                        "flag": "--kmer-size", "deprecated": ("--k",), "metavar": "K"})
    kmer_stride: int = field(default=1, metadata={"help": "take every n-th k-mer"})
    canonical: bool = field(default=False, metadata={
        "help": "count a DNA k-mer and its reverse complement as one (strand-independent scans)"})
    c: float = field(default=1.0, metadata={"help": "inverse L2 regularisation strength"})
    max_iter: int = field(default=2000, metadata={"help": "solver iterations"})
    class_weight: str = field(default="balanced", metadata={
        "help": "class weights of the loss: balanced or none", "choices": ["balanced", "none"]})

    def __post_init__(self) -> None:
        config.at_least(self, ("k", "kmer_stride"))  # k against the alphabet: check_params


def tfidf(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear term frequency (1 + ln tf) times IDF, rows L2-normalised.  # (N, F)"""
    x = counts.copy()
    x.data = 1.0 + np.log(x.data)
    x = x.multiply(idf[None, :]).tocsr()
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1))).ravel()
    norms[norms == 0] = 1.0
    return sparse.diags(1.0 / norms) @ x


@register("kmer-logreg")
class KmerLogReg(Classifier):
    Params = KmerLogRegParams

    def __init__(self, spec: ModelSpec, idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray):
        super().__init__(spec)
        self.idf, self.coef, self.intercept = idf, coef, intercept

    def _features(self, sequences: list[str]) -> sparse.csr_matrix:
        p = self.spec.params
        return tfidf(count_matrix(sequences, p.k, self.spec.alphabet, p.kmer_stride,
                                  p.canonical), self.idf)

    @classmethod
    def fit(cls, spec: ModelSpec, train: TrainData, valid: TrainData | None, seed: int,
            context: TrainContext | None = None) -> KmerLogReg:
        cls.check_params(spec)
        p = spec.params
        counts = count_matrix(train.sequences, p.k, spec.alphabet, p.kmer_stride, p.canonical)
        df = np.asarray((counts > 0).sum(axis=0)).ravel()
        idf = (np.log((1 + counts.shape[0]) / (1 + df)) + 1).astype(np.float32)
        coef, intercept = fit_logreg(tfidf(counts, idf), train, spec, seed)
        return cls(spec, idf, coef, intercept)

    def logits(self, sequences: list[str]) -> np.ndarray:
        return self._linear(self._features(sequences))

    def stream_logits(self, parts: Iterable[str]) -> np.ndarray:
        p = self.spec.params
        counts = stream_counts(parts, p.k, self.spec.alphabet, p.kmer_stride, p.canonical)
        return self._linear(tfidf(counts, self.idf))[0]

    def _linear(self, x: sparse.csr_matrix) -> np.ndarray:
        """TF-IDF features  # (N, F) → logits  # (N, C)"""
        return np.asarray(x @ self.coef.T + self.intercept[None, :], dtype=np.float32)

    def tensors(self) -> dict[str, np.ndarray]:
        return {"idf": self.idf, "coef": self.coef, "intercept": self.intercept}

    @classmethod
    def check_params(cls, spec: ModelSpec) -> None:
        check_k(spec.params.k, spec.alphabet, config.flag(KmerLogRegParams, "k"))

    @classmethod
    def from_tensors(cls, spec: ModelSpec, tensors: dict[str, np.ndarray]) -> KmerLogReg:
        c, f = len(spec.labels), n_features(spec.params.k, spec.alphabet)
        check_shapes(tensors, {"idf": (f,), "coef": (c, f), "intercept": (c,)})
        return cls(spec, tensors["idf"], tensors["coef"], tensors["intercept"])
