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
import hashlib
import json
import types
import typing
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from seqclass.environment import library_versions
from seqclass.errors import InputError
from seqclass.models.base import Classifier, family
from seqclass.sequence.alphabets import ALPHABETS
from seqclass.spec import ModelSpec

FORMAT_VERSION = 1
CONFIG = "config.json"
LABELS = "labels.json"
WEIGHTS = "model.safetensors"
TRAINING = "training.json"
TASKS = ("multiclass", "multilabel")


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
        code = code_files(directory / model.bundle)
        if code:  # a model trained with --trust-remote-code: the code it may run, by hash
            training = {**training, "code_sha256": code}
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
    _check_types(params_cls, stored, directory / CONFIG)
    try:
        return params_cls(**stored)
    except ValueError as err:  # config.OptionError of the Params' own checks
        raise InputError(f"params: {err}", directory / CONFIG) from None


def _check_types(params_cls: type, stored: dict[str, Any], where: Path) -> None:
    """Each stored parameter of the JSON type its field declares (an int where a float is)."""
    hints = typing.get_type_hints(params_cls)
    for name, value in stored.items():
        allowed = _json_types(hints[name])
        if allowed and (not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed)):
            raise InputError(f"params: {name} {value!r} is not of type {hints[name]}", where)


def _json_types(hint: Any) -> tuple[type, ...]:
    """The Python types JSON gives for a field annotation; () where any will do."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return tuple(t for arg in typing.get_args(hint) for t in _json_types(arg))
    origin = typing.get_origin(hint) or hint
    return {float: (float, int), int: (int,), str: (str,), bool: (bool,), list: (list,),
            type(None): (type(None),)}.get(origin, ())


def load(directory: str | Path, threads: int | None = None,
         trust_remote_code: bool = False) -> Classifier:
    """The model saved in `directory`; with `threads`, scoring with that many CPU threads.

    A model directory is data: its JSON, labels and weights are checked before anything is
    built, and code it carries (a Hugging Face `auto_map`, Python files) runs only with
    `trust_remote_code` from the user, and only when it is the code recorded at training.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError("model directory not found", directory)
    config, labels = _read_json(directory)
    cls, spec = _spec(config, labels, directory, trust_remote_code)
    required = WEIGHTS if cls.bundle is None else cls.bundle
    if not (directory / required).exists():
        raise InputError(f"not a seqclass model directory (no {required})", directory)
    if cls.bundle is not None:
        check_code(directory, cls.bundle, trust_remote_code)
    tensors = _read_tensors(directory)
    try:
        model = (cls.from_bundle(spec, tensors, directory / cls.bundle) if cls.bundle is not None
                 else cls.from_tensors(spec, tensors))
    except ValueError as err:
        raise InputError(str(err), directory / (WEIGHTS if cls.bundle is None else cls.bundle)) \
            from None
    if threads is not None:
        model.use_threads(threads)
    return model


def _read_json(directory: Path) -> tuple[dict[str, Any], list[str]]:
    """config.json and labels.json, their shapes checked."""
    docs = []
    for name in (CONFIG, LABELS):
        if not (directory / name).exists():
            raise InputError(f"not a seqclass model directory (no {name})", directory)
        try:
            docs.append(json.loads((directory / name).read_text()))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise InputError(f"corrupt model JSON ({err})", directory / name) from None
    config, labels = docs
    if not isinstance(config, dict):
        raise InputError("not a JSON object", directory / CONFIG)
    if config.get("format_version") != FORMAT_VERSION:
        raise InputError(f"model format {config.get('format_version')} is not {FORMAT_VERSION}",
                         directory)
    if not (isinstance(labels, list) and len(labels) >= 2
            and all(isinstance(c, str) and c for c in labels) and len(set(labels)) == len(labels)):
        raise InputError("must list two or more distinct class names", directory / LABELS)
    return config, labels


def _spec(config: dict[str, Any], labels: list[str], directory: Path,
          trust_remote_code: bool) -> tuple[type[Classifier], ModelSpec]:
    """The family and the ModelSpec of config.json, each field checked; a family parameter
    that lets the model run code takes the user's `trust_remote_code`, never the file's."""
    if "family" not in config:
        raise InputError(f"{CONFIG} names no model family", directory)
    try:
        cls = family(config["family"])
    except KeyError as err:
        raise InputError(str(err.args[0]), directory) from None
    where = directory / CONFIG
    if config.get("alphabet") not in ALPHABETS:
        raise InputError(f"alphabet {config.get('alphabet')!r} is not one of {', '.join(ALPHABETS)}",
                         where)
    if config.get("task") not in TASKS:
        raise InputError(f"task {config.get('task')!r} is not one of {', '.join(TASKS)}", where)
    for key in ("window", "stride"):
        value = config.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise InputError(f"{key} {value!r} is not a positive whole number", where)
    stored = config.get("params", {})
    if not isinstance(stored, dict):
        raise InputError("params is not a JSON object", where)
    params = params_from_config(cls, stored, directory)
    if hasattr(params, "trust_remote_code"):
        params = dataclasses.replace(params, trust_remote_code=trust_remote_code)
    spec = ModelSpec(family=config["family"], alphabet=config["alphabet"], task=config["task"],
                     labels=labels, window=config.get("window"), stride=config.get("stride"),
                     params=params)
    try:
        cls.check_params(spec)
    except ValueError as err:
        raise InputError(f"params: {err}", where) from None
    return cls, spec


def code_files(bundle: Path) -> dict[str, str]:
    """SHA-256 of each Python file under a bundle folder, by its path there."""
    return {str(p.relative_to(bundle)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(bundle.rglob("*.py"))}


def check_code(directory: Path, bundle_name: str, trust_remote_code: bool) -> None:
    """Refuse a bundle that carries code unless the user trusts it and it is the code recorded
    in training.json when the model was trained."""
    bundle = directory / bundle_name
    files = code_files(bundle)
    mapped = [p.name for p in sorted(bundle.glob("*.json"))
              if '"auto_map"' in p.read_text(errors="replace")]
    if not files and not mapped:
        return
    found = ", ".join([f"{bundle_name}/{f}" for f in files]
                      + [f"auto_map in {bundle_name}/{m}" for m in mapped])
    if not trust_remote_code:
        raise InputError(f"holds code the model would run ({found}); load it with "
                         "--trust-remote-code only if you trust its source", directory)
    try:
        recorded = json.loads((directory / TRAINING).read_text()).get("code_sha256")
    except (OSError, json.JSONDecodeError, AttributeError):
        recorded = None
    if recorded != files:
        raise InputError(f"its code ({found}) is not the code recorded in {TRAINING} at training; "
                         "refusing to run it", directory)


def _read_tensors(directory: Path) -> dict[str, np.ndarray]:
    """model.safetensors (empty where a bundle holds every weight), every value finite."""
    if not (directory / WEIGHTS).exists():
        return {}
    try:
        tensors = load_file(str(directory / WEIGHTS))
    except Exception as err:  # safetensors raises its own error types for corrupt headers
        raise InputError(f"cannot read weights ({err})", directory / WEIGHTS) from None
    for name, value in tensors.items():
        if np.issubdtype(value.dtype, np.floating) and not np.isfinite(value).all():
            raise InputError(f"tensor {name} holds NaN or infinite values", directory / WEIGHTS)
    return tensors
