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

import numpy as np
import pyarrow as pa

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

# what a group is, per strategy: (one, many)
GROUP_NOUN = {"homology": ("cluster", "clusters"), "column": ("group", "groups"),
              "random": ("sequence", "sequences")}


def run(cfg: Config) -> None:
    try:
        fractions = parse_fractions(cfg.fractions)
    except ValueError as err:
        raise InputError(str(err)) from None
    if not 0 < cfg.identity <= 1:
        raise InputError(f"--identity {cfg.identity}: must be in (0, 1]")
    if cfg.min_class_clusters < 1:
        raise InputError(f"--min-class-clusters {cfg.min_class_clusters}: must be at least 1")
    into = cfg.merge_small_classes
    if into is not None and (not into.strip() or into != into.strip() or LABEL_SEP in into):
        raise InputError(f"--merge-small-classes {into!r}: must be a non-empty class name "
                         f"without surrounding spaces or {LABEL_SEP!r}")
    table, meta = read_parquet(cfg.dataset, ["id", "sequence", "label"])
    seqs = table.column("sequence").to_pylist()
    labels = table.column("label").to_pylist()
    alphabet = meta["alphabet"]

    method = None
    if cfg.strategy == "homology":
        method = resolve_clusterer(cfg.clusterer, alphabet, cfg.identity)
        groups = cluster(seqs, alphabet, cfg.identity, method, cfg.threads, cfg.coverage)
    elif cfg.strategy == "column":
        if not cfg.group_column:
            raise InputError("--strategy column needs --group-column")
        if cfg.group_column not in table.column_names:
            raise InputError(f"no column {cfg.group_column!r} (has {', '.join(table.column_names)})",
                             cfg.dataset)
        _, groups = np.unique(np.asarray(table.column(cfg.group_column).to_pylist(), dtype=str),
                              return_inverse=True)
    else:
        groups = np.arange(len(seqs))

    # classes in too few groups to reach every split: drop or merge them before placing the rest
    keep, labels, small = small_classes(groups, labels, cfg.min_class_clusters, into)
    if small:
        table = table.filter(pa.array(keep))
        table = table.set_column(table.column_names.index("label"), "label",
                                 pa.array([lab for lab, k in zip(labels, keep) if k], pa.string()))
        labels = table.column("label").to_pylist()
        seqs = table.column("sequence").to_pylist()
        groups = groups[keep]
        classes = sorted({c for lab in labels for c in split_label(lab)})
        if len(classes) < 2:
            many = GROUP_NOUN[cfg.strategy][1]
            raise InputError(
                f"--min-class-clusters {cfg.min_class_clusters}: "
                f"{'merging' if into else 'dropping'} {len(small)} class(es) in fewer than "
                f"{cfg.min_class_clusters} {many} leaves {len(classes)} "
                f"({', '.join(classes) or 'none'}); need two or more classes", cfg.dataset)
        meta = {**meta, "classes": classes}
    _, groups = np.unique(groups, return_inverse=True)  # group ids 0..G-1 over the kept rows
    groups = groups.reshape(-1)
    split = assign(groups, labels, fractions, cfg.seed)

    # the leakage search aligns with MMseqs2 where it can, unless the user asked for built-in code only
    search = "mmseqs" if cfg.clusterer != "builtin" and shutil.which("mmseqs") else "builtin"
    train_idx = np.flatnonzero(split == "train")
    held_idx = np.flatnonzero(split != "train")
    ident, qcov, nearest = best_hits([seqs[i] for i in held_idx], [seqs[i] for i in train_idx],
                                     alphabet, search, cfg.threads)
    ids = table.column("id").to_pylist()
    leaky = (ident >= cfg.identity) & ~(qcov < cfg.coverage)  # NaN coverage (builtin) counts

    out = table.select([n for n in table.column_names if n not in ("cluster", "split")])
    out = out.append_column("cluster", pa.array(groups.astype(np.int64)))
    out = out.append_column("split", pa.array(split.tolist(), pa.string()))
    extra = [n for n in out.column_names if n not in SPLIT_SCHEMA.names]
    out = out.select(SPLIT_SCHEMA.names + extra)
    meta = {**meta, "split": {"strategy": cfg.strategy, "clusterer": method,
                              "identity": cfg.identity, "fractions": list(fractions),
                              "seed": cfg.seed, "leakage_search": search},
            "provenance": meta.get("provenance", []) + [provenance("split", cfg)]}

    summary = {
        "strategy": cfg.strategy, "clusterer": method, "identity": cfg.identity,
        "n_groups": int(len(np.unique(groups))),
        "small_classes": {"action": "merge" if into else "drop",
                          "min_clusters": cfg.min_class_clusters, "into": into, "classes": small},
        "counts": {s: _class_counts([labels[i] for i in np.flatnonzero(split == s)]) for s in SPLITS},
        "leakage": {"search": search, "threshold": cfg.identity, **{
            s: _leak_stats(ident, leaky, split[held_idx] == s) for s in ("valid", "test")}},
    }
    report = pa.table({
        "id": [ids[i] for i in held_idx],
        "label": [labels[i] for i in held_idx],
        "split": split[held_idx].tolist(),
        "max_identity": ident.round(4),
        "query_coverage": qcov.round(4),
        "nearest_train_id": [ids[train_idx[j]] if j >= 0 else "" for j in nearest],
        "above_threshold": leaky,
    })
    leak_path = sidecar(cfg.out, ".leakage.tsv")
    summary_path = sidecar(cfg.out, ".summary.json")
    with atomic_outputs([cfg.dataset], [cfg.out, leak_path, summary_path]) as outs:
        write_parquet(out, outs.file(cfg.out), meta)
        report.to_pandas().to_csv(outs.file(leak_path), sep="\t", index=False, na_rep="NA")
        write_json(outs.file(summary_path), summary)
    if small:
        one, many = GROUP_NOUN[cfg.strategy]
        listed = ", ".join(f"{c} ({n['rows']} rows, {n['groups']} "
                           f"{one if n['groups'] == 1 else many})" for c, n in small.items())
        if into:
            log.info("merged classes in fewer than %d %s into %s: %s", cfg.min_class_clusters,
                     many, into, listed)
        else:
            log.info("dropped %d rows of classes in fewer than %d %s: %s", int((~keep).sum()),
                     cfg.min_class_clusters, many, listed)
    merged = class_groups(groups, labels).get(into, {}).get("groups") if into else None
    if merged is not None and merged < cfg.min_class_clusters:
        one, many = GROUP_NOUN[cfg.strategy]
        log.warning("%s itself is in only %d %s, fewer than %d", into, merged,
                    one if merged == 1 else many, cfg.min_class_clusters)
    log.info("%s split (%s): %s; test share above %.2f identity to train: %.3f", cfg.strategy,
             method or "-", ", ".join(f"{s}={int((split == s).sum())}" for s in SPLITS),
             cfg.identity, summary["leakage"]["test"]["share_above_threshold"] or 0.0)


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

