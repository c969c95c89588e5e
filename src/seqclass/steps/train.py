"""Train a model of one registered family on the train split of a dataset or chunk table.

The model directory holds safetensors weights, config.json (family, alphabet, task,
window and stride of the chunks it was trained on, the family's parameters),
labels.json, training.json (seed, versions, a hash of the training data) and ood.json (the
energy-score threshold above which `predict` flags a sequence out-of-distribution, fitted on
the validation rows; models.ood). The deep
families also write checkpoints/, training_log.jsonl, loss.png and metrics.png; while
they train, the directory is `.OUT.partial` beside OUT, which a killed run leaves
behind and --resume continues from. Family options are listed below per family (those
shared by several families once, in their own group); only the chosen family's are used.

Launched by torchrun on several GPUs (`torchrun --nproc_per_node 4 $(which seqclass) train
...`), a deep family trains data-parallel (seqclass.training.loop); rank 0 alone writes OUT.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from seqclass import config
from seqclass.config import option
from seqclass.data.labels import split_label
from seqclass.data.targets import rows
from seqclass.errors import InputError
from seqclass.io.atomic import atomic_outputs, work_path
from seqclass.io.tables import read_parquet
from seqclass.models import family, family_names, ood, store
from seqclass.models.base import UNAVAILABLE, Classifier
from seqclass.models.fitting import fit
from seqclass.spec import ModelSpec, TrainContext
from seqclass.steps.common import provenance
from seqclass.training import checkpoint, distributed

log = logging.getLogger(__name__)


@dataclass
class Config:
    dataset: Path = option("split or chunks Parquet; rows with split=train are used")
    out: Path = option("model directory to write")
    family: str = option("model family", "kmer-logreg", deprecated=("--model",),
                         choices=family_names() + sorted(UNAVAILABLE))  # the latter say what is missing
    seed: int = option("random seed", 0)
    resume: bool = option("continue an interrupted run of the same --out from its last checkpoint "
                          "(families that checkpoint: the deep ones)", False)
    ood_quantile: float = option("quantile of the validation sequences' energy scores kept in "
                                 "ood.json as the threshold above which predict flags a "
                                 "sequence out-of-distribution", 0.95)

    def __post_init__(self) -> None:
        config.within(self, "ood_quantile", 0, 1, low_open=True, high_open=True)


def defaults_help() -> dict[str, str]:
    """--help's default of each family option: one value, or the most common one and the
    families whose own default differs ("1.0; similarity: 0.1")."""
    by_name: dict[str, dict[str, list[str]]] = {}  # name -> repr(default) -> families
    values: dict[str, object] = {}
    for name in family_names():
        for f in dataclasses.fields(family(name).Params):
            default = config.field_default(f)
            values[repr(default)] = default
            by_name.setdefault(f.name, {}).setdefault(repr(default), []).append(name)
    text = {}
    for field, groups in by_name.items():
        common, *others = sorted(groups, key=lambda key: -len(groups[key]))
        parts = [str(values[common])] if config.shown(values[common]) or others else []
        parts += [f"{', '.join(groups[key])}: {values[key]}" for key in others]
        text[field] = "; ".join(parts)
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    config.add_arguments(parser, Config)
    defaults = defaults_help()
    seen: set[str] = set()
    shared: dict[type, list[str]] = {}  # option dataclasses that families' Params extend
    for name in family_names():
        for base in reversed(family(name).Params.__mro__[1:]):  # the most general first
            if dataclasses.is_dataclass(base):
                shared.setdefault(base, []).append(name)
    for base, names in shared.items():
        title = getattr(base, "options_title", base.__name__)
        group = parser.add_argument_group(f"{title} options ({', '.join(names)})")
        config.add_arguments(group, base, seen, defaults)
    for name in family_names():
        group = parser.add_argument_group(f"{name} options")
        config.add_arguments(group, family(name).Params, seen, defaults)


def make_config(args: argparse.Namespace) -> tuple[Config, Any]:
    try:
        params_cls = family(args.family).Params
    except KeyError as err:  # a family that cannot load here, e.g. a deep one without PyTorch
        raise InputError(str(err.args[0])) from None
    return config.from_args(Config, args), config.from_args(params_cls, args)


def run(cfg_params: tuple[Config, Any]) -> None:
    """Train `cfg.family` with its Params (the second item) on `cfg.dataset`."""
    cfg, params = cfg_params
    table, meta = read_parquet(cfg.dataset, ["id", "sequence", "label"])
    train_rows = rows(table, "train")
    if train_rows.num_rows == 0:
        raise InputError("no training rows (split == 'train')", cfg.dataset)
    classes = sorted({c for lab in train_rows.column("label").to_pylist() for c in split_label(lab)})
    if len(classes) < 2:
        raise InputError(f"training rows hold one class only ({classes[0]}); need two or more",
                         cfg.dataset)
    chunk = meta.get("chunk") or {}
    spec = ModelSpec(family=cfg.family, alphabet=meta["alphabet"], task=meta["task"],
                     labels=classes, window=chunk.get("window"), stride=chunk.get("stride"),
                     params=params)
    cls = family(cfg.family)
    if not distributed.world().main:
        # another process of a torchrun launch trains beside rank 0, which writes everything;
        # it only reads the work directory rank 0 prepares, to --resume from its checkpoint
        if cls.iterative:
            _fit(cfg, spec, table, train_rows, TrainContext(work_path(cfg.out), cfg.resume))
        return
    pretrained = getattr(params, "pretrained", None)  # a directory, or a hub name
    given = [cfg.dataset] + ([Path(pretrained)] if pretrained and Path(pretrained).exists() else [])
    with atomic_outputs(given, [cfg.out], step="train") as outs:
        copied = False
        if cls.iterative:
            directory = outs.work_directory(
                cfg.out, keep_on_error=lambda d: not copied and checkpoint.latest(d) is not None)
            copied = checkpoint.prepare_work_directory(directory, cfg.out, cfg.resume)
        else:
            directory = outs.directory(cfg.out)
        model, record = _fit(cfg, spec, table, train_rows, TrainContext(directory, cfg.resume))
        copied = False  # trained on: keep its checkpoints should a later step fail
        record["dataset"] = str(cfg.dataset)
        record["provenance"] = meta.get("provenance", []) + [provenance("train", cfg)]
        ood_doc = record.pop("ood")
        store.save(model, directory, record)
        ood.write(directory, ood_doc)
    log.info("%s on %d rows, %d classes → %s", cfg.family, train_rows.num_rows, len(classes), cfg.out)


def _fit(cfg: Config, spec: ModelSpec, table: pa.Table, train_rows: pa.Table,
         context: TrainContext) -> tuple[Classifier, dict[str, Any]]:
    try:
        return fit(spec, train_rows, rows(table, "valid"), cfg.seed, context, cfg.ood_quantile)
    except ValueError as err:
        raise InputError(f"{cfg.family}: {err}", cfg.dataset) from None
