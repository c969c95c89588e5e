"""Prediction over sequences of any length: cut into the model's windows, aggregate logits.

A sequence longer than the model's window is cut as `chunk` cuts it (sliding windows,
the last ending at the sequence end); the window logits are averaged (or max-pooled)
into one row per sequence before probabilities are taken. Windows of many sequences
share one batch so short reads are scored as fast as long contigs, and a chromosome's
windows are cut as they are scored, a batch at a time, so memory is bounded by a batch and
not by the sequence: the one sequence cut by a batch boundary carries its partial sum (or
maximum) into the next batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from seqclass.errors import InputError
from seqclass.io.sequences import LongSequence
from seqclass.models.base import Classifier
from seqclass.sequence.windows import TooLong, iter_sliding, stream_sliding

AGGREGATES = ("mean", "max")


@dataclass
class Scored:
    """A batch's results: the sequences whose last window it scored, and every window it scored."""

    ids: list[str]
    logits: np.ndarray  # (B, C) aggregated per sequence
    window_ids: list[str]  # (W,) the sequence each window belongs to
    starts: np.ndarray  # (W,) int64, 0-based
    ends: np.ndarray  # (W,) int64, half-open
    window_logits: np.ndarray  # (W, C)


def score(model: Classifier, records: Iterable[tuple[str, str | LongSequence]],
          aggregate: str = "mean", window: int | None = None, stride: int | None = None,
          batch_windows: int | None = None) -> Iterator[Scored]:
    """Yield scored batches of (id, sequence) records, in input order. A model without a
    window scores each sequence whole; a LongSequence (a chromosome read as it is consumed)
    is then scored alone, by the family's stream_logits."""
    window = window or model.spec.window
    stride = stride or model.spec.stride or window  # an int wherever window is
    batch_windows = batch_windows or model.batch_windows
    batch = _Batch(model, aggregate)
    for rid, seq in records:
        if isinstance(seq, LongSequence) and (window is None or stride is None):
            if batch.pieces or batch.closed:  # the records before it come first
                yield batch.score()
            yield _whole(model, rid, seq)
            continue
        for start, piece in _windows(seq, window, stride):
            batch.add(rid, piece, start, start + len(piece))
            if len(batch.pieces) >= batch_windows:
                yield batch.score()
        batch.close_record()
    if batch.pieces or batch.closed:
        yield batch.score()


def _windows(seq: str | LongSequence, window: int | None,
             stride: int | None) -> Iterator[tuple[int, str]]:
    """(start, piece) of each window to score: the whole sequence without a window."""
    if window is None or stride is None:
        assert isinstance(seq, str)
        yield 0, seq
    elif isinstance(seq, LongSequence):
        yield from stream_sliding(seq, window, stride)
    else:
        yield from ((start, seq[start:end]) for start, end in iter_sliding(len(seq), window, stride))


def _whole(model: Classifier, rid: str, seq: LongSequence) -> Scored:
    """A long sequence scored whole, in blocks, as one sequence and one window."""
    try:
        logits = model.stream_logits(seq)[None]  # (1, C)
    except TooLong as err:
        raise InputError(f"record {rid!r}: {err}") from None
    return Scored([rid], logits, [rid], np.zeros(1, dtype=np.int64),
                  np.array([seq.length], dtype=np.int64), logits)


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


class _Batch:
    """Windows waiting to be scored, and the aggregation of sequences across batches."""

    def __init__(self, model: Classifier, how: str):
        self.model, self.how = model, how
        self.pieces: list[str] = []
        self.owner: list[int] = []  # each piece's sequence, an index into self.ids
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.ids: list[str] = []  # sequences with a window in this batch, the first maybe carried in
        self.closed = 0  # how many of self.ids have had their last window
        self.carry: tuple[np.ndarray, int] | None = None  # the first's running (sum or max, windows)

    def add(self, rid: str, piece: str, start: int, end: int) -> None:
        if not self.ids or self.closed == len(self.ids):
            self.ids.append(rid)
        self.pieces.append(piece)
        self.owner.append(len(self.ids) - 1)
        self.starts.append(start)
        self.ends.append(end)

    def close_record(self) -> None:
        self.closed = len(self.ids)

    def score(self) -> Scored:
        logits = self._logits()  # (W, C)
        owner = np.array(self.owner, dtype=np.int64)
        if self.carry is None and self.closed == len(self.ids):
            # every sequence whole in this batch: as aggregate_windows always has (the same
            # float32 sums), so such results are the same as before streaming, bit for bit
            rows = aggregate_windows(logits, owner, self.how)
        else:
            rows = self._carried(logits, owner)
        windows = ([self.ids[i] for i in self.owner], np.array(self.starts, dtype=np.int64),
                   np.array(self.ends, dtype=np.int64), logits)
        done = self.ids[:self.closed]
        open_id = self.ids[self.closed:]  # the sequence cut by this batch's end, if any
        self.pieces, self.owner, self.starts, self.ends = [], [], [], []
        self.ids, self.closed = open_id, 0
        return Scored(done, rows[:len(done)], *windows)

    def _logits(self) -> np.ndarray:
        if not self.pieces:
            return np.zeros((0, len(self.model.spec.labels)), dtype=np.float32)
        try:
            return self.model.logits(self.pieces)
        except TooLong as err:
            longest = self.ids[self.owner[int(np.argmax([len(p) for p in self.pieces]))]]
            raise InputError(f"record {longest!r}: {err}") from None

    def _carried(self, logits: np.ndarray, owner: np.ndarray) -> np.ndarray:
        """Rows of the sequences this batch closes, where one spans batches: the first adds its
        carried sum (or maximum), the last one left open becomes the next carry. Sums run in
        float64 across batches.  # (closed, C) float64, as aggregate_windows' means"""
        totals, counts = _reduce(logits, owner, len(self.ids), self.how)  # float64
        if self.carry is not None:
            carried, n = self.carry
            totals[0] = carried + totals[0] if self.how == "mean" else np.maximum(carried, totals[0])
            counts[0] += n
        self.carry = (totals[-1], int(counts[-1])) if self.closed < len(self.ids) else None
        totals, counts = totals[:self.closed], counts[:self.closed]
        return totals / counts[:, None] if self.how == "mean" else totals


def _reduce(logits: np.ndarray, owner: np.ndarray, n: int, how: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-sequence sums (or maxima) of window logits in float64, and window counts.  # (n, C), (n,)"""
    counts = np.bincount(owner, minlength=n)
    if how == "mean":
        totals = np.zeros((n, logits.shape[1]), dtype=np.float64)
        np.add.at(totals, owner, logits)
    else:
        totals = np.full((n, logits.shape[1]), -np.inf, dtype=np.float64)
        np.maximum.at(totals, owner, logits)
    return totals, counts
