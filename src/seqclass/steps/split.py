"""Assign every sequence to train, valid or test, keeping similar sequences on one side.

--strategy homology (default) clusters the sequences at --identity with MMseqs2, CD-HIT
or a built-in MinHash clustering, and places whole clusters; random places single
sequences; column places the groups of --group-column (chromosome, sample, parent).
All three are stratified by class. A class found in fewer groups than
--min-class-clusters is dropped first, or merged into --merge-small-classes, so that the
other classes are placed normally. Writes the split Parquet (the dataset plus
`cluster` and `split` columns), a leakage report TSV (each test and valid sequence's
highest identity to any training sequence) and a summary JSON.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from seqclass import config
from seqclass.config import option
from seqclass.data.cluster import CLUSTERERS, best_hits, cluster, resolve_clusterer
from seqclass.data.labels import LABEL_SEP, split_label
from seqclass.data.split import SPLITS, assign, class_groups, parse_fractions, small_classes
from seqclass.errors import InputError
from seqclass.io.atomic import atomic_outputs
from seqclass.io.tables import SPLIT_SCHEMA, read_parquet, write_json, write_parquet
from seqclass.steps.common import provenance, sidecar

log = logging.getLogger(__name__)


@dataclass
class Config:
    dataset: Path = option("dataset Parquet from `seqclass build`")
    out: Path = option("split Parquet to write; <stem>.leakage.tsv and <stem>.summary.json beside it")
    strategy: str = option("how to group sequences", "homology",
                           choices=["homology", "random", "column"])
    group_column: str | None = option("column whose values are kept together (--strategy column)",
                                      None)
    identity: float = option("sequence identity that puts two sequences in one cluster", 0.8)
    coverage: float = option("alignment coverage MMseqs2 requires for clustering", 0.8)
    clusterer: str = option("clustering tool; auto prefers mmseqs, then cd-hit, then builtin",
                            "auto", choices=list(CLUSTERERS))
    fractions: str = option("train,valid,test fractions", "0.8,0.1,0.1")
    seed: int = option("random seed for placing groups", 0)
    threads: int = option("threads for MMseqs2/CD-HIT", 1)
    min_class_clusters: int = option(
        "drop every class found in fewer groups than this (clusters for homology, groups for "
        "column, sequences for random); 3 is the least with which a class can reach train, valid and test",
        1, metavar="N")
    merge_small_classes: str | None = option(
        "merge the classes below --min-class-clusters into this class (an existing one or a new "
        "name) instead of dropping them", None, metavar="LABEL")

    def __post_init__(self) -> None:
        try:
            parse_fractions(self.fractions)
        except ValueError as err:
            raise config.OptionError(str(err)) from None
        config.within(self, "identity", 0, 1, low_open=True)
        config.within(self, "coverage", 0, 1)
        config.at_least(self, ("threads", "min_class_clusters"))
        into = self.merge_small_classes
        if into is not None and (not into.strip() or into != into.strip() or LABEL_SEP in into):
            raise config.OptionError(f"--merge-small-classes {into!r}: must be a non-empty class "
                                     f"name without surrounding spaces or {LABEL_SEP!r}")

# what a group is, per strategy: (one, many)
GROUP_NOUN = {"homology": ("cluster", "clusters"), "column": ("group", "groups"),
              "random": ("sequence", "sequences")}


@dataclass
class _Leakage:
    """Each held-out sequence's best hit among the training sequences."""

    search: str  # the tool that aligned them: mmseqs or builtin
    train_idx: np.ndarray  # (T,) rows in train
    held_idx: np.ndarray  # (H,) rows in valid or test
    ident: np.ndarray  # (H,) highest identity to a training sequence
    qcov: np.ndarray  # (H,) that hit's query coverage; NaN where unknown (builtin search, no hit)
    nearest: np.ndarray  # (H,) that hit's index into train_idx, -1 for none
    leaky: np.ndarray  # (H,) bool: the hit reaches --identity and --coverage


def run(cfg: Config) -> None:
    fractions = parse_fractions(cfg.fractions)  # checked in Config
    table, meta = read_parquet(cfg.dataset, ["id", "sequence", "label"])
    seqs = table.column("sequence").to_pylist()
    labels = table.column("label").to_pylist()
    alphabet = meta["alphabet"]
    groups, method = _groups(cfg, table, seqs, alphabet)

    # classes in too few groups to reach every split: drop or merge them before placing the rest
    keep, labels, small = small_classes(groups, labels, cfg.min_class_clusters, cfg.merge_small_classes)
    if small:
        table, meta = _without_small_classes(cfg, table, meta, keep, labels, len(small))
        labels = table.column("label").to_pylist()
        seqs = table.column("sequence").to_pylist()
        groups = groups[keep]
    _, groups = np.unique(groups, return_inverse=True)  # group ids 0..G-1 over the kept rows
    groups = groups.reshape(-1)
    split = assign(groups, labels, fractions, cfg.seed)
    leak = _search_leakage(cfg, seqs, split, alphabet)

    meta = {**meta, "split": {"strategy": cfg.strategy, "clusterer": method,
                              "identity": cfg.identity, "fractions": list(fractions),
                              "seed": cfg.seed, "leakage_search": leak.search},
            "provenance": meta.get("provenance", []) + [provenance("split", cfg)]}
    summary = _summary(cfg, method, groups, labels, split, small, leak)
    report = _leakage_report(table.column("id").to_pylist(), labels, split, leak)
    _write(cfg, _split_table(table, groups, split), meta, report, summary)
    if small:
        _log_small_classes(cfg, small, keep)
    _warn_small_target(cfg, groups, labels)
    log.info("%s split (%s): %s; test share above %.2f identity to train: %.3f", cfg.strategy,
             method or "-", ", ".join(f"{s}={int((split == s).sum())}" for s in SPLITS),
             cfg.identity, summary["leakage"]["test"]["share_above_threshold"] or 0.0)


def _groups(cfg: Config, table: pa.Table, seqs: list[str],
            alphabet: str) -> tuple[np.ndarray, str | None]:
    """Group id per row under --strategy, and the clusterer that made them (homology only)."""
    if cfg.strategy == "homology":
        method = resolve_clusterer(cfg.clusterer, alphabet, cfg.identity)
        return cluster(seqs, alphabet, cfg.identity, method, cfg.threads, cfg.coverage), method
    if cfg.strategy == "column":
        return _column_groups(cfg, table), None
    return np.arange(len(seqs)), None


def _column_groups(cfg: Config, table: pa.Table) -> np.ndarray:
    if not cfg.group_column:
        raise InputError("--strategy column needs --group-column")
    if cfg.group_column not in table.column_names:
        raise InputError(f"no column {cfg.group_column!r} (has {', '.join(table.column_names)})",
                         cfg.dataset)
    _, groups = np.unique(np.asarray(table.column(cfg.group_column).to_pylist(), dtype=str),
                          return_inverse=True)
    return groups


def _without_small_classes(cfg: Config, table: pa.Table, meta: dict, keep: np.ndarray,
                           labels: list[str], n_small: int) -> tuple[pa.Table, dict]:
    """The kept rows under their new labels, and `meta` with the classes left; those must be two
    or more, else there is nothing to classify."""
    kept = [lab for lab, k in zip(labels, keep) if k]
    table = table.filter(pa.array(keep))
    table = table.set_column(table.column_names.index("label"), "label", pa.array(kept, pa.string()))
    classes = sorted({c for lab in kept for c in split_label(lab)})
    if len(classes) < 2:
        many = GROUP_NOUN[cfg.strategy][1]
        raise InputError(
            f"--min-class-clusters {cfg.min_class_clusters}: "
            f"{'merging' if cfg.merge_small_classes else 'dropping'} {n_small} class(es) in fewer "
            f"than {cfg.min_class_clusters} {many} leaves {len(classes)} "
            f"({', '.join(classes) or 'none'}); need two or more classes", cfg.dataset)
    return table, {**meta, "classes": classes}


def _search_leakage(cfg: Config, seqs: list[str], split: np.ndarray, alphabet: str) -> _Leakage:
    # the leakage search aligns with MMseqs2 where it can, unless the user asked for built-in code only
    search = "mmseqs" if cfg.clusterer != "builtin" and shutil.which("mmseqs") else "builtin"
    train_idx = np.flatnonzero(split == "train")
    held_idx = np.flatnonzero(split != "train")
    ident, qcov, nearest = best_hits([seqs[i] for i in held_idx], [seqs[i] for i in train_idx],
                                     alphabet, search, cfg.threads)
    leaky = (ident >= cfg.identity) & ~(qcov < cfg.coverage)  # NaN coverage (builtin) counts
    return _Leakage(search, train_idx, held_idx, ident, qcov, nearest, leaky)


def _split_table(table: pa.Table, groups: np.ndarray, split: np.ndarray) -> pa.Table:
    """The dataset with `cluster` and `split` (replacing any it had), in SPLIT_SCHEMA's order."""
    out = table.select([n for n in table.column_names if n not in ("cluster", "split")])
    out = out.append_column("cluster", pa.array(groups.astype(np.int64)))
    out = out.append_column("split", pa.array(split.tolist(), pa.string()))
    extra = [n for n in out.column_names if n not in SPLIT_SCHEMA.names]
    return out.select(SPLIT_SCHEMA.names + extra)


def _summary(cfg: Config, method: str | None, groups: np.ndarray, labels: list[str],
             split: np.ndarray, small: dict[str, dict[str, int]], leak: _Leakage) -> dict[str, Any]:
    into = cfg.merge_small_classes
    return {
        "strategy": cfg.strategy, "clusterer": method, "identity": cfg.identity,
        "n_groups": int(len(np.unique(groups))),
        "small_classes": {"action": "merge" if into else "drop",
                          "min_clusters": cfg.min_class_clusters, "into": into, "classes": small},
        "counts": {s: _class_counts([labels[i] for i in np.flatnonzero(split == s)]) for s in SPLITS},
        "leakage": {"search": leak.search, "threshold": cfg.identity, **{
            s: _leak_stats(leak.ident, leak.leaky, split[leak.held_idx] == s) for s in ("valid", "test")}},
    }


def _leakage_report(ids: list[str], labels: list[str], split: np.ndarray, leak: _Leakage) -> pa.Table:
    held = leak.held_idx
    return pa.table({
        "id": [ids[i] for i in held],
        "label": [labels[i] for i in held],
        "split": split[held].tolist(),
        "max_identity": leak.ident.round(4),
        "query_coverage": leak.qcov.round(4),
        "nearest_train_id": [ids[leak.train_idx[j]] if j >= 0 else "" for j in leak.nearest],
        "above_threshold": leak.leaky,
    })


def _write(cfg: Config, out: pa.Table, meta: dict, report: pa.Table, summary: dict[str, Any]) -> None:
    leak_path = sidecar(cfg.out, ".leakage.tsv")
    summary_path = sidecar(cfg.out, ".summary.json")
    with atomic_outputs([cfg.dataset], [cfg.out, leak_path, summary_path], step="split") as outs:
        write_parquet(out, outs.file(cfg.out), meta)
        report.to_pandas().to_csv(outs.file(leak_path), sep="\t", index=False, na_rep="NA")
        write_json(outs.file(summary_path), summary)


def _log_small_classes(cfg: Config, small: dict[str, dict[str, int]], keep: np.ndarray) -> None:
    one, many = GROUP_NOUN[cfg.strategy]
    listed = ", ".join(f"{c} ({n['rows']} rows, {n['groups']} "
                       f"{one if n['groups'] == 1 else many})" for c, n in small.items())
    if cfg.merge_small_classes:
        log.info("merged classes in fewer than %d %s into %s: %s", cfg.min_class_clusters,
                 many, cfg.merge_small_classes, listed)
    else:
        log.info("dropped %d rows of classes in fewer than %d %s: %s", int((~keep).sum()),
                 cfg.min_class_clusters, many, listed)


def _warn_small_target(cfg: Config, groups: np.ndarray, labels: list[str]) -> None:
    """--merge-small-classes' class is never dropped, though it too may be in too few groups."""
    into = cfg.merge_small_classes
    if not into:
        return
    merged = class_groups(groups, labels).get(into, {}).get("groups")
    if merged is not None and merged < cfg.min_class_clusters:
        one, many = GROUP_NOUN[cfg.strategy]
        log.warning("%s itself is in only %d %s, fewer than %d", into, merged,
                    one if merged == 1 else many, cfg.min_class_clusters)


def _class_counts(labels: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for lab in labels:
        for c in split_label(lab):
            counts[c] = counts.get(c, 0) + 1
    return dict(sorted(counts.items()))


def _leak_stats(ident: np.ndarray, leaky: np.ndarray, mask: np.ndarray) -> dict:
    if not mask.any():
        return {"n": 0, "share_above_threshold": None, "median_max_identity": None}
    return {"n": int(mask.sum()), "share_above_threshold": float(leaky[mask].mean()),
            "median_max_identity": float(np.median(ident[mask]))}

