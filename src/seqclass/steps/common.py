"""Small helpers the steps share: sidecar file names, provenance records, the predictions table,
the flags of the --bam route, and the input records of the steps that apply a model."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seqclass import __version__, config
from seqclass.errors import InputError
from seqclass.evaluate import abstain
from seqclass.io.alignments import ConsensusOptions
from seqclass.io.sequences import is_table, iter_table, read_sequences
from seqclass.sequence import alphabet as alpha

BATCH_RECORDS = 1024  # table rows read at a time
ALPHABET_SAMPLE = 200  # records whose alphabet is checked against the model's


def add_arguments_with_bam(parser: argparse.ArgumentParser, cls: type, title: str) -> None:
    """A step's flags, then those of the --bam route (ConsensusOptions, which `cls` extends) in a
    group of their own, so that --help lists the step's own first."""
    bam = {f.name for f in dataclasses.fields(ConsensusOptions)}
    config.add_arguments(parser, cls, set(bam))
    config.add_arguments(parser.add_argument_group(title), ConsensusOptions)


def scoring_threads() -> Any:
    """The --threads field of the steps that score a model (evaluate, predict)."""
    return config.option("CPU threads for scoring: BLAST of a similarity model, PyTorch of a deep "
                         "or Hugging Face one (default: the similarity model's training setting; "
                         "PyTorch's own, one per core)", None)


def threads(value: int | None) -> int | None:
    """--threads of a scoring step, checked."""
    if value is not None and value < 1:
        raise InputError(f"--threads must be at least 1, got {value}")
    return value


def sidecar(out: Path, suffix: str) -> Path:
    """`results/split.parquet` + `.leakage.tsv` → `results/split.leakage.tsv`."""
    name = out.name
    for ext in (".parquet", ".pq", ".tsv", ".csv"):
        if name.endswith(ext):
            name = name[: -len(ext)]
            break
    return out.with_name(name + suffix)


def provenance(step: str, cfg: Any) -> dict[str, Any]:
    def plain(v: Any) -> Any:  # JSON-ready: paths, also in lists (build --bam), as strings
        return str(v) if isinstance(v, Path) else [plain(x) for x in v] if isinstance(v, list) else v

    options = {k: plain(v) for k, v in dataclasses.asdict(cfg).items()}
    return {"step": step, "seqclass": __version__, "options": options}


def called_labels(probs: np.ndarray, labels: list[str], task: str, threshold: float,
                  min_prob: float | None = None, negative: str | None = None) -> list[str]:
    """Arg-max class (multiclass) or every label at or above threshold, `;`-joined (multilabel);
    with `min_prob`, low-confidence rows abstain (`seqclass.evaluate.abstain.call`)."""
    return abstain.call(probs, labels, task, threshold, min_prob, negative)


def prediction_frame(ids: list[str], probs: np.ndarray, labels: list[str], task: str,
                     threshold: float, min_prob: float | None = None,
                     negative: str | None = None, call_columns: bool = False) -> pd.DataFrame:
    """id, label, prob_<class>... — the predictions table (docs/formats.md); with `call_columns`
    a multi-label frame also gets call_<class> (0/1, the classes `label` lists) before them."""
    frame = pd.DataFrame({"id": ids, "label": called_labels(probs, labels, task, threshold,
                                                            min_prob, negative)})
    if call_columns and task == "multilabel":
        calls = abstain.called_sets(probs, task, min_prob, threshold)
        for j, lab in enumerate(labels):
            frame[f"call_{lab}"] = calls[:, j].astype(np.int64)
    for j, lab in enumerate(labels):
        frame[f"prob_{lab}"] = probs[:, j].astype(np.float64)  # float64 whatever the aggregate
    return frame


def records(paths: list[Path], alphabet: str) -> Iterator[tuple[str, str]]:
    """(id, normalised sequence) from every input, checked against the model's alphabet."""
    for path in paths:
        sample: list[str] = []
        for rid, seq in _raw(path):
            if len(sample) < ALPHABET_SAMPLE:
                sample.append(seq)
                if len(sample) == ALPHABET_SAMPLE or len(seq) > 10_000:
                    _check_alphabet(sample, alphabet, path)
            try:
                yield rid, alpha.normalise(seq, alphabet)
            except alpha.InvalidSequence as err:
                _check_alphabet(sample, alphabet, path)  # protein for a DNA model says so
                raise InputError(str(err), path, rid) from None
        if 0 < len(sample) < ALPHABET_SAMPLE:
            _check_alphabet(sample, alphabet, path)


def _check_alphabet(sample: list[str], alphabet: str, path: Path) -> None:
    seen = alpha.detect(sample)
    if seen != alphabet:
        raise InputError(f"input looks like {seen} but the model was trained on {alphabet}", path)


def _raw(path: Path) -> Iterator[tuple[str, str]]:
    if not is_table(path):
        for rec in read_sequences(path):
            yield rec.id, rec.sequence
        return
    rows = 0
    for batch in iter_table(path, ["id", "sequence"], BATCH_RECORDS):
        rows += len(batch["id"])
        yield from zip(map(str, batch["id"]), map(str, batch["sequence"]))
    if rows == 0:
        raise InputError("empty table: no rows", path)
