"""The rows a model trains or is evaluated on, their labels as targets, and a hash of them.

`rows` selects the rows of one split of a dataset or chunk table (a table without a `split`
column is all training rows); `encode_targets` turns labels into what a family fits:
class indices (multiclass, (N,)) or a 0/1 matrix (multilabel, (N, C)).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from seqclass.data.labels import split_label


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
