"""Turning a dataset table into a fitted model of any registered family.

`rows` selects the training (and validation) rows and `encode_targets` their labels;
`fit` asks the family for a model and returns it with a training record (seed,
counts, a hash of the training data) for the model directory. Iterative families
(the deep ones, trained by train.loop) also get a TrainContext: the model directory
to write checkpoints and the training log into, and whether to resume.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from seqclass.data.labels import split_label
from seqclass.models import ood
from seqclass.models.base import ModelSpec, TrainContext, TrainData, family


def encode_targets(labels: list[str], classes: list[str], task: str) -> np.ndarray:
    """Class index per row (multiclass, (N,)) or a 0/1 matrix (multilabel, (N, C))."""
    index = {c: i for i, c in enumerate(classes)}
    if task == "multilabel":
        y = np.zeros((len(labels), len(classes)), dtype=np.int64)
        for r, lab in enumerate(labels):
            for c in split_label(lab):
                y[r, index[c]] = 1
        return y
    return np.array([index[lab] for lab in labels], dtype=np.int64)


def data_hash(table: pa.Table) -> str:
    """SHA-256 over the training rows' id, sequence and label, in order."""
    h = hashlib.sha256()
    for col in ("id", "sequence", "label"):
        for value in table.column(col).to_pylist():
            h.update(value.encode())
            h.update(b"\0")
    return h.hexdigest()


def rows(table: pa.Table, split: str) -> pa.Table:
    if "split" not in table.column_names:
        return table if split == "train" else table.slice(0, 0)
    mask = pc.equal(table.column("split"), split)
    return table.filter(mask)


def fit(spec: ModelSpec, train: pa.Table, valid: pa.Table, seed: int,
        context: TrainContext | None = None, ood_quantile: float = 0.95) -> tuple[Any, dict]:
    """The fitted model and its training record; the record's `ood` entry is the model's
    `ood.json` (`models.ood`: the energy-score threshold fitted on the validation rows), which
    the caller writes beside the model and leaves out of training.json."""
    labels = train.column("label").to_pylist()
    y = encode_targets(labels, spec.labels, spec.task)
    valid_data = None
    if valid.num_rows:
        known = [all(c in spec.labels for c in split_label(lab))
                 for lab in valid.column("label").to_pylist()]
        valid = valid.filter(pa.array(known))
        valid_data = TrainData(valid.column("sequence").to_pylist(),
                               encode_targets(valid.column("label").to_pylist(), spec.labels,
                                              spec.task))
    sha = data_hash(train)
    cls = family(spec.family)
    train_data = TrainData(train.column("sequence").to_pylist(), y)
    if cls.iterative and context is not None:
        context.data_sha256 = sha
        model = cls.fit(spec, train_data, valid_data, seed, context=context)
    else:
        model = cls.fit(spec, train_data, valid_data, seed)
    counts = (y.sum(axis=0) if spec.task == "multilabel"
              else np.bincount(y, minlength=len(spec.labels)))
    record = {"seed": seed, "n_train": train.num_rows, "n_valid": valid.num_rows,
              "train_class_counts": dict(zip(spec.labels, map(int, counts))),
              "train_data_sha256": sha}
    record.update(getattr(model, "training_record", {}))
    record["ood"] = ood.fit(model, valid, ood_quantile)  # valid: the rows of known labels
    return model, record
