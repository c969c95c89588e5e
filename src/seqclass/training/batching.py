"""Length-bucketed batches with dynamic padding, planned per epoch from the seed alone.

An epoch's order is a permutation of the training rows (or, with `--sampler weighted`,
N draws with replacement, each row weighted by the inverse frequency of its class). The
order is cut into pools of POOL_BATCHES batches; each pool is sorted by length and cut
into batches, and the batches are shuffled. The sequences of one batch then have similar
lengths, so padding each batch to its own longest sequence wastes little. Pools hold a
whole number of batches, so only one batch of an epoch can be short and an epoch always
has ceil(N / batch_size) batches. The plan depends only on (seed, epoch): a resumed run
rebuilds it and skips the batches it has done.
"""

from __future__ import annotations

import numpy as np

from seqclass.sequence.encoding import PAD
from seqclass.sequence.windows import sliding

POOL_BATCHES = 50


def epoch_rng(seed: int, epoch: int, *more: int) -> np.random.Generator:
    return np.random.default_rng([seed, epoch, *more])


def inverse_frequency(targets: np.ndarray, task: str) -> np.ndarray:
    """Sampling probability of each row, so every class is drawn about equally often.  # (N,)

    Multi-label rows take the mean inverse frequency of their labels; rows without any
    label count as one more class.
    """
    if task == "multilabel":
        counts = targets.sum(axis=0).astype(np.float64)  # (C,)
        inv = np.divide(1.0, counts, out=np.zeros_like(counts), where=counts > 0)
        n_pos = targets.sum(axis=1)
        empty = max(int((n_pos == 0).sum()), 1)
        w = np.where(n_pos > 0, (targets * inv[None, :]).sum(axis=1) / np.maximum(n_pos, 1),
                     1.0 / empty)
    else:
        counts = np.bincount(targets).astype(np.float64)
        w = 1.0 / counts[targets]
    return w / w.sum()


def plan_epoch(n: int, lengths: np.ndarray, batch_size: int, rng: np.random.Generator,
               weights: np.ndarray | None = None) -> list[np.ndarray]:
    """Row indices of each batch of one epoch, in training order."""
    order = rng.choice(n, size=n, replace=True, p=weights) if weights is not None \
        else rng.permutation(n)
    pool = batch_size * POOL_BATCHES
    batches: list[np.ndarray] = []
    for start in range(0, n, pool):
        chunk = order[start:start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def crop(seq: str, max_len: int, rng: np.random.Generator | None = None) -> str:
    """A random stretch of max_len residues of a longer sequence (centred without an rng)."""
    if max_len <= 0 or len(seq) <= max_len:
        return seq
    extra = len(seq) - max_len
    start = int(rng.integers(0, extra + 1)) if rng is not None else extra // 2
    return seq[start:start + max_len]


def pad(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Pad token arrays to the longest of them.

    Returns tokens  # (B, L) int64, PAD after each sequence
    and lengths     # (B,) int64
    """
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    out = np.full((len(arrays), int(lengths.max())), PAD, dtype=np.int64)
    for i, a in enumerate(arrays):
        out[i, :len(a)] = a
    return out, lengths


def window_stride(max_tokens: int) -> int:
    """Tokens between the starts of a long array's scoring windows: half a window."""
    return max(1, max_tokens // 2)


def inference_pieces(arrays: list[np.ndarray], max_tokens: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Cut arrays longer than max_tokens into half-overlapping windows (the last ending at the end).

    Returns the pieces and the index of the array each came from  # (P,)
    """
    if max_tokens <= 0:
        return list(arrays), np.arange(len(arrays))
    pieces: list[np.ndarray] = []
    owner: list[int] = []
    for i, a in enumerate(arrays):
        for start, end in sliding(len(a), max_tokens, window_stride(max_tokens)):
            pieces.append(a[start:end])
            owner.append(i)
    return pieces, np.array(owner, dtype=np.int64)


def length_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Indices sorted by length and cut into batches, for scoring with little padding."""
    order = np.argsort(lengths, kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
