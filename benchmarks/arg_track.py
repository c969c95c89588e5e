"""ARG drug class from DNA: k-mer vs GC-only baselines, then ARG tracks along a real assembly.

    python benchmarks/arg_track.py --outdir /tmp/arg_track                 # ~2 min on 2 cores
    python benchmarks/arg_track.py --outdir /tmp/arg_track --figure docs/figures/arg_track_s_epidermidis.png

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
 4. seqclass chunk --window 1024 --stride 512 (NucArg's long-read setting). A second chunk
    table with --rc-prob 0.5 (reverse-complement half of the training windows) feeds a
    strand-augmented k-mer model, shown beside the main one: genes in an assembly lie on
    both strands, the training genes on their coding strand only.
 5. kmer-logreg for k in 3..6, k chosen by the valid split's macro-F1 (sequence level:
    window logits averaged per gene; ties: valid MCC, then smaller k); gc-logreg (GC fraction
    and its square only). The test split is scored for the chosen models only.
 6. seqclass predict --tracks on the assembly: one row per 1024/512 window.
 7. BLAST: makeblastdb on the assembly, blastn argannot.fasta against it (evalue 1e-10), hits
    with identity >= 80% and alignment length >= 200 are the ARG loci; a window is a hit
    window when it overlaps one. Per model: AUROC of the ARG score (1 - prob_non_resistant)
    of hit windows vs all others, hit windows with score >= 0.5, the share of non-hit windows
    with score >= 0.5, the same two for the arg-max call (label != non_resistant), and the
    top-10 windows. Top windows are annotated when they overlap an rRNA or tRNA gene (found
    with the E. coli K-12 rRNA and tRNA genes from its GFF as queries, blastn -task blastn,
    evalue 1e-20): non-coding sequence that no training set contains.

Output: <outdir>/results.md (printed), results.json, tracks_*.tsv, blast_hits.tsv and the
figure (--figure; default <outdir>/arg_track_s_epidermidis.png): ARG score along the
assembly's contigs that carry hits, hit regions shaded, one line per model.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
KS = (3, 4, 5, 6)
NON = "non_resistant"
BLAST_EVALUE, BLAST_MIN_ID, BLAST_MIN_LEN = 1e-10, 80.0, 200
MODELS = {  # key → (legend name, colour)
    "kmer": ("kmer-logreg", "C0"),
    "kmer_rc": ("kmer-logreg, RC-augmented", "C2"),
    "gc": ("gc-logreg (GC only)", "C1"),
}


class Runner:
    """Runs `python -m seqclass ...` in outdir and logs each command to commands.sh."""

    def __init__(self, outdir: Path):
        self.outdir = outdir
        self.log = open(outdir / "commands.sh", "w")
        self.log.write("# commands run by benchmarks/arg_track.py (cwd: this folder)\n")
        self.n = 0

    def __call__(self, *args: str) -> None:
        args = tuple(str(a) for a in args)
        self.log.write("seqclass " + shlex.join(args) + "\n")
        self.log.flush()
        proc = subprocess.run([sys.executable, "-m", "seqclass", *args], cwd=self.outdir,
                              capture_output=True, text=True)
        self.n += 1
        if proc.returncode != 0:
            sys.exit(f"failed: seqclass {shlex.join(args)}\n{proc.stderr.strip()}")

    def tool(self, *args: str, stdout: Path | None = None) -> None:
        args = tuple(str(a) for a in args)
        self.log.write(shlex.join(args) + (f" > {stdout.name}" if stdout else "") + "\n")
        self.log.flush()
        with open(stdout, "w") if stdout else open(os.devnull, "w") as out:
            proc = subprocess.run(args, cwd=self.outdir, stdout=out, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            sys.exit(f"failed: {shlex.join(args)}\n{proc.stderr.strip()}")


def load(path: Path) -> dict:
    return json.loads(path.read_text())


# ---------------------------------------------------------------- data set and models

def multiclass_argannot(src: Path, dst: Path) -> list[str]:
    """Copy argannot.fasta without genes of more than one class; return the ids left out."""
    from seqclass.data.labels import argannot_label
    from seqclass.io.sequences import read_sequences

    dropped = []
    with open(dst, "w") as fh:
        for rec in read_sequences(src):
            label = argannot_label(f"{rec.id} {rec.description}") or ""
            if ";" in label:
                dropped.append(f"{rec.id} ({label})")
                continue
            fh.write(f">{rec.id} {rec.description}".rstrip() + f"\n{rec.sequence}\n")
    return dropped


def select_k(run: Runner, chunks: str, tag: str, seed: int) -> tuple[int, dict]:
    valid = {}
    for k in KS:
        run("train", "--dataset", chunks, "--model", "kmer-logreg", "--k", k, "--seed", seed,
            "--out", f"models/{tag}_k{k}")
        run("evaluate", "--model", f"models/{tag}_k{k}", "--dataset", chunks, "--split", "valid",
            "--out", f"eval/{tag}_k{k}_valid")
        m = load(run.outdir / "eval" / f"{tag}_k{k}_valid" / "metrics.json")
        valid[k] = {"f1_macro": m["f1_macro"], "mcc": m["mcc"], "accuracy": m["accuracy"]}
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


# ---------------------------------------------------------------- BLAST and tracks

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


def overlaps(contig: np.ndarray, start: np.ndarray, end: np.ndarray,
             regions: list[tuple[str, int, int]]) -> np.ndarray:
    hit = np.zeros(len(contig), dtype=bool)
    for c, s, e in regions:
        hit |= (contig == c) & (start < e) & (end > s)
    return hit


def track_metrics(track: pd.DataFrame) -> dict:
    from sklearn.metrics import roc_auc_score

    hit, score = track["hit"].to_numpy(), track["score"].to_numpy()
    called = (track["label"] != NON).to_numpy()
    return {
        "windows": int(len(track)), "hit_windows": int(hit.sum()),
        "auroc": float(roc_auc_score(hit, score)),
        "hit_score_ge_0.5": int((score[hit] >= 0.5).sum()),
        "nonhit_score_ge_0.5_share": float((score[~hit] >= 0.5).mean()),
        "hit_called_arg": int(called[hit].sum()),
        "nonhit_called_arg_share": float(called[~hit].mean()),
        "median_score_hit": float(np.median(score[hit])),
        "median_score_nonhit": float(np.median(score[~hit])),
    }


def gc_of(seq: str) -> float:
    seq = seq.upper()
    return (seq.count("G") + seq.count("C")) / max(1, len(seq))


def gene_ranks(track: pd.DataFrame, hits: pd.DataFrame) -> list[dict]:
    """Per BLAST hit: the best-scoring window over it and that score's percentile in the genome."""
    pct = track["score"].rank(pct=True)
    out = []
    for h in hits.itertuples():
        sel = (track["id"] == h.contig) & (track["start"] < h.end) & (track["end"] > h.start)
        i = track.loc[sel, "score"].idxmax()
        out.append({"gene": h.gene, "max_score": float(track.at[i, "score"]),
                    "percentile": float(pct[i]), "label": track.at[i, "label"]})
    return out


def figure(tracks: dict[str, pd.DataFrame], hits: pd.DataFrame, lengths: dict[str, int],
           auroc: dict[str, float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    contigs = sorted(hits["contig"].unique(), key=lambda c: -lengths[c])
    fig, axes = plt.subplots(len(contigs), 2, figsize=(13, 2.9 * len(contigs)),
                             gridspec_kw={"width_ratios": [2.2, 1]}, squeeze=False)
    for row, contig in enumerate(contigs):
        h = hits[hits.contig == contig]
        lo, hi = h.start.min(), h.end.max()
        zoom = (max(0, lo - 15_000), min(lengths[contig], hi + 15_000))
        for col, (x0, x1) in enumerate([(0, lengths[contig]), zoom]):
            ax = axes[row, col]
            for n, g in enumerate(h.itertuples()):
                ax.axvspan(g.start / 1e3, g.end / 1e3, color="red", alpha=0.18, lw=0)
                if col == 1:  # staggered so that neighbouring genes' names do not overlap
                    ax.text((g.start + g.end) / 2e3, 1.02 + 0.1 * n, g.gene, ha="center",
                            va="bottom", fontsize=6, clip_on=False)
            for key, tr in tracks.items():
                t = tr[(tr["id"] == contig) & (tr["end"] > x0) & (tr["start"] < x1)]
                mid = (t["start"] + t["end"]) / 2e3
                ax.plot(mid, t["score"], color=MODELS[key][1], lw=0.9 if col == 0 else 1.3,
                        marker="." if col == 1 else None, ms=3,
                        label=f"{MODELS[key][0]} (hit-window AUROC {auroc[key]:.2f})")
            ax.axhline(0.5, color="grey", lw=0.6, ls="--")
            ax.set_xlim(x0 / 1e3, x1 / 1e3)
            ax.set_ylim(0, 1)
            ax.set_xlabel(f"{contig} position (kb)" + (" — zoom on hits" if col else
                                                       f", {lengths[contig] / 1e3:.0f} kb"),
                          fontsize=8)
            if col == 0:
                ax.set_ylabel("ARG score\n1 − P(non_resistant)", fontsize=8)
            ax.tick_params(labelsize=7)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=3, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.955))
    fig.suptitle("S. epidermidis ST14 assembly, 1024-nt windows every 512 nt; red: BLAST hits to "
                 "ARG-ANNOT (≥80% id., ≥200 nt)", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)


# ---------------------------------------------------------------- report

def md_table(header: list[str], rows: list[list]) -> list[str]:
    fmt = [(f"{v:.3f}" if isinstance(v, float) else str(v)) for r in rows for v in r]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i in range(len(rows)):
        out.append("| " + " | ".join(fmt[i * len(header):(i + 1) * len(header)]) + " |")
    return out


def report(res: dict) -> str:
    names = {k: MODELS[k][0] for k in res["test"]}
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
           "### k selection (valid split, sequence level)", ""]
    rows = []
    for tag in ("kmer", "kmer_rc"):
        if tag in res["valid"]:
            for k, v in res["valid"][tag].items():
                rows.append([names[tag], k, v["f1_macro"], v["mcc"], v["accuracy"],
                             "←" if int(k) == res["k"][tag] else ""])
    out += md_table(["model", "k", "valid macro-F1", "valid MCC", "valid accuracy", "chosen"], rows)
    out += ["", "### Test split (sequence level)", ""]
    rows = [[names[t], res["k"].get(t, "–"), m["f1_macro"], m["mcc"], m["accuracy"],
             m["balanced_accuracy"], m["per_class"][NON]["recall"], m["n"]]
            for t, m in res["test"].items()]
    out += md_table(["model", "k", "macro-F1", "MCC", "accuracy", "balanced acc.",
                     "non_resistant recall", "n"], rows)
    out += ["", "ARG (any class) vs non_resistant on the same test genes: AUROC of the ARG score "
            "1 − P(non_resistant), and the arg-max call collapsed to ARG / not ARG:", ""]
    out += md_table(["model", "AUROC", "MCC", "ARG genes called ARG", "non_resistant called non"],
                    [[names[t], b["auroc"], b["mcc"], f"{b['arg_recall']:.3f} (n={b['n_arg']})",
                      f"{b['non_recall']:.3f} (n={b['n_non']})"] for t, b in res["test_binary"].items()])
    out += ["", "Per-class test F1 (support = test genes):", ""]
    labels = list(next(iter(res["test"].values()))["per_class"])
    rows = [[c, res["test"][next(iter(res["test"]))]["per_class"][c]["support"]]
            + [res["test"][t]["per_class"][c]["f1"] for t in res["test"]] for c in labels]
    out += md_table(["class", "support"] + [names[t] for t in res["test"]], rows)
    out += ["", f"### Tracks on {res['assembly']}", "",
            f"BLAST hits (identity ≥ {BLAST_MIN_ID:.0f}%, length ≥ {BLAST_MIN_LEN}, "
            f"e ≤ {BLAST_EVALUE:g}):", ""]
    out += md_table(["gene", "contig", "start", "end", "strand", "identity", "aln length"],
                    [[h["gene"], h["contig"], h["start"], h["end"], h["strand"], h["pident"], h["length"]]
                     for h in res["hits"]])
    out += [""]
    rows = [[names[t], m["windows"], m["hit_windows"], m["auroc"],
             f"{m['hit_score_ge_0.5']}/{m['hit_windows']}", m["nonhit_score_ge_0.5_share"],
             f"{m['hit_called_arg']}/{m['hit_windows']}", m["nonhit_called_arg_share"],
             m["median_score_hit"], m["median_score_nonhit"]] for t, m in res["tracks"].items()]
    out += md_table(["model", "windows", "hit windows", "AUROC", "hit score ≥ 0.5",
                     "non-hit score ≥ 0.5 (FP share)", "hit called ARG (arg-max)",
                     "non-hit called ARG", "median score hit", "median score non-hit"], rows)
    gw = res["gc_windows"]
    out += ["", "GC content: " + "; ".join(f"{g} {v['mean']:.3f} ± {v['sd']:.3f} (n={v['n']})"
                                         for g, v in res["gc_training"].items())
            + f". Windows of the assembly: median GC {gw['median_hit']:.3f} over hits, "
            f"{gw['median_nonhit']:.3f} elsewhere; AUROC of low GC alone (−GC as the score): "
            f"{gw['auroc_low_gc']:.3f}."]
    out += ["", "Best window over each BLAST hit (score, percentile of all windows, arg-max label):", ""]
    genes = [g["gene"] for g in next(iter(res["gene_ranks"].values()))]
    ranks = res["gene_ranks"]
    rows = [[g] + [f"{ranks[t][i]['max_score']:.3f} ({ranks[t][i]['percentile']:.3f}, "
                   f"{ranks[t][i]['label']})" for t in ranks] for i, g in enumerate(genes)]
    rows = [r[:1] + [f"{res['gc_hits'][r[0]]:.3f}"] + r[1:] for r in rows]
    out += md_table(["gene", "gene GC"] + [names[t] for t in res["gene_ranks"]], rows)
    for t, top in res["top10"].items():
        out += ["", f"Top-10 windows, {names[t]}:", ""]
        out += md_table(["contig", "start", "end", "arg-max label", "ARG score", "BLAST hit",
                         "rRNA/tRNA"],
                        [[w["id"], w["start"], w["end"], w["label"], w["score"],
                          "yes" if w["hit"] else "", "yes" if w["rna_gene"] else ""] for w in top])
    out += ["", f"{res['commands']} seqclass commands, {res['elapsed_s']:.0f} s wall "
            f"({os.cpu_count()} CPUs visible)"]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--outdir", type=Path, required=True, help="scratch/output folder (created)")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    ap.add_argument("--seed", type=int, default=0, help="split and training seed")
    ap.add_argument("--threads", type=int, default=2, help="threads for `seqclass split`")
    ap.add_argument("--min-class-size", type=int, default=5)
    ap.add_argument("--no-rc-variant", action="store_true",
                    help="skip the reverse-complement-augmented k-mer model")
    ap.add_argument("--figure", type=Path, default=None, help="PNG path (default: outdir)")
    args = ap.parse_args()

    arg = args.data / "arg"
    inputs = [arg / "argannot.fasta", arg / "non_arg_orfs_s_epidermidis.fasta",
              arg / "non_arg_orfs_e_coli_K12.fasta", args.data / "genomes" / "s_epidermidis_ST14.fa.gz"]
    missing = [str(p) for p in inputs if not p.exists()]
    if missing:
        print(f"skipped: data not found ({', '.join(missing)}); it lives in ../shared/data beside "
              "the clone")
        return 0
    for tool in ("blastn", "makeblastdb"):
        if not shutil.which(tool):
            sys.exit(f"{tool} (NCBI BLAST+) is not on PATH")
    argannot, sepi, ecoli, genome = (p.resolve() for p in inputs)
    out = args.outdir.resolve()
    out.mkdir(parents=True, exist_ok=True)
    run = Runner(out)
    t0 = time.time()
    res: dict = {"seed": args.seed, "min_class_size": args.min_class_size, "assembly": genome.name}

    # 1-3: data set and split
    res["multilabel_dropped"] = multiclass_argannot(argannot, out / "argannot.multiclass.fasta")
    run("build", "--input", "argannot.multiclass.fasta", f"non_resistant={sepi}",
        f"non_resistant={ecoli}", "--label-from", "argannot", "--min-class-size",
        args.min_class_size, "--out", "dataset.parquet")
    res["build"] = load(out / "dataset.summary.json")
    run("split", "--dataset", "dataset.parquet", "--out", "split.parquet", "--strategy", "homology",
        "--identity", "0.8", "--seed", args.seed, "--threads", args.threads)
    res["split"] = load(out / "split.summary.json")
    print("split done", f"{time.time() - t0:.0f} s", flush=True)

    # 4-5: chunks, models, test scores
    run("chunk", "--dataset", "split.parquet", "--window", 1024, "--stride", 512, "--out", "chunks.parquet")
    res["chunks"] = pd.Series(pq.read_table(out / "chunks.parquet", columns=["split"])
                              .column("split").to_pylist()).value_counts().to_dict()
    variants = {"kmer": "chunks.parquet"}
    if not args.no_rc_variant:
        run("chunk", "--dataset", "split.parquet", "--window", 1024, "--stride", 512,
            "--rc-prob", 0.5, "--seed", args.seed, "--out", "chunks_rc.parquet")
        variants["kmer_rc"] = "chunks_rc.parquet"
    res["k"], res["valid"], res["test"], res["test_binary"], model_dirs = {}, {}, {}, {}, {}
    for tag, chunks in variants.items():
        res["k"][tag], res["valid"][tag] = select_k(run, chunks, tag, args.seed)
        model_dirs[tag] = f"models/{tag}_k{res['k'][tag]}"
        print(f"{tag}: k={res['k'][tag]} chosen on valid", f"{time.time() - t0:.0f} s", flush=True)
    run("train", "--dataset", "chunks.parquet", "--model", "gc-logreg", "--seed", args.seed,
        "--out", "models/gc")
    model_dirs["gc"] = "models/gc"
    for tag, model in model_dirs.items():
        run("evaluate", "--model", model, "--dataset", "chunks.parquet", "--split", "test",
            "--out", f"eval/{tag}_test")
        res["test"][tag] = load(out / "eval" / f"{tag}_test" / "metrics.json")
        res["test_binary"][tag] = binary_detection(out / "eval" / f"{tag}_test" / "predictions.tsv")

    # 6-7: tracks and BLAST
    with gzip.open(genome, "rt") as src, open(out / "assembly.fa", "w") as dst:
        shutil.copyfileobj(src, dst)
    from seqclass.io.sequences import read_sequences
    contigs = {r.id: r.sequence for r in read_sequences(out / "assembly.fa")}
    lengths = {c: len(s) for c, s in contigs.items()}
    hits = blast_hits(run, argannot, out / "assembly.fa")
    rna = rna_regions(run, args.data / "genomes")
    regions = list(zip(hits.contig, hits.start, hits.end))
    tracks = {}
    for tag, model in model_dirs.items():
        run("predict", "--model", model, "--input", str(genome), "--out", f"predictions_{tag}.tsv",
            "--tracks", f"tracks_{tag}.tsv")
        t = pd.read_csv(out / f"tracks_{tag}.tsv", sep="\t")
        t["score"] = 1.0 - t[f"prob_{NON}"]
        ids, st, en = t["id"].to_numpy(), t["start"].to_numpy(), t["end"].to_numpy()
        t["hit"] = overlaps(ids, st, en, regions)
        t["rna_gene"] = overlaps(ids, st, en, rna)
        tracks[tag] = t
    res["hits"] = hits[["gene", "contig", "start", "end", "strand", "pident", "length"]].to_dict("records")
    res["tracks"] = {tag: track_metrics(t) for tag, t in tracks.items()}
    res["gene_ranks"] = {tag: gene_ranks(t, hits) for tag, t in tracks.items()}
    res["top10"] = {tag: t.sort_values("score", ascending=False).head(10)[
        ["id", "start", "end", "label", "score", "hit", "rna_gene"]].to_dict("records")
        for tag, t in tracks.items()}
    res["rna_gene_windows"] = int(next(iter(tracks.values()))["rna_gene"].sum())
    # GC diagnostics: how far does GC alone rank the hit windows, and how do the classes differ
    from sklearn.metrics import roc_auc_score
    t = next(iter(tracks.values()))
    gc = np.array([gc_of(contigs[c][a:b]) for c, a, b in zip(t["id"], t["start"], t["end"])])
    hit = t["hit"].to_numpy()
    res["gc_windows"] = {"median_hit": float(np.median(gc[hit])),
                         "median_nonhit": float(np.median(gc[~hit])),
                         "auroc_low_gc": float(roc_auc_score(hit, -gc))}
    res["gc_hits"] = {h.gene: gc_of(contigs[h.contig][h.start:h.end]) for h in hits.itertuples()}
    ds = pq.read_table(out / "dataset.parquet", columns=["sequence", "label", "source"]).to_pandas()
    group = np.where(ds["label"] != NON, "ARG-ANNOT genes", np.where(
        ds["source"].str.contains("epidermidis"), "non_resistant, S. epidermidis",
        "non_resistant, E. coli K-12"))
    ds_gc = pd.Series([gc_of(q) for q in ds["sequence"]]).groupby(group)
    res["gc_training"] = {g: {"n": int(v.size), "mean": float(v.mean()), "sd": float(v.std())}
                          for g, v in ds_gc}
    fig = args.figure or out / "arg_track_s_epidermidis.png"
    figure(tracks, hits, lengths, {t: m["auroc"] for t, m in res["tracks"].items()}, fig)

    res["elapsed_s"] = time.time() - t0
    res["commands"] = run.n
    text = report(res)
    (out / "results.md").write_text(text + "\n")
    (out / "results.json").write_text(json.dumps(res, indent=2, default=lambda o: o.item()) + "\n")
    print()
    print(text)
    print(f"\nfigure: {fig}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
