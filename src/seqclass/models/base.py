"""The contract every model family meets, and the registry that finds them by name.

A family turns sequences into logits, one column per class  # (N, C)
- multiclass: probabilities are the softmax of the logits,
- multilabel: each column is an independent sigmoid.
Window logits of one parent sequence are aggregated (mean or max) before the
probabilities are taken. A family declares its hyper-parameters as a dataclass
(`Params`), whose fields become `seqclass train` flags, and its weights as named
numpy arrays that are saved as safetensors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

_REGISTRY: dict[str, type[Classifier]] = {}
# families that exist but cannot load here → why (e.g. the deep ones without PyTorch)
UNAVAILABLE: dict[str, str] = {}


@dataclass
class ModelSpec:
    """What any step needs to know to use a model, whatever its family."""

    family: str
    alphabet: str
    task: str  # multiclass | multilabel
    labels: list[str]
    window: int | None = None  # None: trained on whole sequences
    stride: int | None = None
    params: dict[str, Any] = field(default_factory=dict)


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


class Classifier(ABC):
    name: ClassVar[str]
    Params: ClassVar[type]
    # True: `fit` also takes `context=TrainContext` and writes into the model directory as it
    # trains, and the fitted model carries `training_record` (added to training.json)
    iterative: ClassVar[bool] = False
    # a subfolder of the model directory that the family writes and reads itself (the Hugging
    # Face families: a save_pretrained layout); None: all its weights are in model.safetensors
    bundle: ClassVar[str | None] = None

    def __init__(self, spec: ModelSpec):
        self.spec = spec

    @classmethod
    @abstractmethod
    def fit(cls, spec: ModelSpec, train: TrainData, valid: TrainData | None, seed: int) -> Classifier:
        """Train a model; `spec.params` holds this family's Params as a dict."""

    @abstractmethod
    def logits(self, sequences: list[str]) -> np.ndarray:
        """Class logits.  # (N, C) float32"""

    @abstractmethod
    def tensors(self) -> dict[str, np.ndarray]:
        """Weights to save, by name."""

    @classmethod
    @abstractmethod
    def from_tensors(cls, spec: ModelSpec, tensors: dict[str, np.ndarray]) -> Classifier:
        """Rebuild a trained model from saved weights."""

    def save_bundle(self, directory: Path) -> None:
        """Write the `bundle` subfolder (families that have one)."""
        raise NotImplementedError

    @classmethod
    def from_bundle(cls, spec: ModelSpec, tensors: dict[str, np.ndarray], directory: Path) -> Classifier:
        """Rebuild a trained model from model.safetensors (maybe empty) and its `bundle` folder."""
        raise NotImplementedError

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        return to_probabilities(logits, self.spec.task)

    def use_threads(self, threads: int) -> None:  # noqa: B027  (a no-op unless overridden)
        """Score with `threads` CPU threads (`--threads` of evaluate and predict). Families that
        run threads of their own override it; the others are single-threaded."""


def require_at_least_one(params: dict[str, Any], names: tuple[str, ...]) -> None:
    """Refuse a family parameter below 1, naming its flag."""
    for name in names:
        if params[name] < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1")


def to_probabilities(logits: np.ndarray, task: str) -> np.ndarray:
    if task == "multilabel":
        return 1.0 / (1.0 + np.exp(-logits))
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def register(name: str):
    def wrap(cls: type[Classifier]) -> type[Classifier]:
        cls.name = name
        _REGISTRY[name] = cls
        return cls
    return wrap


def family(name: str) -> type[Classifier]:
    if name not in _REGISTRY:
        if name in UNAVAILABLE:
            raise KeyError(f"model family {name!r} {UNAVAILABLE[name]}")
        raise KeyError(f"unknown model family {name!r}; known: {', '.join(family_names())}")
    return _REGISTRY[name]


def family_names() -> list[str]:
    return sorted(_REGISTRY)
