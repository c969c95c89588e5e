"""Model directories: how a trained model is written and read back, without pickle.

Layout (every family):
  config.json        ModelSpec: family, alphabet, task, window, stride, the family's Params
                     (a field missing from an older directory takes its default)
  labels.json        class names, in logit column order
  model.safetensors  the family's weights (absent when a family with a bundle has none beside it)
  <bundle>/          families with `Classifier.bundle` (hf, hf-embed): a folder they write and
                     read themselves, e.g. a Hugging Face save_pretrained layout
  training.json      seed, package and library versions, training data hash, counts
  training_log.jsonl loss and metrics by step (families that train iteratively; optional)
  loss.png, metrics.png, checkpoints/   the same families' training curves and checkpoints
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from seqclass.environment import library_versions
from seqclass.errors import InputError
from seqclass.models.base import Classifier, family
from seqclass.spec import ModelSpec

FORMAT_VERSION = 1
CONFIG = "config.json"
LABELS = "labels.json"
WEIGHTS = "model.safetensors"
TRAINING = "training.json"


def save(model: Classifier, directory: Path, training: dict[str, Any]) -> None:
    spec = model.spec
    config = {"format_version": FORMAT_VERSION, "family": spec.family, "alphabet": spec.alphabet,
              "task": spec.task, "window": spec.window, "stride": spec.stride,
              "params": dataclasses.asdict(spec.params)}
    (directory / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
    (directory / LABELS).write_text(json.dumps(spec.labels, indent=2) + "\n")
    tensors = {k: np.ascontiguousarray(v) for k, v in model.tensors().items()}
    if tensors or model.bundle is None:
        save_file(tensors, str(directory / WEIGHTS), metadata={"family": spec.family})
    if model.bundle is not None:
        model.save_bundle(directory / model.bundle)
    doc = {**training, "versions": library_versions()}
    (directory / TRAINING).write_text(json.dumps(doc, indent=2) + "\n")


def params_from_config(cls: type[Classifier], stored: dict[str, Any], directory: Path) -> Any:
    """The family's Params from config.json: stored values (after the family's own
    `upgrade_params` of older layouts) over the dataclass's defaults."""
    stored = cls.upgrade_params(stored)
    params_cls = cls.Params
    names = {f.name for f in dataclasses.fields(params_cls)}
    unknown = sorted(set(stored) - names)
    if unknown:
        raise InputError(f"config.json has parameters this seqclass does not know: "
                         f"{', '.join(unknown)} (written by a newer version?)", directory)
    return params_cls(**stored)


def load(directory: str | Path, threads: int | None = None) -> Classifier:
    """The model saved in `directory`; with `threads`, scoring with that many CPU threads."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError("model directory not found", directory)
    for name in (CONFIG, LABELS):
        if not (directory / name).exists():
            raise InputError(f"not a seqclass model directory (no {name})", directory)
    try:
        config = json.loads((directory / CONFIG).read_text())
        labels = json.loads((directory / LABELS).read_text())
    except json.JSONDecodeError as err:
        raise InputError(f"corrupt model JSON ({err})", directory) from None
    if config.get("format_version") != FORMAT_VERSION:
        raise InputError(f"model format {config.get('format_version')} is not {FORMAT_VERSION}",
                         directory)
    if "family" not in config:
        raise InputError(f"{CONFIG} names no model family", directory)
    try:
        cls = family(config["family"])
    except KeyError as err:
        raise InputError(str(err.args[0]), directory) from None
    spec = ModelSpec(family=config["family"], alphabet=config["alphabet"], task=config["task"],
                     labels=labels, window=config.get("window"), stride=config.get("stride"),
                     params=params_from_config(cls, config.get("params", {}), directory))
    required = WEIGHTS if cls.bundle is None else cls.bundle
    if not (directory / required).exists():
        raise InputError(f"not a seqclass model directory (no {required})", directory)
    try:
        tensors = load_file(str(directory / WEIGHTS)) if (directory / WEIGHTS).exists() else {}
    except Exception as err:  # safetensors raises its own error types for corrupt headers
        raise InputError(f"cannot read weights ({err})", directory / WEIGHTS) from None
    try:
        model = (cls.from_bundle(spec, tensors, directory / cls.bundle) if cls.bundle is not None
                 else cls.from_tensors(spec, tensors))
    except ValueError as err:
        raise InputError(str(err), directory / (WEIGHTS if cls.bundle is None else cls.bundle)) \
            from None
    if threads is not None:
        model.use_threads(threads)
    return model
