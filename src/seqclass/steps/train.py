"""Train a model of one registered family on the train split of a dataset or chunk table.

The model directory holds safetensors weights, config.json (family, alphabet, task,
window and stride of the chunks it was trained on, the family's parameters),
labels.json and training.json (seed, versions, a hash of the training data).
Family options are listed below per family; only the chosen family's are used.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

from seqclass import config
from seqclass import train as trainer
from seqclass.config import option
from seqclass.data.labels import split_label
from seqclass.errors import InputError
from seqclass.io.atomic import atomic_outputs
from seqclass.io.tables import read_parquet
from seqclass.models import family, family_names, store
from seqclass.models.base import ModelSpec
from seqclass.steps.common import provenance

log = logging.getLogger(__name__)


@dataclass
class Config:
    dataset: Path = option("split or chunks Parquet; rows with split=train are used")
    out: Path = option("model directory to write")
    model: str = option("model family", "kmer-logreg", choices=family_names())
    seed: int = option("random seed", 0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    config.add_arguments(parser, Config)
    seen: set[str] = set()
    for name in family_names():
        group = parser.add_argument_group(f"{name} options")
        config.add_arguments(group, family(name).Params, seen)


def make_config(args: argparse.Namespace) -> tuple[Config, object]:
    params_cls = family(args.model).Params
    return config.from_args(Config, args), config.from_args(params_cls, args)


def run(cfg_params: tuple[Config, object]) -> None:
    cfg, params = cfg_params
    table, meta = read_parquet(cfg.dataset, ["id", "sequence", "label"])
    train_rows = trainer.rows(table, "train")
    if train_rows.num_rows == 0:
        raise InputError("no training rows (split == 'train')", cfg.dataset)
    classes = sorted({c for lab in train_rows.column("label").to_pylist() for c in split_label(lab)})
    if len(classes) < 2:
        raise InputError(f"training rows hold one class only ({classes[0]}); need two or more",
                         cfg.dataset)
    chunk = meta.get("chunk") or {}
    spec = ModelSpec(family=cfg.model, alphabet=meta["alphabet"], task=meta["task"],
                     labels=classes, window=chunk.get("window"), stride=chunk.get("stride"),
                     params=dataclasses.asdict(params))
    try:
        model, record = trainer.fit(spec, train_rows, trainer.rows(table, "valid"), cfg.seed)
    except ValueError as err:
        raise InputError(f"{cfg.model}: {err}", cfg.dataset) from None
    record["dataset"] = str(cfg.dataset)
    record["provenance"] = meta.get("provenance", []) + [provenance("train", cfg)]
    with atomic_outputs([cfg.dataset], [cfg.out]) as outs:
        store.save(model, outs.directory(cfg.out), record)
    log.info("%s on %d rows, %d classes → %s", cfg.model, train_rows.num_rows, len(classes), cfg.out)
