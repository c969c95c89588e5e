"""The predictions table of evaluate and predict (docs/formats.md): one row per sequence (or
window), the called label and each class's probability."""

from __future__ import annotations

import numpy as np
import pandas as pd

from seqclass.evaluation import abstain


def prediction_frame(ids: list[str], probs: np.ndarray, labels: list[str], task: str,
                     threshold: float, min_prob: float | None = None,
                     negative: str | None = None, call_columns: bool = False) -> pd.DataFrame:
    """id, label, prob_<class>... — the predictions table (docs/formats.md); with `call_columns`
    a multi-label frame also gets call_<class> (0/1, the classes `label` lists) before them."""
    frame = pd.DataFrame({"id": ids, "label": abstain.call(probs, labels, task, threshold,
                                                           min_prob, negative)})
    if call_columns and task == "multilabel":
        calls = abstain.called_sets(probs, task, min_prob, threshold)
        for j, lab in enumerate(labels):
            frame[f"call_{lab}"] = calls[:, j].astype(np.int64)
    for j, lab in enumerate(labels):
        frame[f"prob_{lab}"] = probs[:, j].astype(np.float64)  # float64 whatever the aggregate
    return frame
