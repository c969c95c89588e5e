"""PNG plots of an evaluation: confusion matrix, ROC and precision-recall curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn import metrics as skm  # noqa: E402


def confusion(cm: np.ndarray, labels: list[str], path: Path, title: str) -> None:
    rows = cm.sum(axis=1, keepdims=True)
    frac = np.divide(cm, rows, out=np.zeros(cm.shape, dtype=float), where=rows > 0)
    size = max(4.0, 0.45 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if len(labels) <= 30:
        for i in range(len(labels)):
            for j in range(len(labels)):
                if cm[i, j]:
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                            color="white" if frac[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, label="fraction of true class")
    fig.tight_layout()
    fig.savefig(path, dpi=120, format="png")
    plt.close(fig)


def curves(onehot: np.ndarray, probs: np.ndarray, labels: list[str], roc_path: Path,
           pr_path: Path, only: list[int] | None = None) -> None:
    """ROC and PR curves, one line per class that has positives and negatives."""
    classes = only if only is not None else list(range(len(labels)))
    fig_roc, ax_roc = plt.subplots(figsize=(6, 5))
    fig_pr, ax_pr = plt.subplots(figsize=(6, 5))
    for j in classes:
        y = onehot[:, j]
        if y.min() == y.max():
            continue
        fpr, tpr, _ = skm.roc_curve(y, probs[:, j])
        prec, rec, _ = skm.precision_recall_curve(y, probs[:, j])
        ax_roc.plot(fpr, tpr, lw=1, label=f"{labels[j]} ({skm.auc(fpr, tpr):.3f})")
        ax_pr.plot(rec, prec, lw=1,
                   label=f"{labels[j]} ({skm.average_precision_score(y, probs[:, j]):.3f})")
    ax_roc.plot([0, 1], [0, 1], "k--", lw=0.5)
    for ax, xl, yl, title in ((ax_roc, "false positive rate", "true positive rate", "ROC"),
                              (ax_pr, "recall", "precision", "precision-recall")):
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.set_title(title)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6, loc="lower right" if ax is ax_roc else "lower left")
    for fig, path in ((fig_roc, roc_path), (fig_pr, pr_path)):
        fig.tight_layout()
        fig.savefig(path, dpi=120, format="png")
        plt.close(fig)
