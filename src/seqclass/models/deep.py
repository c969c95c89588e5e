"""What the deep families share: token encoding, training on the one loop, batched inference.

A deep family is one module that declares its `Params` (extending `DeepTrainParams` or
`TokenParams`, so the training flags come with it) and implements `build(spec)`, which
returns an untrained `torch.nn.Module` mapping

    tokens   # (B, L) int64, 0 = padding after each sequence (sequence.encoding)
    lengths  # (B,) int64, tokens per sequence, >= 1
 →  logits   # (B, C) float

A family whose network takes other inputs (the Hugging Face families: input_ids and an
attention mask) overrides `collate`, which turns a batch of `encode`d arrays into the
network's positional inputs, and `token_lengths`, the lengths the loop buckets by.

Everything else — the training loop (seqclass.training.loop), checkpoints, inference in eval mode
without gradients, weights as safetensors — is here and in seqclass.training. This module
imports PyTorch only inside methods, so registering a deep family is free.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from seqclass.models.base import Classifier
from seqclass.sequence import encoding, windows
from seqclass.spec import ModelSpec, TrainContext, TrainData
from seqclass.training.batching import pad
from seqclass.training.params import DeepTrainParams

if TYPE_CHECKING:
    import torch

    from seqclass.training.scoring import Tokens


class DeepClassifier(Classifier):
    Params: ClassVar[type] = DeepTrainParams
    iterative: ClassVar[bool] = True
    requires: ClassVar[tuple[str, ...]] = ("torch",)
    extra: ClassVar[str | None] = "deep"
    default_token_k: ClassVar[int] = 1

    def __init__(self, spec: ModelSpec, net: torch.nn.Module, training_record: dict | None = None):
        super().__init__(spec)
        self.net = net.eval()
        self.training_record = training_record or {}

    # ------------------------------------------------------------ what a family provides

    @classmethod
    @abstractmethod
    def build(cls, spec: ModelSpec) -> torch.nn.Module:
        """An untrained network for this spec: (tokens (B, L), lengths (B,)) → logits (B, C)."""

    @classmethod
    def check(cls, spec: ModelSpec) -> None:
        """Refuse parameters that cannot work, with a ValueError naming the flag."""

    # ------------------------------------------------------------ shared

    @classmethod
    def token_k(cls, spec: ModelSpec) -> int:
        return getattr(spec.params, "token_k", None) or cls.default_token_k

    @classmethod
    def token_stride(cls, spec: ModelSpec) -> int:
        """Residues from one token's k-mer to the next's."""
        return 1

    @classmethod
    def encode(cls, spec: ModelSpec, sequences: list[str]) -> list[np.ndarray]:
        return encoding.encode_all(sequences, spec.alphabet, cls.token_k(spec))

    @classmethod
    def collate(cls, spec: ModelSpec, arrays: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        """The network's inputs for a batch of encoded arrays: (tokens (B, L), lengths (B,))."""
        return pad(arrays)

    @classmethod
    def token_lengths(cls, spec: ModelSpec, sequences: list[str]) -> np.ndarray:
        """Tokens per sequence, before any cropping, for length bucketing.  # (N,) int64"""
        k = cls.token_k(spec)
        return np.array([max(1, len(s) - k + 1) for s in sequences], dtype=np.int64)

    @classmethod
    def max_tokens(cls, spec: ModelSpec) -> int:
        """Tokens in a window of --max-len residues; 0 when unlimited."""
        max_len = spec.params.max_len
        return max(1, max_len - cls.token_k(spec) + 1) if max_len > 0 else 0

    @classmethod
    def resolve(cls, spec: ModelSpec) -> ModelSpec:
        """The spec with the family's defaults filled in (a new one), so that config.json
        records the values used: here the token length."""
        if not hasattr(spec.params, "token_k"):
            return spec
        return replace(spec, params=replace(spec.params, token_k=cls.token_k(spec)))

    @classmethod
    def check_params(cls, spec: ModelSpec) -> None:
        p = spec.params
        if hasattr(p, "token_k"):  # against the alphabet; the options alone: Params.__post_init__
            encoding.check_token_k(spec.alphabet, cls.token_k(spec))
        cls.check(spec)

    @classmethod
    def fit(cls, spec: ModelSpec, train: TrainData, valid: TrainData | None, seed: int,
            context: TrainContext | None = None) -> DeepClassifier:
        from seqclass.training.loop import train_network

        spec = cls.resolve(spec)
        cls.check_params(spec)
        net, record = train_network(cls, spec, train, valid, seed, context)
        return cls(spec, net, record)

    def tokens(self) -> Tokens:
        """How this model's sequences become network inputs."""
        return FamilyTokens(type(self), self.spec)

    def logits(self, sequences: list[str]) -> np.ndarray:
        from seqclass.training.scoring import score

        if not sequences:
            return np.zeros((0, len(self.spec.labels)), dtype=np.float32)
        p = self.spec.params
        return score(self.net, sequences, self.tokens(), 2 * p.batch_size, p.device,
                     p.precision)  # (N, C)

    def stream_logits(self, parts: Iterable[str]) -> np.ndarray:
        from seqclass.training.scoring import score_stream

        p = self.spec.params
        return score_stream(self.net, parts, self.tokens(), 2 * p.batch_size, p.device,
                            p.precision)  # (C,)

    def use_threads(self, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)  # PyTorch's intra-op threads on the CPU, process-wide

    def tensors(self) -> dict[str, np.ndarray]:
        return {k: (v.detach().cpu().float() if v.is_floating_point() else v.detach().cpu()).numpy()
                for k, v in self.net.state_dict().items()}

    @classmethod
    def from_tensors(cls, spec: ModelSpec, tensors: dict[str, np.ndarray]) -> DeepClassifier:
        import torch

        net = cls.build(spec)
        try:
            net.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v))
                                 for k, v in tensors.items()}, strict=True)
        except RuntimeError as err:
            raise ValueError(f"weights do not fit a {spec.family} network of these parameters "
                             f"({str(err).splitlines()[0]})") from None
        return cls(spec, net)


class FamilyTokens:
    """A deep family's own tokens (sequence.encoding) in the form scoring.score takes."""

    def __init__(self, family: type[DeepClassifier], spec: ModelSpec):
        self.family, self.spec = family, spec
        self.max_tokens = family.max_tokens(spec)

    def encode(self, sequences: list[str]) -> list[np.ndarray]:
        return self.family.encode(self.spec, sequences)

    def collate(self, arrays: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        return self.family.collate(self.spec, arrays)

    def blocks(self, parts: Iterable[str]) -> Iterator[np.ndarray]:
        """A sequence's tokens a block at a time. Blocks start on the token stride and reach
        k - 1 residues into the next, so each block's tokens are those that start in it."""
        k, step = self.family.token_k(self.spec), self.family.token_stride(self.spec)
        for piece in windows.rejoin(parts, windows.aligned_block(step), k - 1):
            yield self.encode([piece])[0]
