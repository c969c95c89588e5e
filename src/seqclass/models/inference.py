"""Prediction over sequences of any length: cut into the model's windows, aggregate logits.

A sequence longer than the model's window is cut as `chunk` cuts it (sliding windows,
the last ending at the sequence end); the window logits are averaged (or max-pooled)
into one row per sequence before probabilities are taken. Windows of many sequences
share one batch so short reads are scored as fast as long contigs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from seqclass.models.base import Classifier
from seqclass.sequence.windows import count, sliding

AGGREGATES = ("mean", "max")


@dataclass
class Scored:
    ids: list[str]
    logits: np.ndarray  # (B, C) aggregated per sequence
    windows: list[tuple[str, int, int, np.ndarray]]  # (parent id, start, end, window logits (C,))


def score(model: Classifier, records: Iterable[tuple[str, str]], aggregate: str = "mean",
          window: int | None = None, stride: int | None = None,
          batch_windows: int = 2048) -> Iterator[Scored]:
    """Yield scored batches of (id, sequence) records, in input order."""
    window = window or model.spec.window
    stride = stride or model.spec.stride or window  # an int wherever window is
    pending: list[tuple[str, str]] = []
    n_windows = 0
    for rid, seq in records:
        pending.append((rid, seq))
        n_windows += 1 if window is None or stride is None else count(len(seq), window, stride)
        if n_windows >= batch_windows:
            yield _score_batch(model, pending, aggregate, window, stride)
            pending, n_windows = [], 0
    if pending:
        yield _score_batch(model, pending, aggregate, window, stride)


def aggregate_windows(logits: np.ndarray, owner: np.ndarray, how: str) -> np.ndarray:
    """Window logits (W, C) → one row per sequence (N, C): the mean or max of its windows'.

    `owner` (W,) gives each window's sequence, 0..N-1, every one with a window. Windows are
    brought together by a stable sort (a no-op where they already are), then reduced.
    """
    order = np.argsort(owner, kind="stable")
    counts = np.bincount(owner)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    grouped = logits[order]
    if how == "mean":
        return np.add.reduceat(grouped, starts, axis=0) / counts[:, None]
    return np.maximum.reduceat(grouped, starts, axis=0)


def parent_logits(model: Classifier, sequences: list[str], parents: list[str],
                  how: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The chunks of a chunk table scored and aggregated per parent sequence, as score()
    aggregates the windows of one: (parent ids in first-seen order, each parent's first
    chunk row (P,), logits (P, C))."""
    if not sequences:
        return [], np.zeros(0, dtype=np.int64), np.zeros((0, len(model.spec.labels)), np.float32)
    owner, ids = pd.factorize(pd.Series(parents))
    first = np.unique(owner, return_index=True)[1]
    return list(ids), first, aggregate_windows(model.logits(sequences), owner, how)


def _score_batch(model: Classifier, records: list[tuple[str, str]], aggregate: str,
                 window: int | None, stride: int | None) -> Scored:
    pieces: list[str] = []
    owner: list[int] = []
    coords: list[tuple[str, int, int]] = []
    for i, (rid, seq) in enumerate(records):
        spans = [(0, len(seq))] if window is None or stride is None else sliding(len(seq), window, stride)
        for start, end in spans:
            pieces.append(seq[start:end])
            owner.append(i)
            coords.append((rid, start, end))
    logits = model.logits(pieces)  # (W, C)
    out = aggregate_windows(logits, np.array(owner), aggregate)  # (B, C)
    windows = [(rid, s, e, logits[j]) for j, (rid, s, e) in enumerate(coords)]
    return Scored([rid for rid, _ in records], out, windows)
