"""Window coordinates along a sequence (0-based, half-open, BED style)."""

from __future__ import annotations

import numpy as np


def sliding(length: int, window: int, stride: int) -> list[tuple[int, int]]:
    """Windows of `window` every `stride`; the last ends at the sequence end, so no ragged tail.

    A sequence no longer than the window is one window of its own length.
    """
    if length <= window:
        return [(0, length)]
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] + window < length:
        starts.append(length - window)
    return [(s, s + window) for s in starts]


def count(length: int, window: int, stride: int) -> int:
    """How many windows `sliding` gives, without building them."""
    return 1 if length <= window else -(-(length - window) // stride) + 1


def random_stretches(length: int, window: int, k: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """`k` windows at uniformly random starts; one whole-sequence window if it is too short."""
    if length <= window:
        return [(0, length)]
    starts = rng.integers(0, length - window + 1, size=k)
    return [(int(s), int(s) + window) for s in starts]
