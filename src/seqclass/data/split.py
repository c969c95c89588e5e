"""Train/valid/test assignment that keeps every group (cluster, chromosome, sample) on one side.

`assign` is stratified: groups are placed largest first, each into the split whose
per-class quota is furthest from full, so class proportions follow the requested
fractions as closely as whole groups allow. A random split is the same with one group
per sequence.

A class found in fewer groups than there are splits cannot reach train, valid and test;
`small_classes` drops such classes, or merges them into one, before `assign` places the rest.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from seqclass.data.labels import join_labels, split_label

SPLITS = ("train", "valid", "test")


def parse_fractions(text: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise ValueError(f"--fractions {text!r}: expected three numbers, e.g. 0.8,0.1,0.1") from None
    if len(parts) != 3 or min(parts) < 0 or parts[0] <= 0 or abs(sum(parts) - 1) > 1e-6:
        raise ValueError(f"--fractions {text!r}: need train,valid,test >= 0 summing to 1, train > 0")
    return parts


def assign(groups: np.ndarray, labels: list[str], fractions: tuple[float, float, float],
           seed: int) -> np.ndarray:
    """Split name per sequence; all members of a group share it.  # (N,) str"""
    # a multi-label row with no label (a sample susceptible to every drug) is a stratum of its own
    strata = [split_label(lab) or [""] for lab in labels]
    classes = sorted({c for parts in strata for c in parts})
    cidx = {c: i for i, c in enumerate(classes)}
    uniq, inverse = np.unique(groups, return_inverse=True)
    counts = np.zeros((len(uniq), len(classes)))  # (G, C)
    for g, parts in zip(inverse, strata):
        for c in parts:
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


def class_groups(groups: np.ndarray, labels: list[str]) -> dict[str, dict[str, int]]:
    """Class → {"rows": rows carrying it, "groups": distinct groups among those rows}, by class."""
    rows: Counter[str] = Counter()
    members: dict[str, set] = defaultdict(set)
    for g, lab in zip(np.asarray(groups).tolist(), labels):
        for c in split_label(lab):
            rows[c] += 1
            members[c].add(g)
    return {c: {"rows": rows[c], "groups": len(members[c])} for c in sorted(rows)}


def small_classes(groups: np.ndarray, labels: list[str], min_groups: int,
                  into: str | None = None) -> tuple[np.ndarray, list[str], dict[str, dict[str, int]]]:
    """Drop, or with `into` rename to `into`, every class found in fewer than `min_groups` groups.

    Returns which rows to keep, every row's new label, and the small classes with their counts
    (`class_groups`). A multi-label row loses (or renames) only its small labels and is dropped
    when none is left; `into` itself is never small, it is where the others go.
    # (N,) bool, list of N str, dict
    """
    counts = class_groups(groups, labels)
    small = {c: n for c, n in counts.items() if n["groups"] < min_groups and c != into}
    keep = np.ones(len(labels), dtype=bool)
    if not small:
        return keep, list(labels), small
    new = []
    for i, lab in enumerate(labels):
        parts = split_label(lab)
        if not any(c in small for c in parts):
            new.append(lab)
            continue
        parts = [into if c in small else c for c in parts] if into else \
            [c for c in parts if c not in small]
        keep[i] = bool(parts)
        new.append(join_labels(parts))
    return keep, new, small
