"""Train/valid/test assignment that keeps every group (cluster, chromosome, sample) on one side.

`assign` is stratified: groups are placed largest first, each into the split whose
per-class quota is furthest from full, so class proportions follow the requested
fractions as closely as whole groups allow. A random split is the same with one group
per sequence.
"""

from __future__ import annotations

import numpy as np

from seqclass.data.labels import split_label

SPLITS = ("train", "valid", "test")


def parse_fractions(text: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise ValueError(f"--fractions {text!r}: expected three numbers, e.g. 0.8,0.1,0.1") from None
    if len(parts) != 3 or min(parts) < 0 or parts[0] <= 0 or abs(sum(parts) - 1) > 1e-6:
        raise ValueError(f"--fractions {text!r}: need train,valid,test >= 0 summing to 1, train > 0")
    return parts  # type: ignore[return-value]


def assign(groups: np.ndarray, labels: list[str], fractions: tuple[float, float, float],
           seed: int) -> np.ndarray:
    """Split name per sequence; all members of a group share it.  # (N,) str"""
    classes = sorted({c for lab in labels for c in split_label(lab)})
    cidx = {c: i for i, c in enumerate(classes)}
    uniq, inverse = np.unique(groups, return_inverse=True)
    counts = np.zeros((len(uniq), len(classes)))  # (G, C)
    for g, lab in zip(inverse, labels):
        for c in split_label(lab):
            counts[g, cidx[c]] += 1
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(uniq))
    order = order[np.argsort(-counts[order].sum(axis=1), kind="stable")]

    closed = np.asarray(fractions) == 0
    frac = np.asarray(fractions)[:, None]  # (3, 1)
    target = frac * counts.sum(axis=0)[None, :]  # (3, C)
    filled = np.zeros_like(target)
    placed = np.empty(len(uniq), dtype=np.int64)
    for g in order:
        weight = counts[g] / counts[g].sum()
        # relative unmet quota per split for this group's classes; splits with no quota are closed
        need = ((target - filled) / np.maximum(target, 1e-9) * weight[None, :]).sum(axis=1)
        need[closed] = -np.inf
        best = np.flatnonzero(need == need.max())
        # a tie that includes train goes to train: the first (largest) group of a class ties
        # in every split, and a class whose bulk lands in valid or test cannot be learnt
        s = best[0] if len(best) == 1 or best[0] == 0 else rng.choice(best)
        placed[g] = s
        filled[s] += counts[g]
    return np.asarray(SPLITS)[placed[inverse]]
