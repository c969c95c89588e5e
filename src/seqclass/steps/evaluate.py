"""Score a model on one split of a dataset and write metrics, per-sequence predictions and plots.

At --level sequence (default) a sequence longer than the model's window is cut into
windows and their logits aggregated exactly as `predict` does; on a chunk table the
chunks of one parent are aggregated. --level window scores every window on its own.
EVAL_DIR receives metrics.json, predictions.tsv, confusion_matrix.png, roc.png, pr.png,
and abstain.tsv: coverage, accuracy and macro F1 of the called sequences when `predict
--min-prob P` abstains below P, for P in a grid (seqclass.evaluation.abstain).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from seqclass import config
from seqclass.config import option
from seqclass.data.labels import split_label
from seqclass.data.targets import encode_targets, rows
from seqclass.errors import InputError
from seqclass.evaluation import abstain, metrics, plots
from seqclass.evaluation.predictions import prediction_frame
from seqclass.io.atomic import atomic_outputs
from seqclass.io.tables import read_parquet, write_json
from seqclass.models import store
from seqclass.models.inference import AGGREGATES, parent_logits, score
from seqclass.spec import ModelSpec, to_probabilities
from seqclass.steps.common import label_threshold, scoring_threads, trust_remote_code

log = logging.getLogger(__name__)


@dataclass
class Config:
    model: Path = option("model directory from `seqclass train`")
    dataset: Path = option("split or chunks Parquet")
    out: Path = option("evaluation directory to write")
    split: str = option("rows to score: train, valid, test, or all", "test",
                        choices=["train", "valid", "test", "all"])
    level: str = option("score whole sequences or single windows", "sequence",
                        choices=["sequence", "window"])
    aggregate: str = option("how window logits combine into a sequence's", "mean",
                            choices=list(AGGREGATES))
    threshold: float = label_threshold()
    negative_class: str | None = option(
        "the model's class for \"none of the others\": abstain.tsv then reports the "
        "false-positive rate (its sequences called as another class) and the other classes' "
        "recall at each --min-prob of predict, abstentions counting as this class", None)
    threads: int | None = scoring_threads()
    trust_remote_code: bool = trust_remote_code()

    def __post_init__(self) -> None:
        config.at_least(self, ("threads",))  # None: automatic
        config.within(self, "threshold", 0, 1)


def run(cfg: Config) -> None:
    model = store.load(cfg.model, cfg.threads, cfg.trust_remote_code)
    spec = model.spec
    if cfg.negative_class is not None:
        spec.class_index(cfg.negative_class, "--negative-class", cfg.model)
    table, meta = read_parquet(cfg.dataset, ["id", "sequence", "label"])
    if meta["alphabet"] != spec.alphabet:
        raise InputError(f"model {cfg.model} was trained on {spec.alphabet}, this dataset is "
                         f"{meta['alphabet']}", cfg.dataset)
    table = _rows(table, cfg)
    _check_labels(table, spec, cfg)

    ids, labels, logits = _score(model, table, cfg)
    probs = to_probabilities(logits, spec.task)
    y = encode_targets(labels, spec.labels, spec.task)
    if spec.task == "multilabel":
        result = metrics.multilabel(y, probs, spec.labels, cfg.threshold)
        onehot = y
    else:
        result = metrics.multiclass(y, probs, spec.labels)
        onehot = np.eye(len(spec.labels))[y]
    result.update({"split": cfg.split, "level": cfg.level, "model": str(cfg.model),
                   "dataset": str(cfg.dataset), "family": spec.family})

    preds = prediction_frame(ids, probs, spec.labels, spec.task, cfg.threshold)
    preds.insert(1, "true_label", labels)
    with atomic_outputs([cfg.model, cfg.dataset], [cfg.out], step="evaluate") as outs:
        d = outs.directory(cfg.out)
        write_json(d / "metrics.json", result)
        preds.to_csv(d / "predictions.tsv", sep="\t", index=False, float_format="%.6g")
        abstain.table(y, probs, spec.labels, spec.task, cfg.negative_class).to_csv(
            d / "abstain.tsv", sep="\t", index=False, float_format="%.6g", na_rep="NA")
        if spec.task == "multilabel":
            cm = np.array([[0, 0], [0, 0]])
            for v in result["per_class"].values():
                cm += np.array(v["confusion_matrix"])
            plots.confusion(cm, ["absent", "present"], d / "confusion_matrix.png",
                            "all labels (pooled)")
        else:
            plots.confusion(np.array(result["confusion_matrix"]["matrix"]), spec.labels,
                            d / "confusion_matrix.png", f"{cfg.split} ({len(ids)})")
        only = [1] if len(spec.labels) == 2 and spec.task != "multilabel" else None
        plots.curves(onehot, probs, spec.labels, d / "roc.png", d / "pr.png", only)
    log.info("%s %s: n=%d accuracy=%.3f mcc=%.3f f1_macro=%.3f → %s", cfg.split, cfg.level,
             len(ids), result["accuracy"], result["mcc"] or 0.0, result["f1_macro"], cfg.out)


def _rows(table: pa.Table, cfg: Config) -> pa.Table:
    """The rows of --split; a table without a split column only with --split all, which the
    metrics then state (scoring training rows as if held out would flatter the model)."""
    if cfg.split != "all":
        if "split" not in table.column_names:
            raise InputError(f"has no split column, so no {cfg.split} rows: split it with `seqclass "
                             "split`, or give --split all to score every row", cfg.dataset)
        table = rows(table, cfg.split)
    if table.num_rows == 0:
        raise InputError(f"no rows with split == {cfg.split!r}", cfg.dataset)
    return table


def _check_labels(table: pa.Table, spec: ModelSpec, cfg: Config) -> None:
    """Every row's labels are classes of the model, one per row under a multi-class model."""
    for rid, lab in zip(table.column("id").to_pylist(), table.column("label").to_pylist()):
        parts = split_label(lab)
        unknown = [c for c in parts if c not in spec.labels]
        if unknown:
            raise InputError(f"label {unknown[0]!r} is not a class of model {cfg.model} "
                             f"({', '.join(spec.labels)})", cfg.dataset, rid)
        if spec.task == "multiclass" and len(parts) > 1:
            raise InputError(f"label {lab!r} names {len(parts)} classes, but model {cfg.model} is "
                             "multi-class (one class per sequence)", cfg.dataset, rid)


def _score(model, table: pa.Table, cfg: Config) -> tuple[list[str], list[str], np.ndarray]:
    """(ids, true labels, logits) at the requested level."""
    ids = table.column("id").to_pylist()
    seqs = table.column("sequence").to_pylist()
    labels = table.column("label").to_pylist()
    is_chunks = "parent_id" in table.column_names
    if cfg.level == "window" and not is_chunks and model.spec.window:
        label_of = dict(zip(ids, labels))
        out_ids, out_labels, out_logits = [], [], []
        for batch in score(model, zip(ids, seqs), cfg.aggregate):
            out_ids += [f"{rid}:{start}-{end}"
                        for rid, start, end in zip(batch.window_ids, batch.starts, batch.ends)]
            out_labels += [label_of[rid] for rid in batch.window_ids]
            out_logits.append(batch.window_logits)
        return out_ids, out_labels, np.concatenate(out_logits)
    if is_chunks and cfg.level == "sequence":
        parents, first, logits = parent_logits(model, seqs, table.column("parent_id").to_pylist(),
                                               cfg.aggregate)
        return parents, [labels[i] for i in first], logits
    logits = np.concatenate([b.logits for b in score(model, zip(ids, seqs), cfg.aggregate)])
    return ids, labels, logits
