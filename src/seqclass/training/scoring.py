"""Scoring token arrays with a trained network: eval mode, no gradients, longest-first batches,
arrays longer than the network's window scored as the mean over windows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

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


def score(net: torch.nn.Module, arrays: list[np.ndarray], max_tokens: int, batch_size: int,
          device_name: str, precision: str,
          collate: Callable[[list[np.ndarray]], tuple[np.ndarray, ...]] = batching.pad) -> np.ndarray:
    """infer() on the device and precision a trained model's parameters ask for.  # (N, C)"""
    device = inference_device(device_name)
    net.to(device)
    return infer(net, arrays, max_tokens, batch_size, device,
                 autocast_dtype(precision, device, strict=False), collate)
