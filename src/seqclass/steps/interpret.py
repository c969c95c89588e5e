"""Explain a model's calls: in-silico mutagenesis, occlusion, and class tracks along contigs.

Input: --model and --input (FASTA/FASTQ, gzip too, or a table with id,sequence) for ISM and
occlusion of the records named by --ids, or else of the first --max-sequences records no longer
than --max-length; and/or --tracks, TSVs of `seqclass predict --tracks`. Each sequence is scored
as `predict` scores it (the model's windows, window logits aggregated by --aggregate), and every
change is measured on the target class's score (--score: log-probability or logit; the target
is the predicted class unless --target names one) as edited minus original: negative where
the original residues support the target. --window and --stride override the model's windows
as they do in predict.

Output: the directory --out, holding sequences.tsv (one row per sequence: target, score,
probabilities, plot), ism.tsv (one row per sequence, position and substituted residue),
saliency.tsv (one row per sequence and position: ISM mean/min/max and the occlusion delta),
<id>.saliency.png per sequence (saliency along the sequence and the ISM heatmap) and, with
--tracks, tracks.png (each class's probability along the longest contigs).
"""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from seqclass import config
from seqclass.config import option
from seqclass.data.inputs import records
from seqclass.errors import InputError
from seqclass.interpretation import attribution, plots, tracks
from seqclass.io.atomic import atomic_outputs
from seqclass.models import store
from seqclass.models.base import Classifier
from seqclass.models.inference import AGGREGATES
from seqclass.sequence import alphabets
from seqclass.steps.common import trust_remote_code

log = logging.getLogger(__name__)

TSV = {"sep": "\t", "index": False, "float_format": "%.6g", "na_rep": "NA"}


@dataclass
class Config:
    out: Path = option("output directory: sequences.tsv, ism.tsv, saliency.tsv, "
                       "<id>.saliency.png per sequence, tracks.png with --tracks")
    model: Path | None = option("model directory from `seqclass train` (needed with --input)", None)
    input: list[Path] = option("sequences to explain: FASTA/FASTQ (gzip too) or CSV/TSV/Parquet "
                               "with id,sequence", [], nargs="+")
    ids: list[str] = option("explain these records, in this order; each must be in --input "
                            "(default: the first --max-sequences records)", [], nargs="+")
    max_sequences: int = option("without --ids: how many records to explain, the first ones of "
                                "at most --max-length residues", 10)
    max_length: int = option(
        "longest sequence to explain: ISM scores 3 mutants per DNA base (19 per residue of a "
        "protein); an --ids record that is longer is an error, other longer records are skipped",
        5000)
    target: str | None = option("class whose score is explained (default: each sequence's "
                                "predicted class)", None)
    score: str = option("what a change is measured on: logprob (the target's log-probability) "
                        "or logit (its logit)", "logprob", choices=list(attribution.SCORES))
    aggregate: str = option("how window logits combine into a sequence's, as in predict", "mean",
                            choices=list(AGGREGATES))
    window: int | None = option("override the model's window, as in predict (default: from the "
                                "model)", None)
    stride: int | None = option("override the model's stride, as in predict (default: from the "
                                "model)", None)
    occlusion_width: int = option("residues occluded at a time (a window sliding by 1)", 10)
    occlusion_fill: str = option("what replaces them: mask (N for DNA, X for protein) or shuffle "
                                 "(the same residues in a random order)", "mask",
                                 choices=list(attribution.FILLS))
    seed: int = option("seed of --occlusion-fill shuffle", 0)
    batch_size: int = option("edited windows per call of the model (bounds memory)", 512)
    tracks: list[Path] = option("tracks TSVs from `seqclass predict --tracks`: plot each class's "
                                "probability along the contigs", [], nargs="+")
    max_contigs: int = option("tracks: plot the longest N contigs, one panel each", 12)
    trust_remote_code: bool = trust_remote_code()

    def __post_init__(self) -> None:
        if not self.input and not self.tracks:
            raise config.OptionError("nothing to explain: give --input (with --model) or --tracks")
        if self.input and self.model is None:
            raise config.OptionError("--input needs --model")
        if self.ids and not self.input:
            raise config.OptionError("--ids needs --input")
        config.at_least(self, ("max_sequences", "max_length", "occlusion_width", "batch_size",
                               "max_contigs", "window", "stride"))


def _where(paths: list[Path]) -> str:
    return ", ".join(map(str, paths))


def select(cfg: Config, alphabet: str) -> list[tuple[Path, str, str]]:
    """(file, id, sequence) of the records to explain, reading no further than needed; a
    repeated id is the first record of that id."""
    wanted = list(dict.fromkeys(cfg.ids))
    asked = set(wanted)
    found: dict[str, tuple[Path, str, str]] = {}
    skipped = 0
    for path in cfg.input:
        for rid, seq in records([path], alphabet):
            if wanted:
                if rid not in asked or rid in found:
                    continue
                if len(seq) > cfg.max_length:
                    raise InputError(f"{len(seq)} residues, more than --max-length {cfg.max_length}: "
                                     "raise it, or cut out the region to explain", path, rid)
            elif len(seq) > cfg.max_length:
                skipped += 1
                continue
            found.setdefault(rid, (path, rid, seq))
            if len(found) == (len(wanted) or cfg.max_sequences):
                break
        if len(found) == (len(wanted) or cfg.max_sequences):
            break
    if wanted:
        missing = [rid for rid in wanted if rid not in found]
        if missing:
            raise InputError(f"{len(missing)} of the --ids not found in the input"
                             + (f": {', '.join(missing)}" if len(missing) > 1 else ""),
                             _where(cfg.input), missing[0])
        chosen = [found[rid] for rid in wanted]
    else:
        chosen = list(found.values())
        if skipped:
            log.info("skipped %d records longer than --max-length %d", skipped, cfg.max_length)
        if not chosen:
            raise InputError(f"no record of at most --max-length {cfg.max_length} residues "
                             f"({skipped} longer): raise --max-length, or name records with --ids",
                             _where(cfg.input))
    # the reader checks the alphabet only on a sample it may not have finished: DNA is valid
    # protein text, so a DNA file would otherwise be explained by a protein model
    try:
        seen = alphabets.detect([seq for _, _, seq in chosen])
    except alphabets.MixedAlphabets as err:
        raise InputError(f"input {err}", chosen[err.first_protein][0]) from None
    if seen != alphabet:
        raise InputError(f"input looks like {seen} but the model was trained on {alphabet}",
                         chosen[0][0])
    return chosen


def plot_name(rid: str, taken: set[str]) -> str:
    """A file name for the id's PNG: unsafe characters become `_`, a repeat gets `_2`, `_3`..."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", rid).lstrip(".") or "sequence"
    name, n = f"{stem}.saliency.png", 1
    while name in taken:
        n += 1
        name = f"{stem}_{n}.saliency.png"
    taken.add(name)
    return name


def _frames(attr: attribution.Attribution, labels: list[str], plot: str,
            probs: np.ndarray) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """The sequence's row of sequences.tsv, and its rows of ism.tsv and saliency.tsv."""
    length = len(attr.sequence)
    residues = np.array(list(attr.sequence))  # (L,)
    row = {"id": attr.id, "length": length, "target": labels[attr.target], "score": attr.score,
           **{f"prob_{lab}": float(probs[j]) for j, lab in enumerate(labels)}, "plot": plot}
    pos, col = np.nonzero(attribution.substituted(attr.sequence, attr.core))  # (E,), (E,)
    ism = pd.DataFrame({"id": attr.id, "position": pos + 1, "ref": residues[pos],
                        "alt": np.array(list(attr.core))[col], "delta": attr.ism[pos, col]})
    mean, low, high = attribution.ism_summaries(attr)
    saliency = pd.DataFrame({"id": attr.id, "position": np.arange(1, length + 1), "ref": residues,
                             "ism_mean": mean, "ism_min": low, "ism_max": high,
                             "occlusion_delta": attr.occlusion})
    return row, ism, saliency


def run(cfg: Config) -> None:
    model = (store.load(cfg.model, trust_remote_code=cfg.trust_remote_code)
             if cfg.input and cfg.model is not None else None)  # _check: both
    target = None
    if model is not None and cfg.model is not None and cfg.target is not None:
        target = model.spec.class_index(cfg.target, "--target", cfg.model)
    track_classes, all_tracks = tracks.read_tracks(cfg.tracks) if cfg.tracks else ([], [])
    chosen = select(cfg, model.spec.alphabet) if model is not None else []
    given = [*cfg.input, *cfg.tracks] + ([cfg.model] if cfg.model is not None else [])
    with atomic_outputs(given, [cfg.out], step="interpret") as outs:
        out = outs.directory(cfg.out)
        if model is not None:
            _explain(model, chosen, target, cfg, out)
        if all_tracks:
            shown = tracks.longest(all_tracks, cfg.max_contigs)
            plots.tracks(shown, track_classes, out / "tracks.png")
            log.info("tracks of %d of %d contigs → %s", len(shown), len(all_tracks),
                     cfg.out / "tracks.png")
    log.info("interpretation → %s", cfg.out)


def _explain(model: Classifier, chosen: list[tuple[Path, str, str]], target: int | None, cfg: Config,
             out: Path) -> None:
    labels = model.spec.labels
    rows, isms, saliencies = [], [], []
    taken: set[str] = set()
    bar = tqdm(chosen, unit=" seq", disable=not sys.stderr.isatty(), desc="interpret")
    for _, rid, seq in bar:
        attr = attribution.attribute(
            model, rid, seq, target=target, kind=cfg.score, aggregate=cfg.aggregate,
            occlusion_width=cfg.occlusion_width, fill=cfg.occlusion_fill, seed=cfg.seed,
            batch_size=cfg.batch_size, window=cfg.window, stride=cfg.stride)
        probs = model.probabilities(attr.reference[None])[0]  # (C,)
        name = plot_name(rid, taken)
        row, ism, saliency = _frames(attr, labels, name, probs)
        plots.saliency(attr, labels, cfg.score, out / name)
        rows.append(row)
        isms.append(ism)
        saliencies.append(saliency)
        log.info("%s: %d residues, target %s, %d substitutions", rid, len(seq),
                 labels[attr.target], len(ism))
    pd.DataFrame(rows).to_csv(out / "sequences.tsv", **TSV)
    pd.concat(isms, ignore_index=True).to_csv(out / "ism.tsv", **TSV)
    pd.concat(saliencies, ignore_index=True).to_csv(out / "saliency.tsv", **TSV)
