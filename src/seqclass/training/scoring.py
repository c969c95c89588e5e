"""Scoring sequences with a trained network: eval mode, no gradients, longest-first batches,
sequences longer than the network's window scored as the mean over half-overlapping windows.

A sequence longer than a block (sequence.windows.BLOCK residues) is tokenised a block at a
time and its windows are scored as they are cut, so a chromosome never has a whole token
array (8 bytes a residue) in memory. With the families' own tokens (and one-residue or
overlapping k-mer tokenizers) its windows and their mean are those of the whole array; a
tokenizer that merges residues may cut a block's edge differently (see models.families.hf).
A network without a window (--max-len 0) scores an in-memory sequence whole, as before, and
refuses one that streams.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Protocol

import numpy as np
import torch

from seqclass.sequence import windows
from seqclass.sequence.windows import TooLong, stream_sliding
from seqclass.training import batching
from seqclass.training.devices import autocast, autocast_dtype, inference_device


def to_device(batch: tuple[np.ndarray, ...], device: torch.device) -> list[torch.Tensor]:
    """A batch's numpy arrays as tensors on `device`."""
    return [torch.from_numpy(x).to(device, non_blocking=True) for x in batch]


@torch.no_grad()
def infer(net: torch.nn.Module, arrays: list[np.ndarray], max_tokens: int, batch_size: int,
          device: torch.device, amp: torch.dtype | None,
          collate: Callable[[list[np.ndarray]], tuple[np.ndarray, ...]] = batching.pad) -> np.ndarray:
    """Logits of token arrays in eval mode, longest-first batches; long arrays averaged over windows.

    `collate` makes a batch's network inputs (by default padded tokens and lengths).

    Returns  # (N, C) float32
    """
    net.eval()
    pieces, owner = batching.inference_pieces(arrays, max_tokens)
    lengths = np.array([len(a) for a in pieces], dtype=np.int64)
    out = np.zeros((0, 0), dtype=np.float64)  # sized at the first batch, when C is known
    for idx in batching.length_batches(lengths, batch_size):
        inputs = to_device(collate([pieces[i] for i in idx]), device)
        with autocast(device, amp):
            logits = net(*inputs)
        logits = logits.float().cpu().numpy()  # (b, C)
        if not out.size:
            out = np.zeros((len(pieces), logits.shape[1]), dtype=np.float64)
        out[idx] = logits
    if len(pieces) != len(arrays):  # mean over the windows of each array
        sums = np.zeros((len(arrays), out.shape[1]), dtype=np.float64)
        np.add.at(sums, owner, out)
        out = sums / np.bincount(owner, minlength=len(arrays))[:, None]
    return out.astype(np.float32)


class Tokens(Protocol):
    """How a family turns sequences into its network's inputs."""

    max_tokens: int  # tokens per window; 0: a sequence is scored whole, however long

    def encode(self, sequences: list[str]) -> list[np.ndarray]:
        """Token arrays, one per sequence."""

    def collate(self, arrays: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        """The network's positional inputs for a batch of token arrays."""

    def blocks(self, parts: Iterable[str]) -> Iterator[np.ndarray]:
        """A sequence (in parts of any length) tokenised a block at a time; concatenated, the
        blocks are encode()'s tokens of the whole."""


def score(net: torch.nn.Module, sequences: list[str], tokens: Tokens, batch_size: int,
          device_name: str, precision: str) -> np.ndarray:
    """Logits of sequences on the device and precision a trained model's parameters ask for.

    Returns  # (N, C) float32"""
    device, amp = _placed(net, device_name, precision)
    in_blocks = [tokens.max_tokens > 0 and len(s) > windows.BLOCK for s in sequences]
    long = [i for i, b in enumerate(in_blocks) if b]
    short = [i for i, b in enumerate(in_blocks) if not b]
    parts = [infer(net, tokens.encode([sequences[i] for i in short]), tokens.max_tokens,
                   batch_size, device, amp, tokens.collate)] if short else []
    parts += [_window_mean(net, [sequences[i]], tokens, batch_size, device, amp)[None] for i in long]
    out = np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)
    order = np.argsort(np.array(short + long, dtype=np.int64), kind="stable")
    return out[order]


def score_stream(net: torch.nn.Module, parts: Iterable[str], tokens: Tokens, batch_size: int,
                 device_name: str, precision: str) -> np.ndarray:
    """score() of one sequence that arrives in parts (a chromosome read as it is scored).  # (C,)"""
    device, amp = _placed(net, device_name, precision)
    return _window_mean(net, parts, tokens, batch_size, device, amp)


def _placed(net: torch.nn.Module, device_name: str,
            precision: str) -> tuple[torch.device, torch.dtype | None]:
    """The network moved to its device, and the autocast dtype there."""
    device = inference_device(device_name)
    net.to(device)
    return device, autocast_dtype(precision, device, strict=False)


def _window_mean(net: torch.nn.Module, parts: Iterable[str], tokens: Tokens, batch_size: int,
                 device: torch.device, amp: torch.dtype | None) -> np.ndarray:
    """The mean logits of a long sequence's windows, tokenised and scored block by block.  # (C,)"""
    if tokens.max_tokens <= 0:
        raise TooLong(f"longer than {windows.BLOCK} residues, for a model that scores sequences whole "
                      "(trained with --max-len 0): predict with --window")
    cut = stream_sliding(tokens.blocks(parts), tokens.max_tokens,
                         batching.window_stride(tokens.max_tokens))
    return infer_stream(net, (window for _, window in cut), batch_size, device, amp, tokens.collate)


@torch.no_grad()
def infer_stream(net: torch.nn.Module, windows: Iterable[np.ndarray], batch_size: int,
                 device: torch.device, amp: torch.dtype | None,
                 collate: Callable[[list[np.ndarray]], tuple[np.ndarray, ...]]) -> np.ndarray:
    """The mean logits of one sequence's windows, scored a batch at a time as they come; the
    sum runs in window order in float64, as infer()'s does.  # (C,) float32"""
    net.eval()
    windows = iter(windows)
    total, n = None, 0
    while batch := list(islice(windows, batch_size)):
        inputs = to_device(collate(batch), device)
        with autocast(device, amp):
            logits = net(*inputs).float().cpu().numpy().astype(np.float64)  # (b, C)
        for row in logits:  # one at a time: the order of infer()'s np.add.at
            total = row if total is None else total + row
        n += len(batch)
    assert total is not None, "a sequence has at least one window"
    return (total / n).astype(np.float32)
