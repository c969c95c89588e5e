"""Small helpers the steps share: sidecar file names and provenance records."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seqclass import __version__
from seqclass.evaluate import abstain


def sidecar(out: Path, suffix: str) -> Path:
    """`results/split.parquet` + `.leakage.tsv` → `results/split.leakage.tsv`."""
    name = out.name
    for ext in (".parquet", ".pq", ".tsv", ".csv"):
        if name.endswith(ext):
            name = name[: -len(ext)]
            break
    return out.with_name(name + suffix)


def provenance(step: str, cfg: Any) -> dict[str, Any]:
    options = {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(cfg).items()}
    return {"step": step, "seqclass": __version__, "options": options}


def called_labels(probs: np.ndarray, labels: list[str], task: str, threshold: float,
                  min_prob: float | None = None, negative: str | None = None) -> list[str]:
    """Arg-max class (multiclass) or every label at or above threshold, `;`-joined (multilabel);
    with `min_prob`, low-confidence rows abstain (`seqclass.evaluate.abstain.call`)."""
    return abstain.call(probs, labels, task, threshold, min_prob, negative)


def prediction_frame(ids: list[str], probs: np.ndarray, labels: list[str], task: str,
                     threshold: float, min_prob: float | None = None,
                     negative: str | None = None) -> pd.DataFrame:
    """id, label, prob_<class>... — the predictions table (docs/formats.md)."""
    frame = pd.DataFrame({"id": ids, "label": called_labels(probs, labels, task, threshold,
                                                            min_prob, negative)})
    for j, lab in enumerate(labels):
        frame[f"prob_{lab}"] = probs[:, j].astype(np.float64)  # float64 whatever the aggregate
    return frame
