"""`gc-logreg`: logistic regression on GC content alone — the control a DNA model must beat.

Negatives drawn from one genome differ from resistance genes in GC; a model that
scores no better than this one has learnt composition, not genes. Features are the
standardised GC fraction and its square, so a class may own a band of GC values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from seqclass.models.base import Classifier, check_shapes, register
from seqclass.models.linear import fit_logreg
from seqclass.sequence.alphabets import DNA, gc_fraction, gc_fraction_of
from seqclass.spec import ModelSpec, TrainContext, TrainData


@dataclass
class GcLogRegParams:
    c: float = field(default=1.0, metadata={"help": "inverse L2 regularisation strength"})
    max_iter: int = field(default=2000, metadata={"help": "solver iterations"})
    class_weight: str = field(default="balanced", metadata={
        "help": "class weights of the loss: balanced or none", "choices": ["balanced", "none"]})


def _raw(fractions: list[float]) -> np.ndarray:
    gc = np.array(fractions, dtype=np.float64)
    return np.stack([gc, gc ** 2], axis=1)  # (N, 2)


@register("gc-logreg")
class GcLogReg(Classifier):
    Params = GcLogRegParams

    def __init__(self, spec: ModelSpec, mean: np.ndarray, scale: np.ndarray,
                 coef: np.ndarray, intercept: np.ndarray):
        super().__init__(spec)
        self.mean, self.scale, self.coef, self.intercept = mean, scale, coef, intercept

    @classmethod
    def fit(cls, spec: ModelSpec, train: TrainData, valid: TrainData | None, seed: int,
            context: TrainContext | None = None) -> GcLogReg:
        cls.check_params(spec)
        raw = _raw([gc_fraction(s) for s in train.sequences])
        mean, scale = raw.mean(axis=0), raw.std(axis=0) + 1e-9
        x = (raw - mean) / scale
        coef, intercept = fit_logreg(x, train, spec, seed)
        return cls(spec, mean, scale, coef, intercept)

    def logits(self, sequences: list[str]) -> np.ndarray:
        return self._linear([gc_fraction(s) for s in sequences])

    def stream_logits(self, parts: Iterable[str]) -> np.ndarray:
        return self._linear([gc_fraction_of(parts)])[0]

    def _linear(self, fractions: list[float]) -> np.ndarray:
        x = (_raw(fractions) - self.mean) / self.scale  # (N, 2)
        return (x @ self.coef.T + self.intercept).astype(np.float32)  # (N, C)

    def tensors(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean, "scale": self.scale, "coef": self.coef, "intercept": self.intercept}

    @classmethod
    def check_params(cls, spec: ModelSpec) -> None:
        if spec.alphabet != DNA:
            raise ValueError("gc-logreg needs DNA sequences")

    @classmethod
    def from_tensors(cls, spec: ModelSpec, tensors: dict[str, np.ndarray]) -> GcLogReg:
        c = len(spec.labels)
        check_shapes(tensors, {"mean": (2,), "scale": (2,), "coef": (c, 2), "intercept": (c,)})
        return cls(spec, tensors["mean"], tensors["scale"], tensors["coef"], tensors["intercept"])
