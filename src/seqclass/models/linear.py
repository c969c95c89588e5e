"""Class-weighted logistic regression heads shared by the linear families.

Returns weights in the registry's logit convention: one row per class  # (C, F), (C,)
`balanced` class weights give every class the same total weight, which suits macro
metrics; `none` keeps the training prior, which suits scanning genomes where most
windows belong to the large negative class.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.utils.class_weight import compute_sample_weight

from seqclass.spec import ModelSpec, TrainData


def fit_logreg(x, train: TrainData, spec: ModelSpec, seed: int,
               balanced_rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`balanced_rows` (N,) bool, with balanced class weights: only these rows are re-weighted
    (each group keeps its total weight); the others keep weight 1, i.e. the training prior."""
    p = spec.params
    balanced = p.class_weight == "balanced"
    partial = balanced and balanced_rows is not None

    def logreg() -> LogisticRegression:
        weights = "balanced" if balanced and not partial else None
        return LogisticRegression(C=p.c, class_weight=weights, max_iter=p.max_iter,
                                  random_state=seed)

    def row_weights(y: np.ndarray) -> np.ndarray | None:
        if balanced_rows is None or not partial:
            return None
        w = np.ones(len(y))
        if balanced_rows.any():
            w[balanced_rows] = compute_sample_weight("balanced", y[balanced_rows])
        return w

    if spec.task == "multilabel":
        fits = [logreg().fit(x, train.targets[:, j], sample_weight=row_weights(train.targets[:, j]))
                for j in range(train.targets.shape[1])]
        coef = np.stack([f.coef_[0] for f in fits])
        intercept = np.array([f.intercept_[0] for f in fits])
    else:
        clf = logreg().fit(x, train.targets, sample_weight=row_weights(train.targets))
        coef, intercept = clf.coef_, clf.intercept_
        if len(spec.labels) == 2:
            # sklearn keeps one row for two classes; ±w/2 gives the same softmax as (0, w)
            coef = np.stack([-coef[0] / 2, coef[0] / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return coef.astype(np.float32), intercept.astype(np.float32)
