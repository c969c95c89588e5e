"""Abstaining: leaving low-confidence sequences uncalled, and what that costs and buys.

`call` turns probabilities into labels with an optional minimum probability `min_prob`:

- multiclass: the most probable class when its probability is at least `min_prob`, else
  `UNCERTAIN` — or `negative`, the model's "none of the classes of interest" class, when
  given (DeepARG calls a gene an ARG only at probability 0.8 or more);
- multilabel: `min_prob` is the per-label calling threshold (it replaces `threshold`); a
  sequence with no label at or above it is uncalled: empty, or `negative` when given.

Without `min_prob` nothing abstains and the calls are the plain ones.

`table` sweeps `min_prob` over `GRID` on labelled data: the share of sequences called
(coverage), accuracy and macro F1 on the called ones, and with a negative class the
false-positive rate (negatives called as any other class) and the recall of the other
classes, abstentions counting as calls of the negative class.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

UNCERTAIN = "uncertain"
# multilabel: the probability at or above which a label is called (--threshold's default)
LABEL_THRESHOLD = 0.5
GRID = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
COLUMNS = ["min_prob", "n", "n_called", "coverage", "accuracy", "f1_macro",
           "false_positive_rate", "recall"]


def called_sets(probs: np.ndarray, task: str, min_prob: float | None,
                threshold: float = LABEL_THRESHOLD) -> np.ndarray:
    """0/1 matrix of called classes per row; an all-zero row abstains.  # (N, C) bool"""
    if task == "multilabel":
        return probs >= (threshold if min_prob is None else min_prob)
    out = np.zeros(probs.shape, dtype=bool)
    if len(probs):
        best = probs.argmax(axis=1)
        keep = np.ones(len(probs), dtype=bool) if min_prob is None else \
            probs[np.arange(len(probs)), best] >= min_prob
        out[np.arange(len(probs))[keep], best[keep]] = True
    return out


def call(probs: np.ndarray, labels: list[str], task: str, threshold: float = LABEL_THRESHOLD,
         min_prob: float | None = None, negative: str | None = None) -> list[str]:
    """Called label per row (`;`-joined for multilabel), abstentions as described above."""
    sets = called_sets(probs, task, min_prob, threshold)
    out = [";".join(lab for lab, on in zip(labels, row) if on) for row in sets]
    if min_prob is None:
        return out
    missing = negative if negative is not None else ("" if task == "multilabel" else UNCERTAIN)
    return [c if c else missing for c in out]


def table(truth: np.ndarray, probs: np.ndarray, labels: list[str], task: str,
          negative: str | None = None, grid=GRID) -> pd.DataFrame:
    """One row per `min_prob` of `grid`; `truth` is (N,) class indices or an (N, C) 0/1 matrix.

    Undefined values (nothing called; no negative class) are NaN.
    """
    from sklearn import metrics as skm  # imported here: `call` serves every step, cheaply

    n = len(probs)
    labels = list(labels)
    y = np.zeros(probs.shape, dtype=bool)
    if task == "multilabel":
        y = np.asarray(truth, dtype=bool)
    elif n:
        y[np.arange(n), np.asarray(truth)] = True
    neg = labels.index(negative) if negative is not None else None
    rows = []
    for p in grid:
        sets = called_sets(probs, task, p)
        called = sets.any(axis=1)
        row = {"min_prob": float(p), "n": n, "n_called": int(called.sum()),
               "coverage": float(called.mean()) if n else np.nan,
               "accuracy": np.nan, "f1_macro": np.nan,
               "false_positive_rate": np.nan, "recall": np.nan}
        if called.any():
            yc, sc = y[called], sets[called]
            row["accuracy"] = float((yc == sc).all(axis=1).mean())
            if task == "multilabel":
                row["f1_macro"] = float(skm.f1_score(yc, sc, average="macro", zero_division=0))
            else:
                row["f1_macro"] = float(skm.f1_score(yc.argmax(axis=1), sc.argmax(axis=1),
                                                     average="macro", zero_division=0))
        if neg is not None:
            final = sets.copy()
            final[~called, neg] = True  # an abstention is a call of the negative class
            others = np.ones(len(labels), dtype=bool)
            others[neg] = False
            is_neg = y[:, neg] & ~y[:, others].any(axis=1)
            if is_neg.any():
                row["false_positive_rate"] = float(final[is_neg][:, others].any(axis=1).mean())
            positives = y[:, others]
            if positives.any():
                row["recall"] = float((positives & final[:, others]).sum() / positives.sum())
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)
