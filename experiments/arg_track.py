"""ARG drug class from DNA: k-mer vs GC-only baselines, then ARG tracks along a real assembly.

    python experiments/arg_track.py --outdir /tmp/arg_track                 # ~2 min on 2 cores
    python experiments/arg_track.py --outdir /tmp/arg_track --figure docs/figures/arg_track_s_epidermidis.png

Data (../shared/data, or --data): arg/argannot.fasta (ARG-ANNOT via ABRicate, drug class in
the header), arg/non_arg_orfs_s_epidermidis.fasta and arg/non_arg_orfs_e_coli_K12.fasta
(Prodigal genes of two genomes minus their ARG-ANNOT hits, label `non_resistant`) and
genomes/s_epidermidis_ST14.fa.gz (42-contig draft assembly). Exits 0 with a message when
absent. Needs blastn/makeblastdb (NCBI BLAST+) on PATH for the track part.

Every seqclass step is the real CLI (`python -m seqclass <step>`, cwd --outdir); each command
is appended to <outdir>/commands.sh.

 1. The one ARG-ANNOT gene with two classes, (AGly_Flqn)aac(6')-Ib-cr, is left out of a copy
    of argannot.fasta, so that the task is multiclass (softmax over classes) rather than
    multilabel; it is listed in the output.
 2. seqclass build --label-from argannot --min-class-size 5 (drops Sul 4, Tcm 1, Mca 1 genes:
    too few to place in train and test) + non_resistant=<both ORF files>.
 3. seqclass split --strategy homology --identity 0.8 --seed S (MMseqs2, single linkage).
 4. seqclass chunk --window 1024 --stride 512 (NucArg's long-read setting).
 5. Three models on those chunks, all scored on the valid and test genes (sequence level:
    window logits averaged per gene):
    - kmer-logreg for k in 3..6 at C=1, k chosen by the valid split's macro-F1 (ties: valid
      MCC, then smaller k): the gene-classification model ("k-selected");
    - kmer-logreg --kmer-size 8 --canonical --c 100: the track model. Canonical k-mers (a k-mer and
      its reverse complement share a feature) make window scores independent of the strand
      a gene lies on in the assembly; 8-mers carry gene identity rather than composition;
      weak regularisation (C=100) lets the model be confident on sequence like its training
      negatives instead of spreading class-balanced probability over the 14 ARG classes.
      Chosen in an exploration on the same chunks and S. epidermidis windows (see the doc);
    - gc-logreg (GC fraction and its square only), the control.
 6. seqclass predict --tracks on the assembly: one row per 1024/512 window, per model.
 7. BLAST: makeblastdb on the assembly, blastn argannot.fasta against it (evalue 1e-10), hits
    with identity >= 80% and alignment length >= 200 are the ARG loci ("genes"). A window is
    an ARG window when it overlaps a hit by >= 50% of the hit's length or >= 300 nt; windows
    with a smaller partial overlap are left out of both positives and negatives; all other
    windows are non-ARG windows. Per model, with the ARG score 1 - P(non_resistant):
    AUROC (ARG vs non-ARG windows); at the thresholds 0.5, the score at which 1% of non-ARG
    windows pass (set on this genome, in hindsight) and the arg-max call (label !=
    non_resistant): ARG windows and genes recalled (a gene counts when one of its ARG
    windows passes) and the false-positive share of non-ARG windows; per gene the best
    score over its ARG windows and its rank among all windows; the top-10 windows, marked
    when they overlap an rRNA/tRNA locus (found with the E. coli K-12 rRNA and tRNA genes
    from its GFF as queries, blastn -task blastn, evalue 1e-20). The S. epidermidis genes
    used as negatives are located in the assembly (exact match), so the non-ARG windows can
    also be split by whether their genes were in the train split or held out.

Output: <outdir>/results.md (printed), results.json, results.tsv (one row per model),
tracks_*.tsv, blast_hits.tsv and the figure (--figure; default
<outdir>/arg_track_s_epidermidis.png): ARG score along the assembly's contigs that carry hits,
hit regions shaded, one line per model, and the score distributions of ARG and non-ARG windows.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from runner import (
    DATA,
    NON,
    Runner,
    finish,
    load,
    missing_data,
    multiclass_argannot,
    parser,
    pyplot,
    require_tools,
    save_figure,
)

KS = (3, 4, 5, 6)
TRACK_K, TRACK_C = 8, 100
BLAST_EVALUE, BLAST_MIN_ID, BLAST_MIN_LEN = 1e-10, 80.0, 200
MIN_OVERLAP_SHARE, MIN_OVERLAP_NT = 0.5, 300  # ARG window: overlap >= 50% of the hit or >= 300 nt
FP_TARGET = 0.01
MODELS = {  # key → (legend name, colour); the first is the track model
    "kmer8c": (f"kmer-logreg k={TRACK_K} canonical C={TRACK_C}", "C0"),
    "kmer": ("kmer-logreg k-selected, C=1", "C2"),
    "gc": ("gc-logreg (GC only)", "C1"),
}


# ---------------------------------------------------------------- data set and models

def valid_scores(run: Runner, model: str, tag: str) -> dict:
    run("evaluate", "--model", model, "--dataset", "chunks.parquet", "--split", "valid",
        "--out", f"eval/{tag}_valid")
    m = load(run.outdir / "eval" / f"{tag}_valid" / "metrics.json")
    return {"f1_macro": m["f1_macro"], "mcc": m["mcc"], "accuracy": m["accuracy"]}


def select_k(run: Runner, seed: int) -> tuple[int, dict]:
    valid = {}
    for k in KS:
        run("train", "--dataset", "chunks.parquet", "--family", "kmer-logreg", "--kmer-size", k,
            "--seed", seed, "--out", f"models/kmer_k{k}")
        valid[k] = valid_scores(run, f"models/kmer_k{k}", f"kmer_k{k}")
    best = max(KS, key=lambda k: (valid[k]["f1_macro"], valid[k]["mcc"], -k))
    return best, valid


def binary_detection(predictions: Path) -> dict:
    """ARG (any class) vs non_resistant on the test genes, from evaluate's predictions.tsv."""
    from sklearn.metrics import matthews_corrcoef, roc_auc_score

    p = pd.read_csv(predictions, sep="\t")
    arg = (p["true_label"] != NON).to_numpy()
    called = (p["label"] != NON).to_numpy()
    return {"auroc": float(roc_auc_score(arg, 1 - p[f"prob_{NON}"])),
            "arg_recall": float(called[arg].mean()), "non_recall": float((~called[~arg]).mean()),
            "mcc": float(matthews_corrcoef(arg, called)), "n_arg": int(arg.sum()),
            "n_non": int((~arg).sum())}


# ---------------------------------------------------------------- BLAST and genome annotation

def blast_hits(run: Runner, argannot: Path, assembly: Path) -> pd.DataFrame:
    run.tool("makeblastdb", "-in", assembly.name, "-dbtype", "nucl", "-out", "blastdb/assembly")
    run.tool("blastn", "-query", str(argannot), "-db", "blastdb/assembly", "-evalue", str(BLAST_EVALUE),
             "-outfmt", "6 qseqid sseqid pident length qstart qend sstart send evalue bitscore qlen",
             "-num_threads", "2", stdout=run.outdir / "blast_raw.tsv")
    cols = "query contig pident length qstart qend sstart send evalue bitscore qlen".split()
    raw = pd.read_csv(run.outdir / "blast_raw.tsv", sep="\t", header=None, names=cols)
    hits = raw[(raw.pident >= BLAST_MIN_ID) & (raw.length >= BLAST_MIN_LEN)].copy()
    hits["start"] = hits[["sstart", "send"]].min(axis=1) - 1  # 0-based, half-open
    hits["end"] = hits[["sstart", "send"]].max(axis=1)
    hits["strand"] = np.where(hits.sstart <= hits.send, "+", "-")
    hits["gene"] = hits["query"].str.split("~~~").str[1]
    hits = hits.sort_values(["contig", "start"]).reset_index(drop=True)
    hits[["gene", "contig", "start", "end", "strand", "pident", "length", "qlen", "evalue"]].to_csv(
        run.outdir / "blast_hits.tsv", sep="\t", index=False)
    return hits


def rna_regions(run: Runner, genomes: Path) -> list[tuple[str, int, int]]:
    """rRNA and tRNA loci of the assembly, found with the E. coli K-12 ones as queries."""
    from seqclass.io.sequences import read_sequences

    fna, gff = genomes / "e_coli_K12_MG1655.fna.gz", genomes / "e_coli_K12_MG1655.gff.gz"
    if not (fna.exists() and gff.exists()):
        return []
    genome = next(iter(read_sequences(fna))).sequence
    with gzip.open(gff, "rt") as fh, open(run.outdir / "ecoli_rna_genes.fa", "w") as out:
        for line in fh:
            f = line.rstrip("\n").split("\t")
            if len(f) == 9 and f[2] in ("rRNA", "tRNA"):
                out.write(f">{f[8].split(';')[0][3:]}\n{genome[int(f[3]) - 1:int(f[4])]}\n")
    run.tool("blastn", "-task", "blastn", "-query", "ecoli_rna_genes.fa", "-db", "blastdb/assembly",
             "-evalue", "1e-20", "-outfmt", "6 qseqid sseqid pident length sstart send",
             "-num_threads", "2", stdout=run.outdir / "rna_gene_hits.tsv")
    regions = []
    for line in open(run.outdir / "rna_gene_hits.tsv"):
        _, contig, _, _, s, e = line.split("\t")
        regions.append((contig, min(int(s), int(e)) - 1, max(int(s), int(e))))
    return regions


def revcomp(seq: str) -> str:
    return seq.translate(str.maketrans("ACGTacgt", "TGCAtgca"))[::-1]


def negative_gene_coverage(orfs: Path, split: Path, contigs: dict[str, str]) -> tuple[dict, dict]:
    """Per contig, which bases lie in S. epidermidis negatives of the train split and which in
    negatives held out (valid/test). The ORFs are found in the assembly by exact match (either
    strand) on the contig named by their id (`<contig>_<n>`); their split is looked up by
    sequence (build merges identical sequences)."""
    from seqclass.io.sequences import read_sequences

    t = pq.read_table(split, columns=["sequence", "split"]).to_pandas()
    split_of = dict(zip(t["sequence"].str.upper(), t["split"]))
    cov = {s: {c: np.zeros(len(q), dtype=bool) for c, q in contigs.items()} for s in ("train", "held_out")}
    stats = {"orfs": 0, "located": 0, "train": 0, "held_out": 0, "not_in_split": 0}
    for rec in read_sequences(orfs):
        stats["orfs"] += 1
        seq = rec.sequence.upper()
        contig = rec.id.rsplit("_", 1)[0]
        if contig not in contigs:
            continue
        where = contigs[contig].upper().find(seq)
        if where < 0:
            where = contigs[contig].upper().find(revcomp(seq))
        if where < 0:
            continue
        stats["located"] += 1
        s = split_of.get(seq)
        if s is None:
            stats["not_in_split"] += 1
            continue
        group = "train" if s == "train" else "held_out"
        stats[group] += 1
        cov[group][contig][where:where + len(seq)] = True
    return cov, stats


def window_labels(track: pd.DataFrame, hits: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list]:
    """ARG window: overlaps a hit by >= MIN_OVERLAP_SHARE of its length or >= MIN_OVERLAP_NT;
    partial: overlaps a hit, but less. Returns (arg, partial, per hit the ARG-window indices)."""
    ids, st, en = track["id"].to_numpy(), track["start"].to_numpy(), track["end"].to_numpy()
    arg = np.zeros(len(track), dtype=bool)
    touched = np.zeros(len(track), dtype=bool)
    per_hit = []
    for h in hits.itertuples():
        ov = np.where(ids == h.contig, np.minimum(en, h.end) - np.maximum(st, h.start), 0).clip(0)
        full = (ov >= MIN_OVERLAP_SHARE * (h.end - h.start)) | (ov >= MIN_OVERLAP_NT)
        arg |= full
        touched |= ov > 0
        per_hit.append(np.flatnonzero(full))
    return arg, touched & ~arg, per_hit


def overlaps(contig: np.ndarray, start: np.ndarray, end: np.ndarray,
             regions: list[tuple[str, int, int]]) -> np.ndarray:
    hit = np.zeros(len(contig), dtype=bool)
    for c, s, e in regions:
        hit |= (contig == c) & (start < e) & (end > s)
    return hit


# ---------------------------------------------------------------- track metrics

def fp_threshold(neg: np.ndarray, share: float) -> float:
    """The smallest threshold t (a score seen among the negatives, or just above the highest)
    such that the share of negatives with score >= t is at most `share`."""
    cand = np.unique(neg)  # ascending
    passing = len(neg) - np.searchsorted(np.sort(neg), cand, side="left")  # count >= t
    ok = cand[passing <= share * len(neg)]
    return float(ok.min()) if ok.size else float(np.nextafter(neg.max(), np.inf))


def track_metrics(track: pd.DataFrame, per_hit: list[np.ndarray], genes: list[str]) -> dict:
    from sklearn.metrics import roc_auc_score

    score = track["score"].to_numpy()
    pos, neg = track["arg"].to_numpy(), track["nonarg"].to_numpy()
    called = (track["label"] != NON).to_numpy()
    t1 = fp_threshold(score[neg], FP_TARGET)
    ops = {}
    for name, passed, thr in (("score ≥ 0.5", score >= 0.5, 0.5),
                              (f"score ≥ t({FP_TARGET:.0%} FP)", score >= t1, t1),
                              ("arg-max call", called, None)):
        ops[name] = {"threshold": thr,
                     "arg_windows": int(passed[pos].sum()), "n_arg_windows": int(pos.sum()),
                     "genes": int(sum(passed[ix].any() for ix in per_hit)), "n_genes": len(per_hit),
                     "fp": int(passed[neg].sum()), "n_nonarg": int(neg.sum()),
                     "fp_share": float(passed[neg].mean())}
    order = (-score).argsort(kind="stable")
    gene_rows = []
    for g, ix in zip(genes, per_hit):
        best = ix[score[ix].argmax()]
        gene_rows.append({"gene": g, "windows": int(len(ix)), "max_score": float(score[best]),
                          "rank": int((score > score[best]).sum()) + 1,
                          "nonarg_above": int((score[neg] > score[best]).sum()),
                          "label": track["label"].iat[best]})
    return {"windows": int(len(track)), "arg_windows": int(pos.sum()),
            "partial_windows": int(track["partial"].sum()), "nonarg_windows": int(neg.sum()),
            "auroc": float(roc_auc_score(np.r_[np.ones(pos.sum()), np.zeros(neg.sum())],
                                         np.r_[score[pos], score[neg]])),
            "median_score_arg": float(np.median(score[pos])),
            "median_score_nonarg": float(np.median(score[neg])),
            "t_fp1": t1, "ops": ops, "genes": gene_rows,
            "top10": [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in
                      track.iloc[order[:10]][["id", "start", "end", "label", "score", "arg", "partial",
                                              "rna_gene"]].to_dict("records")]}


def negative_groups(track: pd.DataFrame, t1: float) -> dict:
    """FP shares of non-ARG windows by where their sequence came from in training."""
    score, neg = track["score"].to_numpy(), track["nonarg"].to_numpy()
    groups = {
        "≥50% in train-split negatives": neg & (track["cov_train"].to_numpy() >= 0.5),
        "≥50% in held-out negatives (valid/test)": neg & (track["cov_held_out"].to_numpy() >= 0.5),
        "other (mixed, intergenic, RNA, unplaced)": neg & (track["cov_train"].to_numpy() < 0.5)
        & (track["cov_held_out"].to_numpy() < 0.5),
    }
    return {g: {"n": int(m.sum()), "ge_0.5": float((score[m] >= 0.5).mean()) if m.any() else None,
                "ge_t1": float((score[m] >= t1).mean()) if m.any() else None,
                "median": float(np.median(score[m])) if m.any() else None}
            for g, m in groups.items()}


def gc_of(seq: str) -> float:
    seq = seq.upper()
    return (seq.count("G") + seq.count("C")) / max(1, len(seq))


# ---------------------------------------------------------------- figure

def figure(tracks: dict[str, pd.DataFrame], hits: pd.DataFrame, lengths: dict[str, int],
           tm: dict[str, dict], path: Path) -> None:
    plt = pyplot()
    contigs = sorted(hits["contig"].unique(), key=lambda c: -lengths[c])
    n = len(contigs)
    fig = plt.figure(figsize=(13, 2.7 * n + 3.0))
    gs = fig.add_gridspec(n + 1, 2, width_ratios=[2.2, 1], height_ratios=[1] * n + [1.05],
                          hspace=0.55, wspace=0.12)
    draw_order = list(tracks)[::-1]  # the track model last, on top
    first = None
    for row, contig in enumerate(contigs):
        h = hits[hits.contig == contig]
        lo, hi = h.start.min(), h.end.max()
        zoom = (max(0, lo - 15_000), min(lengths[contig], hi + 15_000))
        for col, (x0, x1) in enumerate([(0, lengths[contig]), zoom]):
            ax = fig.add_subplot(gs[row, col])
            first = first or ax
            for i, g in enumerate(h.itertuples()):
                ax.axvspan(g.start / 1e3, g.end / 1e3, color="red", alpha=0.18, lw=0)
                if col == 1:  # staggered so that neighbouring genes' names do not overlap
                    ax.text((g.start + g.end) / 2e3, 1.02 + 0.1 * i, g.gene, ha="center",
                            va="bottom", fontsize=6, clip_on=False)
            for key in draw_order:
                tr = tracks[key]
                t = tr[(tr["id"] == contig) & (tr["end"] > x0) & (tr["start"] < x1)]
                mid = (t["start"] + t["end"]) / 2e3
                main = key == next(iter(tracks))
                ax.plot(mid, t["score"], color=MODELS[key][1], alpha=1.0 if main else 0.75,
                        lw=(1.0 if col == 0 else 1.4) * (1.0 if main else 0.7),
                        marker="." if col == 1 else None, ms=3 if main else 2,
                        label=f"{MODELS[key][0]} (AUROC {tm[key]['auroc']:.2f})")
            ax.axhline(0.5, color="grey", lw=0.6, ls="--")
            ax.set_xlim(x0 / 1e3, x1 / 1e3)
            ax.set_ylim(0, 1)
            ax.set_xlabel(f"{contig} position (kb)" + (" — zoom on hits" if col else
                                                       f", {lengths[contig] / 1e3:.0f} kb"),
                          fontsize=8)
            if col == 0:
                ax.set_ylabel("ARG score\n1 − P(non_resistant)", fontsize=8)
            ax.tick_params(labelsize=7)
    sub = gs[n, :].subgridspec(1, len(tracks), wspace=0.25)
    bins = np.linspace(0, 1, 41)
    for i, (key, tr) in enumerate(tracks.items()):
        ax = fig.add_subplot(sub[0, i])
        m = tm[key]
        ax.hist(tr.loc[tr["nonarg"], "score"], bins=bins, color="grey", alpha=0.7,
                label=f"non-ARG windows (n={m['nonarg_windows']})")
        ax.hist(tr.loc[tr["arg"], "score"], bins=bins, color="red", alpha=0.8,
                label=f"ARG windows (n={m['arg_windows']})")
        ax.axvline(0.5, color="grey", lw=0.8, ls="--")
        ax.axvline(m["t_fp1"], color=MODELS[key][1], lw=1.2, ls=":",
                   label=f"1% FP threshold ({m['t_fp1']:.3f})")
        ax.set_yscale("log")
        ax.set_xlim(0, 1)
        ax.set_title(f"{MODELS[key][0]}: AUROC {m['auroc']:.3f}", fontsize=8, color=MODELS[key][1])
        ax.set_xlabel("ARG score, all windows of the assembly", fontsize=7)
        if i == 0:
            ax.set_ylabel("windows (log)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6, loc="upper center")
    handles, labels = first.get_legend_handles_labels()
    fig.legend(handles[::-1], labels[::-1], loc="upper center", ncol=3, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.965))
    fig.suptitle("S. epidermidis ST14 assembly, 1024-nt windows every 512 nt; red: BLAST hits to "
                 "ARG-ANNOT (≥80% id., ≥200 nt); AUROC: ARG vs non-ARG windows", fontsize=9, y=0.985)
    fig.subplots_adjust(left=0.06, right=0.98, top=0.915, bottom=0.05)
    save_figure(fig, path, tight=False)


# ---------------------------------------------------------------- report

def md_table(header: list[str], rows: list[list]) -> list[str]:
    fmt = [(f"{v:.3f}" if isinstance(v, float) else str(v)) for r in rows for v in r]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i in range(len(rows)):
        out.append("| " + " | ".join(fmt[i * len(header):(i + 1) * len(header)]) + " |")
    return out


def report(res: dict) -> str:
    names = {k: MODELS[k][0] for k in res["test"]}
    names["kmer"] = f"kmer-logreg k-selected (k={res['k']}), C=1"
    out = ["### Data set", "",
           f"- records kept: {res['build']['records_kept']} ({res['build']['task']}); "
           f"left out before build (multi-label): {', '.join(res['multilabel_dropped']) or 'none'}",
           f"- classes dropped by --min-class-size {res['min_class_size']}: "
           + (", ".join(f"{c} ({n})" for c, n in res["build"]["small_classes_dropped"].items())
              or "none"),
           f"- homology split at 0.8 (seed {res['seed']}): "
           + ", ".join(f"{s} {sum(c.values())} genes" for s, c in res["split"]["counts"].items())
           + f"; {res['split']['n_groups']} clusters; test genes ≥0.8 identity to train: "
           f"{res['split']['leakage']['test']['share_above_threshold']:.4f}",
           "- chunks (1024/512): " + ", ".join(f"{s} {n}" for s, n in res["chunks"].items()), "",
           "### Valid split (sequence level)", ""]
    rows = [[f"kmer-logreg k={k}, C=1", v["f1_macro"], v["mcc"], v["accuracy"],
             "← k-selected" if int(k) == res["k"] else ""] for k, v in res["valid"]["kmer"].items()]
    v = res["valid"]["kmer8c"]
    rows.append([names["kmer8c"], v["f1_macro"], v["mcc"], v["accuracy"], "track model (fixed)"])
    out += md_table(["model", "valid macro-F1", "valid MCC", "valid accuracy", ""], rows)
    out += ["", "### Test split (sequence level)", ""]
    rows = [[names[t], m["f1_macro"], m["mcc"], m["accuracy"], m["balanced_accuracy"],
             m["per_class"][NON]["recall"], m["n"]] for t, m in res["test"].items()]
    out += md_table(["model", "macro-F1", "MCC", "accuracy", "balanced acc.",
                     "non_resistant recall", "n"], rows)
    out += ["", "ARG (any class) vs non_resistant on the same test genes: AUROC of the ARG score "
            "1 − P(non_resistant), and the arg-max call collapsed to ARG / not ARG:", ""]
    out += md_table(["model", "AUROC", "MCC", "ARG genes called ARG", "non_resistant called non"],
                    [[names[t], b["auroc"], b["mcc"], f"{b['arg_recall']:.3f} (n={b['n_arg']})",
                      f"{b['non_recall']:.3f} (n={b['n_non']})"] for t, b in res["test_binary"].items()])
    out += ["", "Per-class test F1 (support = test genes):", ""]
    first = next(iter(res["test"]))
    labels = list(res["test"][first]["per_class"])
    rows = [[c, res["test"][first]["per_class"][c]["support"]]
            + [res["test"][t]["per_class"][c]["f1"] for t in res["test"]] for c in labels]
    out += md_table(["class", "support"] + [names[t] for t in res["test"]], rows)

    tm = res["tracks"]
    any_t = next(iter(tm.values()))
    out += ["", f"### Tracks on {res['assembly']}", "",
            f"BLAST hits (identity ≥ {BLAST_MIN_ID:.0f}%, length ≥ {BLAST_MIN_LEN}, "
            f"e ≤ {BLAST_EVALUE:g}; 0-based half-open):", ""]
    out += md_table(["gene", "contig", "start", "end", "strand", "identity", "aln length", "gene GC"],
                    [[h["gene"], h["contig"], h["start"], h["end"], h["strand"], h["pident"], h["length"],
                      res["gc_hits"][h["gene"]]] for h in res["hits"]])
    out += ["", f"Windows: {any_t['windows']}; ARG windows (overlap ≥ {MIN_OVERLAP_SHARE:.0%} of a hit "
            f"or ≥ {MIN_OVERLAP_NT} nt): {any_t['arg_windows']}; partial overlaps left out: "
            f"{any_t['partial_windows']}; non-ARG windows: {any_t['nonarg_windows']}. ARG windows per "
            "gene: " + ", ".join(f"{g['gene']} {g['windows']}" for g in any_t["genes"]) + ".", ""]
    out += md_table(["model", "AUROC ARG vs non-ARG windows", "median score ARG / non-ARG",
                     f"threshold at {FP_TARGET:.0%} FP"],
                    [[names[t], m["auroc"], f"{m['median_score_arg']:.3f} / {m['median_score_nonarg']:.3f}",
                      m["t_fp1"]] for t, m in tm.items()])
    out += ["", "Recall and false positives at three operating points (the 1%-FP threshold is set "
            "on this genome's non-ARG windows, in hindsight):", ""]
    rows = []
    for t, m in tm.items():
        for op, o in m["ops"].items():
            thr = "–" if o["threshold"] is None else f"{o['threshold']:.3f}"
            rows.append([names[t], op, thr, f"{o['arg_windows']}/{o['n_arg_windows']}",
                         f"{o['genes']}/{o['n_genes']}",
                         f"{o['fp_share']:.4f} ({o['fp']}/{o['n_nonarg']})"])
    out += md_table(["model", "operating point", "threshold", "ARG windows recalled", "genes recalled",
                     "FP share of non-ARG windows"], rows)
    out += ["", "Best ARG window of each gene: score (rank among all windows; non-ARG windows "
            "scoring higher; arg-max label):", ""]
    rows = []
    for i, g in enumerate(any_t["genes"]):
        rows.append([g["gene"], g["windows"]] + [
            f"{tm[t]['genes'][i]['max_score']:.3f} ({tm[t]['genes'][i]['rank']}/{tm[t]['windows']}; "
            f"{tm[t]['genes'][i]['nonarg_above']}; {tm[t]['genes'][i]['label']})" for t in tm])
    out += md_table(["gene", "ARG windows"] + [names[t] for t in tm], rows)
    ng = res["negative_groups"]
    st = res["orf_placement"]
    out += ["", "Non-ARG windows by the origin of their sequence (S. epidermidis negatives placed in the "
            f"assembly by exact match: {st['located']}/{st['orfs']}; {st['train']} in train, "
            f"{st['held_out']} in valid/test); share with score ≥ 0.5 / ≥ the model's 1%-FP "
            "threshold, and median score:", ""]
    groups = list(next(iter(ng.values())))
    rows = []
    for g in groups:
        row = [g, ng[next(iter(ng))][g]["n"]]
        for t in ng:
            d = ng[t][g]
            row.append("–" if d["n"] == 0 else f"{d['ge_0.5']:.3f} / {d['ge_t1']:.3f} / {d['median']:.3f}")
        rows.append(row)
    out += md_table(["non-ARG windows", "n"] + [names[t] for t in ng], rows)
    gw = res["gc_windows"]
    out += ["", "GC content: " + "; ".join(f"{g} {v['mean']:.3f} ± {v['sd']:.3f} (n={v['n']})"
                                         for g, v in res["gc_training"].items())
            + f". Windows of the assembly: median GC {gw['median_arg']:.3f} over ARG windows, "
            f"{gw['median_nonarg']:.3f} over non-ARG windows; AUROC of low GC alone (−GC as the "
            f"score): {gw['auroc_low_gc']:.3f}."]
    for t, m in tm.items():
        out += ["", f"Top-10 windows, {names[t]}:", ""]
        out += md_table(["contig", "start", "end", "arg-max label", "ARG score", "ARG window",
                         "rRNA/tRNA"],
                        [[w["id"], w["start"], w["end"], w["label"], w["score"],
                          "yes" if w["arg"] else ("partial" if w["partial"] else ""),
                          "yes" if w["rna_gene"] else ""] for w in m["top10"]])
    out += ["", f"{res['commands']} seqclass commands, {res['elapsed_s']:.0f} s wall "
            f"({os.cpu_count()} CPUs visible)"]
    return "\n".join(out)


def main() -> int:
    ap = parser(__doc__, data=DATA, seeds="one")
    ap.add_argument("--min-class-size", type=int, default=5)
    args = ap.parse_args()

    arg = args.data / "arg"
    inputs = [arg / "argannot.fasta", arg / "non_arg_orfs_s_epidermidis.fasta",
              arg / "non_arg_orfs_e_coli_K12.fasta", args.data / "genomes" / "s_epidermidis_ST14.fa.gz"]
    if missing_data(*inputs):
        return 0
    require_tools("blastn", "makeblastdb")
    argannot, sepi, ecoli, genome = (p.resolve() for p in inputs)
    run = Runner(args.outdir, __file__)
    out = run.outdir
    res: dict = {"seed": args.seed, "min_class_size": args.min_class_size, "assembly": genome.name,
                 "track_model": {"k": TRACK_K, "canonical": True, "c": TRACK_C}}

    # 1-3: data set and split
    res["multilabel_dropped"] = multiclass_argannot(argannot, out / "argannot.multiclass.fasta")
    run("build", "--input", "argannot.multiclass.fasta", f"non_resistant={sepi}",
        f"non_resistant={ecoli}", "--label-from", "argannot", "--min-class-size",
        args.min_class_size, "--out", "dataset.parquet")
    res["build"] = load(out / "dataset.summary.json")
    run("split", "--dataset", "dataset.parquet", "--out", "split.parquet", "--strategy", "homology",
        "--identity", "0.8", "--seed", args.seed, "--threads", args.threads)
    res["split"] = load(out / "split.summary.json")
    run.progress("split done")

    # 4-5: chunks, models, valid and test scores
    run("chunk", "--dataset", "split.parquet", "--window", 1024, "--stride", 512, "--out", "chunks.parquet")
    res["chunks"] = pd.Series(pq.read_table(out / "chunks.parquet", columns=["split"])
                              .column("split").to_pylist()).value_counts().to_dict()
    res["k"], valid_k = select_k(run, args.seed)
    run.progress(f"k={res['k']} chosen on valid")
    run("train", "--dataset", "chunks.parquet", "--family", "kmer-logreg", "--kmer-size", TRACK_K,
        "--canonical", "--c", TRACK_C, "--seed", args.seed, "--out", "models/kmer8c")
    res["valid"] = {"kmer": valid_k, "kmer8c": valid_scores(run, "models/kmer8c", "kmer8c")}
    run("train", "--dataset", "chunks.parquet", "--family", "gc-logreg", "--seed", args.seed,
        "--out", "models/gc")
    model_dirs = {"kmer8c": "models/kmer8c", "kmer": f"models/kmer_k{res['k']}", "gc": "models/gc"}
    res["test"], res["test_binary"] = {}, {}
    for tag, model in model_dirs.items():
        run("evaluate", "--model", model, "--dataset", "chunks.parquet", "--split", "test",
            "--out", f"eval/{tag}_test")
        res["test"][tag] = load(out / "eval" / f"{tag}_test" / "metrics.json")
        res["test_binary"][tag] = binary_detection(out / "eval" / f"{tag}_test" / "predictions.tsv")
    run.progress("models done")

    # 6-7: tracks, BLAST, window labels
    with gzip.open(genome, "rt") as src, open(out / "assembly.fa", "w") as dst:
        shutil.copyfileobj(src, dst)
    from seqclass.io.sequences import read_sequences
    contigs = {r.id: r.sequence for r in read_sequences(out / "assembly.fa")}
    lengths = {c: len(s) for c, s in contigs.items()}
    hits = blast_hits(run, argannot, out / "assembly.fa")
    rna = rna_regions(run, args.data / "genomes")
    cov, res["orf_placement"] = negative_gene_coverage(sepi, out / "split.parquet", contigs)
    genes = list(hits["gene"])
    tracks, per_hit = {}, None
    for tag, model in model_dirs.items():
        run("predict", "--model", model, "--input", str(genome), "--out", f"predictions_{tag}.tsv",
            "--tracks", f"tracks_{tag}.tsv")
        t = pd.read_csv(out / f"tracks_{tag}.tsv", sep="\t")
        t["score"] = 1.0 - t[f"prob_{NON}"]
        t["arg"], t["partial"], per_hit = window_labels(t, hits)
        t["nonarg"] = ~(t["arg"] | t["partial"])
        ids, st, en = t["id"].to_numpy(), t["start"].to_numpy(), t["end"].to_numpy()
        t["rna_gene"] = overlaps(ids, st, en, rna)
        for group in ("train", "held_out"):
            t[f"cov_{group}"] = [cov[group][c][a:b].mean() for c, a, b in zip(ids, st, en)]
        tracks[tag] = t
    res["hits"] = hits[["gene", "contig", "start", "end", "strand", "pident", "length"]].to_dict("records")
    res["tracks"] = {tag: track_metrics(t, per_hit, genes) for tag, t in tracks.items()}
    res["negative_groups"] = {tag: negative_groups(t, res["tracks"][tag]["t_fp1"])
                              for tag, t in tracks.items()}
    res["rna_gene_windows"] = int(next(iter(tracks.values()))["rna_gene"].sum())
    # GC diagnostics: how far does GC alone rank the ARG windows, and how do the classes differ
    from sklearn.metrics import roc_auc_score
    t = next(iter(tracks.values()))
    gc = np.array([gc_of(contigs[c][a:b]) for c, a, b in zip(t["id"], t["start"], t["end"])])
    pos, neg = t["arg"].to_numpy(), t["nonarg"].to_numpy()
    res["gc_windows"] = {"median_arg": float(np.median(gc[pos])), "median_nonarg": float(np.median(gc[neg])),
                         "auroc_low_gc": float(roc_auc_score(np.r_[np.ones(pos.sum()), np.zeros(neg.sum())],
                                                             np.r_[-gc[pos], -gc[neg]]))}
    res["gc_hits"] = {h.gene: gc_of(contigs[h.contig][h.start:h.end]) for h in hits.itertuples()}
    ds = pq.read_table(out / "dataset.parquet", columns=["sequence", "label", "source"]).to_pandas()
    group = np.where(ds["label"] != NON, "ARG-ANNOT genes", np.where(
        ds["source"].str.contains("epidermidis"), "non_resistant, S. epidermidis",
        "non_resistant, E. coli K-12"))
    ds_gc = pd.Series([gc_of(q) for q in ds["sequence"]]).groupby(group)
    res["gc_training"] = {g: {"n": int(v.size), "mean": float(v.mean()), "sd": float(v.std())}
                          for g, v in ds_gc}
    fig = args.figure or out / "arg_track_s_epidermidis.png"
    figure(tracks, hits, lengths, res["tracks"], fig)

    res["elapsed_s"] = run.elapsed
    res["commands"] = run.n
    table = [{"model": tag, "name": MODELS[tag][0], "test_f1_macro": res["test"][tag]["f1_macro"],
              "test_mcc": res["test"][tag]["mcc"], "test_accuracy": res["test"][tag]["accuracy"],
              "test_arg_auroc": res["test_binary"][tag]["auroc"], "track_auroc": res["tracks"][tag]["auroc"],
              "track_t_fp1": res["tracks"][tag]["t_fp1"]} for tag in model_dirs]
    return finish(out, report(res), res, fig, table=table)


if __name__ == "__main__":
    sys.exit(main())
