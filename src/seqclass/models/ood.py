"""Out-of-distribution scores from logits, for every family, and the threshold in `ood.json`.

The score is the energy of the logits (Liu et al. 2020), signed so that HIGHER means MORE
out-of-distribution:

- multiclass: `ood_score = -logsumexp(logits)` over the classes,
- multilabel: `ood_score = -sum_c softplus(logits_c)` (the joint energy of independent
  sigmoids, Wang et al. 2021).

A sequence the model has seen the like of pushes at least one logit up, so its energy is
low; a sequence of no class leaves every logit low, and its energy high. Scores are taken
on a sequence's aggregated logits (windows combined as `predict` combines them), so they
depend only on the logits and work for any family.

At train time `fit` scores the validation rows and keeps a quantile of their scores
(`--ood-quantile` of `seqclass train`) as the threshold: `predict` flags a sequence whose score is
above it (`ood` true). The model directory's `ood.json` holds it; a model directory without
one (older models, or trained without validation rows) still predicts, with `ood` NA.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from seqclass.errors import InputError
from seqclass.models.base import Classifier
from seqclass.models.inference import parent_logits, score

OOD = "ood.json"
FORMAT_VERSION = 1
METHOD = "energy"
REPORTED_QUANTILES = (0.5, 0.9, 0.95, 0.99)


def energy(logits: np.ndarray, task: str) -> np.ndarray:
    """OOD score per row of (N, C) logits; higher = more out-of-distribution.  # (N,) float64"""
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"logits must be (N, C), got shape {z.shape}")
    if task == "multilabel":
        return -np.logaddexp(0.0, z).sum(axis=1)  # -sum softplus
    m = z.max(axis=1, keepdims=True) if z.shape[0] else np.zeros((0, 1))
    return -(m[:, 0] + np.log(np.exp(z - m).sum(axis=1)))


def sequence_logits(model: Classifier, table: pa.Table, aggregate: str = "mean") -> np.ndarray:
    """Logits per whole sequence of a dataset table: `inference.score` on its rows, or, for a
    chunk table (`parent_id`), the chunks' logits aggregated per parent.  # (N, C)"""
    ids = table.column("id").to_pylist()
    seqs = table.column("sequence").to_pylist()
    if "parent_id" in table.column_names:
        return parent_logits(model, seqs, table.column("parent_id").to_pylist(), aggregate)[2]
    batches = [b.logits for b in score(model, zip(ids, seqs), aggregate)]
    return np.concatenate(batches) if batches else np.zeros((0, len(model.spec.labels)))


def fit_threshold(scores: np.ndarray, quantile: float, task: str) -> dict[str, Any]:
    """The `ood.json` document for validation scores; no threshold when there are none."""
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"--ood-quantile must be between 0 and 1, got {quantile}")
    scores = np.asarray(scores, dtype=np.float64)
    scores = scores[np.isfinite(scores)]
    fitted = scores.size > 0
    return {
        "format_version": FORMAT_VERSION,
        "method": METHOD,
        "score": "-sum softplus(logits)" if task == "multilabel" else "-logsumexp(logits)",
        "aggregate": "mean",
        "quantile": float(quantile),
        "fitted": bool(fitted),
        "threshold": float(np.quantile(scores, quantile)) if fitted else None,
        "n_valid": int(scores.size),
        "quantiles": ({f"{q:g}": float(np.quantile(scores, q)) for q in REPORTED_QUANTILES}
                      if fitted else {}),
        "mean": float(scores.mean()) if fitted else None,
    }


def fit(model: Classifier, valid: pa.Table, quantile: float) -> dict[str, Any]:
    """Score the validation rows (whole sequences) and fit the threshold."""
    logits = sequence_logits(model, valid) if valid.num_rows else np.zeros((0, 1))
    scores = energy(logits, model.spec.task) if len(logits) else np.zeros(0)
    return fit_threshold(scores, quantile, model.spec.task)


def write(directory: Path, doc: dict[str, Any]) -> None:
    (Path(directory) / OOD).write_text(json.dumps(doc, indent=2) + "\n")


def read(directory: str | Path) -> dict[str, Any] | None:
    """The model directory's `ood.json`, or None when it has none (older models)."""
    path = Path(directory) / OOD
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise InputError(f"corrupt {OOD} ({err})", path) from None
    if not isinstance(doc, dict) or doc.get("method") != METHOD:
        raise InputError(f"{OOD}: unknown method {doc.get('method') if isinstance(doc, dict) else doc!r}",
                         path)
    return doc


def threshold(doc: dict[str, Any] | None) -> float | None:
    return None if doc is None else doc.get("threshold")


def flags(scores: np.ndarray, doc: dict[str, Any] | None):
    """`ood` column: True above the fitted threshold; NA (pandas `boolean`) without one."""
    import pandas as pd

    t = threshold(doc)
    if t is None:
        return pd.array([pd.NA] * len(scores), dtype="boolean")
    return pd.array(np.asarray(scores) > t, dtype="boolean")
