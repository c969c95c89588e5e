"""Build one dataset table from labelled sequence files, tables or a samplesheet.

Inputs: FASTA/FASTQ (plain or gzip) with the label given as LABEL=PATH, taken from the
file name, or parsed from headers; CSV/TSV/Parquet tables with id, sequence and label
columns; a samplesheet CSV (sample,label,file). Writes the dataset Parquet and a
summary JSON beside it (class counts, lengths, records dropped and why).

Aligned reads instead (--bam, with --regions, --reference and --phenotypes): each sample's
consensus over the regions (seqclass.io.alignments), one record per sample with the regions
joined by Ns, or one per sample and region with --per-region; the label is the set of drugs
the sample resists (seqclass.data.phenotypes), the task multi-label, and the dataset has the
columns `sample` and `region` besides. Every sample stays a row of its own, also when its
consensus equals another's (strains of one lineage are alike).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

from seqclass import config
from seqclass.config import option
from seqclass.data.dataset import (
    BuildOptions,
    RawRecord,
    build,
    build_records,
    parse_input,
    read_samplesheet,
)
from seqclass.data.labels import LabelSource
from seqclass.data.phenotypes import sample_labels
from seqclass.errors import InputError
from seqclass.io import alignments
from seqclass.io.atomic import atomic_outputs
from seqclass.io.tables import BAM_DATASET_SCHEMA, write_json, write_parquet
from seqclass.steps.common import add_arguments_with_bam, provenance, sidecar

log = logging.getLogger(__name__)


@dataclass
class Config(alignments.ConsensusOptions):
    out: Path = option("dataset Parquet to write; the summary goes to <stem>.summary.json")
    input: list[str] = option("FASTA/FASTQ/table paths, each optionally LABEL=PATH", [],
                              nargs="+", metavar="[LABEL=]PATH")
    samplesheet: Path | None = option("CSV with columns sample,label,file (paths relative to it)",
                                      None)
    label_from: str | None = option(
        "where unlabelled inputs take labels: filename | argannot | plasmidfinder | header-key:KEY | "
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
    phenotypes: Path | None = option(
        "with --bam: CSV/TSV of sample,drug,resistant (0/1) rows, or of one row per sample with a "
        "0/1 column per drug; a sample's label is the set of drugs it resists", None)

    def __post_init__(self) -> None:
        config.at_least(self, ("min_length",), 0)
        config.at_least(self, ("min_class_size",))
        config.within(self, "max_ambiguous", 0, 1)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_arguments_with_bam(parser, Config, "aligned reads (--bam: consensus sequences of regions, "
                           "see docs/usage.md)")


def run(cfg: Config) -> None:
    opts = BuildOptions(alphabet=cfg.alphabet, min_length=cfg.min_length,
                        max_ambiguous=cfg.max_ambiguous,
                        rename_duplicate_ids=cfg.rename_duplicate_ids,
                        min_class_size=cfg.min_class_size)
    if cfg.bam:
        if cfg.input or cfg.samplesheet or cfg.label_from:
            raise InputError("--bam is an alternative to --input, --samplesheet and --label-from")
        table, meta, summary, inputs = _from_alignments(cfg, opts)
    else:
        given = [flag for flag, value in (("--regions", cfg.regions), ("--reference", cfg.reference),
                                          ("--phenotypes", cfg.phenotypes)) if value is not None]
        if given:
            raise InputError(f"{', '.join(given)}: only with --bam")
        table, meta, summary, inputs = _from_sequences(cfg, opts)
    summary_path = cfg.summary or sidecar(cfg.out, ".summary.json")
    meta["provenance"] = [provenance("build", cfg)]
    with atomic_outputs(inputs, [cfg.out, summary_path], step="build") as outs:
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


def _from_sequences(cfg: Config, opts: BuildOptions) -> tuple:
    """(table, meta, summary, input paths) of FASTA/FASTQ/tables and samplesheets."""
    specs = [parse_input(tok) for tok in cfg.input]
    if cfg.samplesheet:
        specs += read_samplesheet(cfg.samplesheet)
    if not specs:
        raise InputError("nothing to build: give --input and/or --samplesheet, or --bam")
    try:
        label_from = LabelSource.parse(cfg.label_from) if cfg.label_from else None
    except ValueError as err:
        raise InputError(str(err)) from None
    table, meta, summary = build(specs, label_from, opts)
    return table, meta, summary, [s.path for s in specs] + ([cfg.samplesheet] if cfg.samplesheet else [])


def _from_alignments(cfg: Config, opts: BuildOptions) -> tuple:
    """(table, meta, summary, input paths) of the consensus of each BAM, labelled by phenotype."""
    if cfg.phenotypes is None:
        raise InputError("--bam needs --phenotypes (the labels)")
    if opts.alphabet == "protein":
        raise InputError("--bam makes DNA consensus sequences; --alphabet protein does not apply")
    regions, names, samples = alignments.read_samples(cfg)
    drugs, labels = sample_labels(cfg.phenotypes, names)  # checked before any consensus is made
    raw, stats = [], {}
    for sample in samples:  # one BAM read at a time; the records are small
        stats[sample.sample] = sample.stats
        raw += [RawRecord(rid, seq, labels[sample.sample], str(sample.path),
                          {"sample": sample.sample, "region": region})
                for rid, region, seq in sample.records(cfg.per_region, cfg.spacer)]
    opts = dataclasses.replace(opts, alphabet="dna")
    table, meta, summary = build_records(raw, opts, [{"path": str(p), "label": None} for p in cfg.bam],
                                         task="multilabel", collapse_duplicates=False,
                                         schema=BAM_DATASET_SCHEMA)
    never = [d for d in drugs if d not in meta["classes"]]
    if never:
        log.warning("no kept sample resists %s: not a class, so no model can learn it",
                    ", ".join(never))
    summary["consensus"] = {"regions": [r.name for r in regions], "per_region": cfg.per_region,
                            "min_mapq": cfg.min_mapq, "min_baseq": cfg.min_baseq,
                            "min_depth": cfg.min_depth, "samples": stats}
    return table, meta, summary, [*cfg.bam, cfg.regions, cfg.reference, cfg.phenotypes]
