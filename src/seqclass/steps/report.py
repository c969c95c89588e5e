"""Turn seqclass outputs into MultiQC custom content (`*_mqc.*` files in --out).

Give any of: the build summary, the split summary and leakage report, one or more
evaluation directories (metrics.json), training logs, prediction tables, interpretation
directories and versions.yml files; each becomes one section of the MultiQC report (the
interpretation directories two: a saliency line graph, and their PNGs in one HTML section).
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from seqclass import reporting
from seqclass.config import option
from seqclass.errors import InputError
from seqclass.io.atomic import atomic_outputs

log = logging.getLogger(__name__)


@dataclass
class Config:
    out: Path = option("directory to write the *_mqc files into")
    dataset_summary: Path | None = option("dataset.summary.json from build", None)
    split_summary: Path | None = option("split.summary.json from split", None)
    leakage: Path | None = option("split.leakage.tsv from split", None)
    evaluation: list[Path] = option("evaluation directories from evaluate", [], nargs="+")
    training_log: list[Path] = option(
        "training logs (JSON lines with step and values); each is named after its model "
        "directory (MODEL/training_log.jsonl), or its file name", [], nargs="+")
    predictions: list[Path] = option("prediction TSVs from predict", [], nargs="+")
    versions: list[Path] = option("versions.yml files of the pipeline's processes", [], nargs="+")
    interpretation: list[Path] = option("interpretation directories from interpret", [], nargs="+")


# what a malformed input raises while a section reads it (JSON, TSV, YAML of the wrong shape)
MALFORMED = (KeyError, ValueError, TypeError, IndexError, AttributeError, csv.Error, yaml.YAMLError)


def _json(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError("file not found", path) from None
    except IsADirectoryError:
        raise InputError("a directory, not a JSON file", path) from None
    except ValueError as err:  # JSONDecodeError, UnicodeDecodeError
        raise InputError(f"not JSON ({err})", path) from None
    if not isinstance(doc, dict):
        raise InputError(f"not a JSON object but a {type(doc).__name__}", path)
    return doc


@contextlib.contextmanager
def _reading(what: str, paths: list[Path] | Path) -> Iterator[None]:
    """Turn a malformed input of a section into an InputError naming the file(s)."""
    try:
        yield
    except MALFORMED as err:
        where = ", ".join(map(str, paths)) if isinstance(paths, list) else str(paths)
        first = next(iter(str(err).splitlines()), "")
        raise InputError(f"not a valid {what} ({type(err).__name__}: {first})", where) from None


def _model_name(log_path: Path) -> str:
    return log_path.parent.name if log_path.name == "training_log.jsonl" else log_path.stem


def run(cfg: Config) -> None:
    inputs = [p for p in (cfg.dataset_summary, cfg.split_summary, cfg.leakage) if p]
    inputs += cfg.evaluation + cfg.training_log + cfg.predictions + cfg.versions
    inputs += cfg.interpretation
    if not inputs:
        raise InputError("nothing to report: give at least one input")
    with atomic_outputs(inputs, [cfg.out], step="report") as outs:
        d = outs.directory(cfg.out)
        if cfg.dataset_summary:
            with _reading("build summary", cfg.dataset_summary):
                reporting.dataset_section(_json(cfg.dataset_summary), d / "seqclass_dataset_mqc.tsv")
        if cfg.split_summary:
            with _reading("split summary", cfg.split_summary):
                reporting.split_section(_json(cfg.split_summary), d / "seqclass_split_mqc.tsv")
        if cfg.leakage:
            with _reading("leakage report", cfg.leakage):
                reporting.leakage_section(cfg.leakage, d / "seqclass_leakage_mqc.json")
        evaluations = []
        for ev in cfg.evaluation:
            with _reading("evaluation", ev / "metrics.json"):
                metrics = _json(ev / "metrics.json")
                name = f"{ev.name} ({metrics.get('split', '?')})"
                evaluations.append((name, metrics))
                reporting.confusion_section(name, metrics,
                                            d / f"seqclass_confusion_{ev.name}_mqc.json")
        if evaluations:
            with _reading("evaluation", [ev / "metrics.json" for ev in cfg.evaluation]):
                reporting.metrics_section(evaluations, d / "seqclass_metrics_mqc.tsv")
        if cfg.training_log:
            with _reading("training log", cfg.training_log):
                reporting.training_section([(_model_name(log), log) for log in cfg.training_log],
                                           d / "seqclass_training_mqc.json")
        if cfg.predictions:
            with _reading("prediction table", cfg.predictions):
                reporting.predictions_section(cfg.predictions, d / "seqclass_predictions_mqc.tsv")
        if cfg.interpretation:
            with _reading("interpretation directory", cfg.interpretation):
                reporting.interpretation_section(cfg.interpretation,
                                                 d / "seqclass_interpretation_mqc.json",
                                                 d / "seqclass_interpretation_plots_mqc.html")
        if cfg.versions:
            with _reading("versions file", cfg.versions):
                reporting.versions_section(cfg.versions, d / "seqclass_mqc_versions.yml")
    log.info("MultiQC custom content → %s", cfg.out)
