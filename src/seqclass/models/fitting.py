"""Turning the training rows of a dataset table into a fitted model of any registered family.

`fit` asks the family for a model and returns it with a training record (seed, counts, a
hash of the training data) for the model directory. Every family gets a TrainContext (the
model directory, whether to resume, the training rows' hash); the iterative ones (the deep
families, trained by seqclass.training.loop) write checkpoints and their log there.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa

from seqclass.data.labels import split_label
from seqclass.data.targets import data_hash, encode_targets
from seqclass.models import ood
from seqclass.models.base import Classifier, family
from seqclass.spec import ModelSpec, TrainContext, TrainData


def fit(spec: ModelSpec, train: pa.Table, valid: pa.Table, seed: int, context: TrainContext,
        ood_quantile: float) -> tuple[Classifier, dict[str, Any]]:
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
    # checkpoints record which rows they were trained on
    model = cls.fit(spec, train_data, valid_data, seed, replace(context, data_sha256=sha))
    counts = (y.sum(axis=0) if spec.task == "multilabel"
              else np.bincount(y, minlength=len(spec.labels)))
    record = {"seed": seed, "n_train": train.num_rows, "n_valid": valid.num_rows,
              "train_class_counts": dict(zip(spec.labels, map(int, counts))),
              "train_data_sha256": sha}
    record.update(getattr(model, "training_record", {}))
    record["ood"] = ood.fit(model, valid, ood_quantile)  # valid: the rows of known labels
    return model, record
