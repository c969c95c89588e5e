"""Apply a model to new sequences: reads, genes or whole contigs.

Input: FASTA/FASTQ (plain or gzip) or a table with id and sequence columns, read in
batches. A sequence longer than the model's window is cut into the window and stride
the model was trained with (config.json), and window logits are aggregated (mean by
default). Output: TSV (or Parquet when --out ends in .parquet) with id, label,
prob_<class> per class, ood_score (energy of the logits, higher = more out-of-distribution)
and ood (above the model's ood.json threshold; NA without one); a multi-label model also gets
call_<class>, 1 for each class called (a drug-resistance panel: one 0/1 column per drug).
A FASTA record over 1 Mb (a chromosome) is read and scored a block at a time, so memory does
not grow with it (a similarity model without a window joins it for BLAST; a deep model
trained with --max-len 0 refuses it). --tracks adds one row per window for plots along
contigs. --min-prob abstains on
low-confidence calls. Aligned reads (--bam, --regions, --reference) are scored as the
consensus sequences `build --bam` makes of them (seqclass.io.alignments): give the regions and
options the model's dataset was built with.

With --short-model, inputs are routed by length as NucArg's app does: sequences of at least
--short-below residues (default: the main model's window) go to the main, long-sequence model,
shorter ones and every record of a FASTQ file (reads) to the short-read model. Both models must
have the same classes. Rows of the long model come first, then the short model's, and a `model`
column says which scored each row (`long` or `short`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from seqclass import config
from seqclass.config import option
from seqclass.data.inputs import streamed_records
from seqclass.errors import InputError
from seqclass.evaluation.predictions import prediction_frame
from seqclass.io import alignments
from seqclass.io.atomic import atomic_outputs
from seqclass.io.sequences import JOIN_BLOCK, LongSequence, is_fastq
from seqclass.models import ood, store
from seqclass.models.base import Classifier
from seqclass.models.inference import AGGREGATES, score
from seqclass.spec import ModelSpec, to_probabilities
from seqclass.steps.common import (
    add_arguments_with_bam,
    label_threshold,
    scoring_threads,
    trust_remote_code,
)

log = logging.getLogger(__name__)



@dataclass(kw_only=True)  # --input became optional (or --bam) but keeps its place in --help
class Config(alignments.ConsensusOptions):
    model: Path = option("model directory from `seqclass train`")
    input: list[Path] = option("FASTA/FASTQ (gzip too) or CSV/TSV/Parquet with id,sequence "
                               "(or --bam)", [], nargs="+")
    out: Path = option("predictions: .tsv, or .parquet")
    aggregate: str = option("how window logits combine into a sequence's", "mean",
                            choices=list(AGGREGATES))
    tracks: Path | None = option("also write one row per window (id, start, end, probabilities)",
                                 None)
    window: int | None = option("override the model's window (default: from the model)", None)
    stride: int | None = option("override the model's stride (default: from the model)", None)
    threshold: float = label_threshold()
    min_prob: float | None = option(
        "abstain below this probability: multiclass calls whose top probability is lower become "
        "`uncertain` (or --negative-class); multilabel: the per-label calling threshold, "
        "replacing --threshold (default: never abstain)", None)
    negative_class: str | None = option(
        "a class of the model that abstentions are called instead of `uncertain` "
        "(e.g. non_resistant)", None)
    short_model: Path | None = option(
        "a short-read model beside --model (NucArg: 100-nt reads beside 1024-nt genes): inputs "
        "shorter than --short-below and all FASTQ records go to it", None)
    short_below: int | None = option(
        "with --short-model: sequences shorter than this go to the short-read model (default: "
        "the main model's window)", None)
    threads: int | None = scoring_threads()
    trust_remote_code: bool = trust_remote_code()

    def __post_init__(self) -> None:
        config.at_least(self, ("window", "stride", "short_below", "threads"))  # None: not given
        config.within(self, "threshold", 0, 1)
        config.within(self, "min_prob", 0, 1)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_arguments_with_bam(parser, Config, "aligned reads (--bam: consensus sequences of regions, as "
                           "`build --bam` makes them)")


def consensus_records(opts: alignments.ConsensusOptions, alphabet: str) -> Iterator[tuple[str, str]]:
    """(id, consensus) of each BAM's regions, as `build --bam` makes them; every input is checked
    here, each BAM read only when its turn comes."""
    if alphabet != "dna":
        raise InputError(f"--bam makes DNA consensus sequences, but the model was trained on {alphabet}")
    _, _, samples = alignments.read_samples(opts)
    return ((rid, seq) for sample in samples
            for rid, _, seq in sample.records(opts.per_region, opts.spacer))


class _TableSink:
    """Writes prediction frames batch by batch as TSV or Parquet."""

    def __init__(self, path: Path, parquet: bool):
        self.path, self.parquet, self.header = path, parquet, True
        self.writer: pq.ParquetWriter | None = None

    def write(self, frame) -> None:
        if self.parquet:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self.writer is None:
                self.writer = pq.ParquetWriter(self.path, table.schema)
            self.writer.write_table(table)
        else:
            frame.to_csv(self.path, sep="\t", index=False, header=self.header,
                         mode="w" if self.header else "a", float_format="%.6g", na_rep="NA")
        self.header = False

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _with_ood(frame, logits: np.ndarray, task: str, ood_doc: dict | None):
    """Append `ood_score` (float64) and `ood` (boolean, NA without a fitted threshold)."""
    scores = ood.energy(logits, task)
    frame["ood_score"] = scores
    frame["ood"] = ood.flags(scores, ood_doc)
    return frame


@dataclass
class Route:
    """One model and the records it scores."""

    name: str | None  # the `model` column's value; None without --short-model (no column)
    model: Classifier
    ood_doc: dict | None
    window: int | None
    stride: int | None
    takes: Callable[[int, bool], bool]  # (residues, read from a FASTQ file) → scored here


def routes(cfg: Config, model: Classifier) -> list[Route]:
    main = Route(None, model, ood.read(cfg.model), cfg.window, cfg.stride, lambda length, reads: True)
    if cfg.short_model is None:
        if cfg.short_below is not None:
            raise InputError("--short-below needs --short-model")
        return [main]
    short = store.load(cfg.short_model, cfg.threads, cfg.trust_remote_code)
    for what in ("labels", "task", "alphabet"):
        if getattr(short.spec, what) != getattr(model.spec, what):
            raise InputError(f"--short-model has other {what} than --model ({getattr(short.spec, what)} "
                             f"vs {getattr(model.spec, what)})", cfg.short_model)
    below = cfg.short_below if cfg.short_below is not None else model.spec.window
    if below is None or below < 1:
        raise InputError("--model was trained on whole sequences: give --short-below", cfg.model)
    if below > JOIN_BLOCK:  # a longer record is read as it is scored, its length unknown
        raise InputError(f"--short-below {below}: at most {JOIN_BLOCK} (a chromosome goes to the "
                         "long model)")
    main.name, main.takes = "long", lambda length, reads: not reads and length >= below
    return [main, Route("short", short, ood.read(cfg.short_model), None, None,
                        lambda length, reads: reads or length < below)]


def _frame(ids: list[str], logits: np.ndarray, spec: ModelSpec, cfg: Config, route: Route,
           calls: bool = False):
    """Prediction rows of sequences (calls=True) or of windows, with the OOD score and model."""
    frame = prediction_frame(ids, to_probabilities(logits, spec.task), spec.labels, spec.task,
                             cfg.threshold, cfg.min_prob, cfg.negative_class, call_columns=calls)
    frame = _with_ood(frame, logits, spec.task, route.ood_doc)
    if route.name is not None:
        frame["model"] = route.name
    return frame


def run(cfg: Config) -> None:
    model = store.load(cfg.model, cfg.threads, cfg.trust_remote_code)
    spec = model.spec
    if cfg.negative_class is not None:
        spec.class_index(cfg.negative_class, "--negative-class", cfg.model)
    if bool(cfg.input) == bool(cfg.bam):
        raise InputError("give the sequences to score as --input, or aligned reads as --bam")
    chosen = routes(cfg, model)

    def sequences(route: Route) -> Iterator[tuple[str, str | LongSequence]]:
        """The records this route scores; each route reads the inputs once."""
        if cfg.bam:
            return ((rid, seq) for rid, seq in consensus_records(cfg, spec.alphabet)
                    if route.takes(len(seq), False))
        return ((rid, seq) for path in cfg.input for reads in [is_fastq(path)]
                for rid, seq in streamed_records([path], spec.alphabet)
                if route.takes(len(seq) if isinstance(seq, str) else seq.min_length, reads))

    inputs = [p for p in (*cfg.bam, cfg.regions, cfg.reference) if p is not None] if cfg.bam \
        else list(cfg.input)
    inputs += [cfg.short_model] if cfg.short_model else []
    if cfg.out.suffix == ".parquet":
        parquet = True
    elif cfg.out.suffix in (".tsv", ".txt"):
        parquet = False
    else:
        raise InputError("--out must end in .tsv or .parquet", cfg.out)
    n = 0
    outputs = [cfg.out] + ([cfg.tracks] if cfg.tracks else [])
    with atomic_outputs([cfg.model, *inputs], outputs, step="predict") as outs:
        preds = _TableSink(outs.file(cfg.out), parquet)
        tracks = _TableSink(outs.file(cfg.tracks), False) if cfg.tracks else None
        bar = tqdm(unit=" seq", disable=not sys.stderr.isatty(), desc="predict")
        try:
            for route in chosen:
                for batch in score(route.model, sequences(route), cfg.aggregate, route.window,
                                   route.stride):
                    if batch.ids:  # a batch inside one long sequence closes none
                        preds.write(_frame(batch.ids, batch.logits, spec, cfg, route, calls=True))
                    if tracks is not None and len(batch.window_ids):
                        frame = _frame(batch.window_ids, batch.window_logits, spec, cfg, route)
                        frame.insert(1, "start", batch.starts)
                        frame.insert(2, "end", batch.ends)
                        tracks.write(frame)
                    n += len(batch.ids)
                    bar.update(len(batch.ids))
        finally:
            bar.close()
            preds.close()
            if tracks is not None:
                tracks.close()
        if n == 0:
            raise InputError("no sequences to predict", inputs[0])
    log.info("%d sequences → %s", n, cfg.out)
