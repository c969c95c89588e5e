"""Build one dataset table from labelled sequence files, tables or a samplesheet.

Inputs: FASTA/FASTQ (plain or gzip) with the label given as LABEL=PATH, taken from the
file name, or parsed from headers; CSV/TSV/Parquet tables with id, sequence and label
columns; a samplesheet CSV (sample,label,file). Writes the dataset Parquet and a
summary JSON beside it (class counts, lengths, records dropped and why).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from seqclass.config import option
from seqclass.data.dataset import BuildOptions, build, parse_input, read_samplesheet
from seqclass.data.labels import LabelSource
from seqclass.errors import InputError
from seqclass.io.atomic import atomic_outputs
from seqclass.io.tables import write_json, write_parquet
from seqclass.steps.common import provenance, sidecar

log = logging.getLogger(__name__)


@dataclass
class Config:
    out: Path = option("dataset Parquet to write; the summary goes to <stem>.summary.json")
    input: list[str] = option("FASTA/FASTQ/table paths, each optionally LABEL=PATH", [],
                              nargs="+", metavar="[LABEL=]PATH")
    samplesheet: Path | None = option("CSV with columns sample,label,file (paths relative to it)",
                                      None)
    label_from: str | None = option(
        "where unlabelled inputs take labels: filename | argannot | header-key:KEY | "
        "header-regex:REGEX | column:NAME (default: file name for FASTA/FASTQ, the label "
        "column for tables)", None)
    alphabet: str = option("sequence alphabet", "auto", choices=["auto", "dna", "protein"])
    min_length: int = option("drop sequences shorter than this", 1)
    max_ambiguous: float = option("drop sequences with a larger fraction of ambiguous residues", 1.0)
    min_class_size: int = option(
        "drop every record carrying a class with fewer records than this (after de-duplication)",
        1)
    rename_duplicate_ids: bool = option(
        "suffix repeated ids of different sequences with _2, _3... instead of failing", False)
    summary: Path | None = option("summary JSON path (default: <out stem>.summary.json)", None)


def run(cfg: Config) -> None:
    specs = [parse_input(tok) for tok in cfg.input]
    if cfg.samplesheet:
        specs += read_samplesheet(cfg.samplesheet)
    if not specs:
        raise InputError("nothing to build: give --input and/or --samplesheet")
    if cfg.min_class_size < 1:
        raise InputError(f"--min-class-size {cfg.min_class_size}: must be at least 1")
    try:
        label_from = LabelSource.parse(cfg.label_from) if cfg.label_from else None
    except ValueError as err:
        raise InputError(str(err)) from None
    opts = BuildOptions(alphabet=cfg.alphabet, min_length=cfg.min_length,
                        max_ambiguous=cfg.max_ambiguous,
                        rename_duplicate_ids=cfg.rename_duplicate_ids,
                        min_class_size=cfg.min_class_size)
    table, meta, summary = build(specs, label_from, opts)
    summary_path = cfg.summary or sidecar(cfg.out, ".summary.json")
    meta["provenance"] = [provenance("build", cfg)]
    with atomic_outputs([s.path for s in specs] + ([cfg.samplesheet] if cfg.samplesheet else []),
                        [cfg.out, summary_path]) as outs:
        write_parquet(table, outs.file(cfg.out), meta)
        write_json(outs.file(summary_path), summary)
    log.info("%d records, %d classes (%s) → %s", summary["records_kept"], len(meta["classes"]),
             meta["alphabet"], cfg.out)
    if summary["small_classes_dropped"]:
        log.info("dropped %d records of classes with fewer than %d: %s",
                 summary["dropped"]["class_smaller_than_min_class_size"], cfg.min_class_size,
                 ", ".join(f"{c} ({n})" for c, n in summary["small_classes_dropped"].items()))
    for conflict in summary["conflicting_labels"][:5]:
        log.warning("dropped one sequence with conflicting labels %s: ids %s",
                    conflict["labels"], ", ".join(conflict["ids"]))
