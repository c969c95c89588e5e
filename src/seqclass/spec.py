"""The types every layer shares: what a model is, what it trains on, where it writes.

A family turns sequences into logits, one column per class  # (N, C)
- multiclass: probabilities are the softmax of the logits,
- multilabel: each column is an independent sigmoid.

`ModelSpec.params` is the family's own `Params` dataclass (its fields are `seqclass train`
flags); model directories store it as a dict in config.json, and `models.store` rebuilds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqclass.errors import InputError


@dataclass
class ModelSpec:
    """What any step needs to know to use a model, whatever its family."""

    family: str
    alphabet: str
    task: str  # multiclass | multilabel
    labels: list[str]
    window: int | None = None  # None: trained on whole sequences
    stride: int | None = None
    params: Any = None  # the family's Params dataclass

    def class_index(self, name: str, flag: str, model_dir: Path) -> int:
        """The column of class `name`, which the user gave with `flag`; one line naming the
        model directory where it is not one of the model's classes."""
        if name not in self.labels:
            raise InputError(f"{flag} {name!r} is not a class of the model "
                             f"({', '.join(self.labels)})", model_dir)
        return self.labels.index(name)


@dataclass
class TrainData:
    sequences: list[str]
    targets: np.ndarray  # multiclass: (N,) int class index; multilabel: (N, C) 0/1


@dataclass
class TrainContext:
    """Where an iterative family writes while it trains (checkpoints/, training_log.jsonl, plots).

    `directory` is the model directory being written; the train step keeps it across a killed
    run so that `resume` can continue from its last checkpoint.
    """

    directory: Path
    resume: bool = False
    data_sha256: str = ""


def to_probabilities(logits: np.ndarray, task: str) -> np.ndarray:
    """Softmax over the classes (multiclass) or a sigmoid per label (multilabel).  # (N, C)"""
    if task == "multilabel":
        return 1.0 / (1.0 + np.exp(-logits))
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
