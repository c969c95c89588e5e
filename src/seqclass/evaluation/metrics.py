"""Classification metrics for multiclass (softmax) and multilabel (sigmoid) predictions.

Input: true labels as class indices (N,) or a 0/1 matrix (N, C), and probabilities
(N, C). Output: a JSON-ready dict; the keys are listed in docs/formats.md (metrics.json).
Metrics that are undefined for the data (ROC AUC with one class present) are null.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn import metrics as skm

from seqclass.evaluation.abstain import LABEL_THRESHOLD


def _safe(fn, *args, **kwargs) -> float | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = float(fn(*args, **kwargs))
        except ValueError:
            return None
    return None if np.isnan(value) else value


def _finite(value) -> float | None:
    """A JSON-safe number: NaN (undefined for the data) becomes None."""
    return None if np.isnan(value) else float(value)


def _specificity(cm: np.ndarray) -> np.ndarray:
    """True-negative rate per class from a confusion matrix.  # (C,)"""
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tn + fp > 0, tn / (tn + fp), np.nan)


def multiclass(y_true: np.ndarray, probs: np.ndarray, labels: list[str],
               positive: int | None = None) -> dict:
    y_pred = probs.argmax(axis=1)
    idx = np.arange(len(labels))
    cm = skm.confusion_matrix(y_true, y_pred, labels=idx)
    p, r, f, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=idx, zero_division=0)
    spec = _specificity(cm)
    present = np.unique(y_true)
    onehot = np.eye(len(labels))[y_true]
    if len(labels) == 2:
        pos = 1 if positive is None else positive
        roc = _safe(skm.roc_auc_score, y_true == pos, probs[:, pos])
        pr = _safe(skm.average_precision_score, y_true == pos, probs[:, pos])
    else:
        roc = _safe(skm.roc_auc_score, onehot[:, present], probs[:, present], average="macro")
        pr = _safe(skm.average_precision_score, onehot[:, present], probs[:, present], average="macro")
    out = {
        "task": "multiclass",
        "n": int(len(y_true)),
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "balanced_accuracy": _safe(skm.balanced_accuracy_score, y_true, y_pred),
        "mcc": float(skm.matthews_corrcoef(y_true, y_pred)),
        "f1_macro": float(skm.f1_score(y_true, y_pred, labels=idx, average="macro", zero_division=0)),
        "f1_micro": float(skm.f1_score(y_true, y_pred, labels=idx, average="micro", zero_division=0)),
        "f1_weighted": float(skm.f1_score(y_true, y_pred, labels=idx, average="weighted",
                                          zero_division=0)),
        "precision_macro": float(np.mean(p)),
        "recall_macro": float(np.mean(r)),
        "specificity": _finite(spec[1 if positive is None else positive] if len(labels) == 2
                               else (np.nanmean(spec) if (~np.isnan(spec)).any() else np.nan)),
        "roc_auc": roc,
        "pr_auc": pr,
    }
    if len(labels) == 2:
        out["positive_class"] = labels[1 if positive is None else positive]
    out["per_class"] = {
        lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
              "specificity": None if np.isnan(spec[i]) else float(spec[i]), "support": int(support[i])}
        for i, lab in enumerate(labels)
    }
    out["confusion_matrix"] = {"labels": list(labels), "matrix": cm.tolist()}
    return out


def multilabel(y_true: np.ndarray, probs: np.ndarray, labels: list[str],
               threshold: float = LABEL_THRESHOLD) -> dict:
    y_pred = (probs >= threshold).astype(int)
    p, r, f, support = skm.precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    per_label = {}
    for j, lab in enumerate(labels):
        cm = skm.confusion_matrix(y_true[:, j], y_pred[:, j], labels=[0, 1])
        tn, fp, fn, tp = cm.ravel()
        per_label[lab] = {
            "precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]),
            "specificity": float(tn / (tn + fp)) if tn + fp else None,
            "mcc": float(skm.matthews_corrcoef(y_true[:, j], y_pred[:, j])),
            "balanced_accuracy": _safe(skm.balanced_accuracy_score, y_true[:, j], y_pred[:, j]),
            "roc_auc": _safe(skm.roc_auc_score, y_true[:, j], probs[:, j]),
            "pr_auc": _safe(skm.average_precision_score, y_true[:, j], probs[:, j]),
            "support": int(support[j]),
            "confusion_matrix": cm.tolist(),
        }

    def mean_of(key: str) -> float | None:
        vals = [v[key] for v in per_label.values() if v[key] is not None]
        return float(np.mean(vals)) if vals else None

    return {
        "task": "multilabel",
        "n": int(len(y_true)),
        "threshold": threshold,
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),  # exact match of the label set
        "hamming_loss": float(skm.hamming_loss(y_true, y_pred)),
        "balanced_accuracy": mean_of("balanced_accuracy"),
        "mcc": mean_of("mcc"),
        "f1_macro": float(skm.f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "f1_micro": float(skm.f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "f1_weighted": float(skm.f1_score(y_true, y_pred, average="weighted", zero_division=0)),
        "precision_macro": float(np.mean(p)),
        "recall_macro": float(np.mean(r)),
        "specificity": mean_of("specificity"),
        "roc_auc": mean_of("roc_auc"),
        "pr_auc": mean_of("pr_auc"),
        "per_class": per_label,
    }
