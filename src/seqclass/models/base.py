"""The contract every model family meets, and the registry that finds them by name.

A family turns sequences into logits (seqclass.spec). Window logits of one parent sequence
are aggregated (mean or max) before the probabilities are taken. A family declares its
hyper-parameters as a dataclass (`Params`), whose fields become `seqclass train` flags, and
its weights as named numpy arrays that are saved as safetensors.
"""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from seqclass.spec import ModelSpec, TrainContext, TrainData, to_probabilities

_REGISTRY: dict[str, type[Classifier]] = {}
# families that exist but cannot load here → why (e.g. the deep ones without PyTorch)
UNAVAILABLE: dict[str, str] = {}


class Classifier(ABC):
    name: ClassVar[str]
    Params: ClassVar[type]
    # True: `fit` also takes `context=TrainContext` and writes into the model directory as it
    # trains, and the fitted model carries `training_record` (added to training.json)
    iterative: ClassVar[bool] = False
    # a subfolder of the model directory that the family writes and reads itself (the Hugging
    # Face families: a save_pretrained layout); None: all its weights are in model.safetensors
    bundle: ClassVar[str | None] = None
    # modules the family needs beyond the core install, and the pip extra that brings them
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None
    # windows per logits() call when a long sequence is scored: bounds the memory of scoring
    batch_windows: ClassVar[int] = 2048

    def __init__(self, spec: ModelSpec):
        self.spec = spec

    @classmethod
    @abstractmethod
    def fit(cls, spec: ModelSpec, train: TrainData, valid: TrainData | None, seed: int,
            context: TrainContext | None = None) -> Classifier:
        """Train a model; `spec.params` is this family's Params. `context` says where an
        iterative family writes checkpoints and its log (the others have no use for it)."""

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

    @classmethod  # noqa: B027  (a no-op unless a family overrides it)
    def check_params(cls, spec: ModelSpec) -> None:
        """Refuse parameters that cannot work (training) or a config.json that was tampered with
        (loading): a ValueError naming the flag. Families without such checks keep this no-op."""

    @classmethod
    def upgrade_params(cls, stored: dict[str, Any]) -> dict[str, Any]:
        """config.json's params as this version names them (a new dict); fields it lacks take
        their defaults. Families override it where an older meaning differs from the default."""
        return dict(stored)

    def stream_logits(self, parts: Iterable[str]) -> np.ndarray:
        """logits([whole])[0] of one sequence that arrives in parts (a chromosome read as it is
        scored).  # (C,)  Families that can score a block at a time override it, so that memory
        is a block's; this default joins the parts."""
        return self.logits(["".join(parts)])[0]

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        return to_probabilities(logits, self.spec.task)

    def use_threads(self, threads: int) -> None:  # noqa: B027  (a no-op unless overridden)
        """Score with `threads` CPU threads (`--threads` of evaluate and predict). Families that
        run threads of their own override it; the others are single-threaded."""


def check_shapes(tensors: dict[str, np.ndarray], expected: dict[str, tuple[int, ...]]) -> None:
    """Refuse weights that are missing or of another shape than the model's parameters say."""
    for name, shape in expected.items():
        if name not in tensors:
            raise ValueError(f"no {name} tensor")
        if tensors[name].shape != shape:
            raise ValueError(f"tensor {name} has shape {tensors[name].shape}, expected {shape}")


def register(name: str):
    """Class decorator: the family `name`, or where a module it `requires` is missing, a name
    that says what to install."""
    def wrap(cls: type[Classifier]) -> type[Classifier]:
        cls.name = name
        missing = [m for m in cls.requires if not _importable(m)]
        if missing:
            needs = " and ".join(LIBRARY_NAMES.get(m, m) for m in cls.requires)
            install = f"'seqclass[{cls.extra}]'" if cls.extra else " ".join(missing)
            UNAVAILABLE[name] = f"needs {needs}: pip install {install}"
        else:
            _REGISTRY[name] = cls
        return cls
    return wrap


LIBRARY_NAMES = {"torch": "PyTorch"}


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # an import hook refuses it, or a broken entry
        return False


def family(name: str) -> type[Classifier]:
    if name not in _REGISTRY:
        if name in UNAVAILABLE:
            raise KeyError(f"model family {name!r} {UNAVAILABLE[name]}")
        raise KeyError(f"unknown model family {name!r}; known: {', '.join(family_names())}")
    return _REGISTRY[name]


def family_names() -> list[str]:
    return sorted(_REGISTRY)
