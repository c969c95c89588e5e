"""Window coordinates along a sequence (0-based, half-open, BED style)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

import numpy as np

# residues a long sequence is encoded in at a time (k-mer counts, tokens): about 8 MB per
# int64 array, so a chromosome costs a few blocks of working memory beyond its own string
BLOCK = 1 << 20

Chunk = TypeVar("Chunk", str, np.ndarray)


def aligned_block(step: int) -> int:
    """Residues per block, a multiple of `step` (a k-mer or token stride, a tokenizer's k-mer
    size), so that every block starts on it. Read at call time: tests make blocks small."""
    return step * max(1, BLOCK // step)


class TooLong(ValueError):
    """A sequence longer than a block, for a model that has no window to cut it into."""


def rejoin(parts: Iterable[str], size: int, overlap: int) -> Iterator[str]:
    """A sequence that arrives in parts of any length, re-cut into pieces that start every
    `size` residues and reach `overlap` residues into the next (the last clipped at the end),
    so that the k-mers (k = overlap + 1) starting in each piece, at any stride that divides
    `size`, are the whole sequence's, each once. A sequence no longer than `overlap` is one piece.
    """
    held, at, emitted = "", 0, False  # the sequence from held[at:] on is not yet in a piece
    for part in parts:
        held, at = held[at:] + part, 0
        while len(held) - at >= size + overlap:
            yield held[at:at + size + overlap]
            at, emitted = at + size, True
    if not emitted or len(held) - at > overlap:
        yield held[at:]


def sliding(length: int, window: int, stride: int) -> list[tuple[int, int]]:
    """Windows of `window` every `stride`; the last ends at the sequence end, so no ragged tail.

    A sequence no longer than the window is one window of its own length.
    """
    return list(iter_sliding(length, window, stride))


def iter_sliding(length: int, window: int, stride: int) -> Iterator[tuple[int, int]]:
    """The windows of `sliding`, one at a time: a chromosome's millions of windows are never
    held together."""
    if length <= window:
        yield 0, length
        return
    last = 0
    for last in range(0, length - window + 1, stride):
        yield last, last + window
    if last + window < length:
        yield length - window, length


def stream_sliding(parts: Iterable[Chunk], window: int, stride: int) -> Iterator[tuple[int, Chunk]]:
    """(start, window) for the windows `sliding` cuts from the concatenation of `parts` (token
    arrays or residue strings), cut while the parts arrive: only the last window and one part
    are ever held, not the whole sequence."""
    held: Chunk | None = None  # the stream from `offset` on
    offset, start, emitted = 0, 0, False
    for part in parts:
        held = part if held is None else _concat(held, part)
        while start + window <= offset + len(held):
            yield start, held[start - offset:start - offset + window]
            emitted, start = True, start + stride
        # keep the next window's start, and the last `window` positions for the closing window
        keep = max(offset, min(start, offset + len(held) - window))
        held, offset = held[keep - offset:], keep
    if held is None:
        return
    total = offset + len(held)
    if not emitted:  # no longer than one window: the whole of it
        yield 0, held
    elif start - stride + window < total:  # the last window ends at the end
        yield total - window, held[len(held) - window:]


def _concat(held: Chunk, part: Chunk) -> Chunk:
    if isinstance(held, str):
        return held + part
    return np.concatenate([held, part])


def random_stretches(length: int, window: int, k: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """`k` windows at uniformly random starts; one whole-sequence window if it is too short."""
    if length <= window:
        return [(0, length)]
    starts = rng.integers(0, length - window + 1, size=k)
    return [(int(s), int(s) + window) for s in starts]
