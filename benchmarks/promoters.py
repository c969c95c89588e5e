"""B. subtilis promoters vs non-promoters: k-mer and GC baselines on homology and random splits.

    python benchmarks/promoters.py --outdir /tmp/promoters            # ~4 min on 2 cores
    python benchmarks/promoters.py --outdir /tmp/promoters --seeds 0 1 --figure docs/figures/x.png

Data: ../shared/data/promoters/Bacillus_prom.fa (373, label `prom`) and Bacillus_non_prom.fa
(1000, label `non`), 81 nt each (CNNPromoterData, Umarov & Solovyev 2017). The script exits 0
with a message when that folder is absent (`--data` points elsewhere).

Every step is the real CLI, run as `python -m seqclass <step> ...` in --outdir; each command
is appended to <outdir>/commands.sh, so any number can be re-run by hand:

  seqclass build  --input prom=Bacillus_prom.fa non=Bacillus_non_prom.fa --rename-duplicate-ids
  per strategy (homology at identity 0.8 with the default clusterer, i.e. MMseqs2; random)
  and per seed S (the seed of both the split and the training):
    seqclass split --strategy STRATEGY --identity 0.8 --seed S --threads T
    for k in 3..6: seqclass train --model kmer-logreg --k K --seed S; seqclass evaluate --split valid
    k* = the k with the highest valid MCC (ties: the smaller k); the test split is scored for k* only
    seqclass evaluate --split test  (model k*)
    seqclass train --model gc-logreg --seed S; seqclass evaluate --split test

Reported per seed and as mean ± sd over seeds (sample sd, ddof=1): test MCC, accuracy,
precision, recall and specificity of the `prom` class. The test split is never used to choose
anything. Output: <outdir>/results.json, <outdir>/results.md (the tables printed at the end)
and a figure of test MCC per seed (--figure, default <outdir>/promoters_mcc.png).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "promoters"
KS = (3, 4, 5, 6)
STRATEGIES = ("homology", "random")
TARGET_MCC = 0.70
PUBLISHED = [  # Genomic-ULMFiT README, "Other Bacterial Promoters"; their split, not ours
    ("CNN (Umarov & Solovyev 2017)", None, None, 0.91, 0.86, 0.95),
    ("Genomic-ULMFiT", 0.905, 0.857, 0.789, 0.759, 0.95),
]


class Runner:
    """Runs `python -m seqclass ...` in outdir and logs each command to commands.sh."""

    def __init__(self, outdir: Path):
        self.outdir = outdir
        self.log = open(outdir / "commands.sh", "w")
        self.log.write("# commands run by benchmarks/promoters.py (cwd: this folder)\n")
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


def metrics(path: Path) -> dict:
    m = json.loads(path.read_text())
    pos = m["per_class"][m["positive_class"]]
    return {"mcc": m["mcc"], "accuracy": m["accuracy"], "precision": pos["precision"],
            "recall": pos["recall"], "specificity": pos["specificity"], "roc_auc": m["roc_auc"],
            "f1_macro": m["f1_macro"], "n": m["n"]}


def run_seed(run: Runner, strategy: str, seed: int, threads: int) -> list[dict]:
    tag = f"{strategy}_s{seed}"
    split = f"{tag}/split.parquet"
    (run.outdir / tag).mkdir(exist_ok=True)
    run("split", "--dataset", "dataset.parquet", "--out", split, "--strategy", strategy,
        "--identity", "0.8", "--seed", seed, "--threads", threads)
    summary = json.loads((run.outdir / tag / "split.summary.json").read_text())
    leak = summary["leakage"]["test"]["share_above_threshold"]

    valid = {}
    for k in KS:
        run("train", "--dataset", split, "--model", "kmer-logreg", "--k", k, "--seed", seed,
            "--out", f"{tag}/kmer_k{k}")
        run("evaluate", "--model", f"{tag}/kmer_k{k}", "--dataset", split, "--split", "valid",
            "--out", f"{tag}/eval_kmer_k{k}_valid")
        valid[k] = metrics(run.outdir / tag / f"eval_kmer_k{k}_valid" / "metrics.json")["mcc"]
    best = max(KS, key=lambda k: (valid[k], -k))
    run("evaluate", "--model", f"{tag}/kmer_k{best}", "--dataset", split, "--split", "test",
        "--out", f"{tag}/eval_kmer_test")
    run("train", "--dataset", split, "--model", "gc-logreg", "--seed", seed, "--out", f"{tag}/gc")
    run("evaluate", "--model", f"{tag}/gc", "--dataset", split, "--split", "test",
        "--out", f"{tag}/eval_gc_test")
    rows = []
    for model, ev, k in (("kmer-logreg", "eval_kmer_test", best), ("gc-logreg", "eval_gc_test", None)):
        rows.append({"strategy": strategy, "seed": seed, "model": model, "k": k,
                     "valid_mcc_by_k": valid if k else None, "valid_mcc": valid[k] if k else None,
                     "test_leakage_share": leak,
                     **metrics(run.outdir / tag / ev / "metrics.json")})
    return rows


def mean_sd(values: list[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


COLS = ("mcc", "accuracy", "precision", "recall", "specificity")


def tables(rows: list[dict], seeds: list[int]) -> str:
    out = ["### Per seed (test split; k chosen on the valid split)", "",
           "| split | seed | model | k | valid MCC per k (3/4/5/6) | test MCC | accuracy | precision "
           "| recall | specificity | test share ≥0.8 id. to train |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        by_k = "/".join(f"{r['valid_mcc_by_k'][k]:.3f}" for k in KS) if r["valid_mcc_by_k"] else "–"
        leak = "–" if r["test_leakage_share"] is None else f"{r['test_leakage_share']:.3f}"
        out.append(f"| {r['strategy']} | {r['seed']} | {r['model']} | {r['k'] or '–'} | {by_k} | "
                   + " | ".join(f"{r[c]:.3f}" for c in COLS) + f" | {leak} |")
    out += ["", f"### Mean ± sd over seeds {', '.join(map(str, seeds))} (test split)", "",
            "| split | model | MCC | accuracy | precision | recall | specificity | k chosen | "
            f"MCC ≥ {TARGET_MCC}? |", "|---|---|---|---|---|---|---|---|---|"]
    for strategy in STRATEGIES:
        for model in ("kmer-logreg", "gc-logreg"):
            sel = [r for r in rows if r["strategy"] == strategy and r["model"] == model]
            if not sel:
                continue
            mcc = statistics.mean(r["mcc"] for r in sel)
            ks = ",".join(str(r["k"]) for r in sel) if model == "kmer-logreg" else "–"
            out.append(f"| {strategy} | {model} | "
                       + " | ".join(mean_sd([r[c] for r in sel]) for c in COLS)
                       + f" | {ks} | {'yes' if mcc >= TARGET_MCC else 'no'} ({mcc:.3f}) |")
    out += ["", "### Published (their test split, not ours)", "",
            "| method | accuracy | precision | recall | MCC | specificity |", "|---|---|---|---|---|---|"]
    for name, *vals in PUBLISHED:
        out.append(f"| {name} | " + " | ".join("–" if v is None else f"{v:.3f}" for v in vals) + " |")
    return "\n".join(out)


def figure(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    groups = [(s, m) for s in STRATEGIES for m in ("kmer-logreg", "gc-logreg")]
    for x, (s, m) in enumerate(groups):
        vals = [r["mcc"] for r in rows if r["strategy"] == s and r["model"] == m]
        if not vals:
            continue
        ax.scatter([x] * len(vals), vals, color="C0" if m == "kmer-logreg" else "C1", zorder=3)
        ax.hlines(statistics.mean(vals), x - 0.25, x + 0.25, color="k")
    ax.axhline(TARGET_MCC, ls="--", color="grey", lw=1, label=f"target {TARGET_MCC}")
    ax.axhline(0.86, ls=":", color="C2", lw=1, label="CNN, published (other split)")
    ax.axhline(0.759, ls=":", color="C3", lw=1, label="Genomic-ULMFiT, published")
    ax.set_xticks(range(len(groups)), [f"{m}\n{s} split" for s, m in groups], fontsize=8)
    ax.set_ylabel("test MCC (one dot per seed)")
    ax.set_title("B. subtilis promoters vs non-promoters, 81 nt", fontsize=10)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--outdir", type=Path, required=True, help="scratch/output folder (created)")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="promoters folder")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--threads", type=int, default=2, help="threads for `seqclass split`")
    ap.add_argument("--figure", type=Path, default=None, help="PNG path (default: outdir)")
    args = ap.parse_args()

    prom, non = args.data / "Bacillus_prom.fa", args.data / "Bacillus_non_prom.fa"
    if not (prom.exists() and non.exists()):
        print(f"skipped: promoter data not found ({prom}, {non}); it lives in ../shared/data "
              "beside the clone")
        return 0
    args.outdir.mkdir(parents=True, exist_ok=True)
    run = Runner(args.outdir.resolve())
    t0 = time.time()
    run("build", "--input", f"prom={prom.resolve()}", f"non={non.resolve()}",
        "--rename-duplicate-ids", "--out", "dataset.parquet")
    rows = []
    for strategy in STRATEGIES:
        for seed in args.seeds:
            rows += run_seed(run, strategy, seed, args.threads)
            done = [f"{r['model']}" + (f" (k={r['k']})" if r["k"] else "") + f" test MCC {r['mcc']:.3f}"
                    for r in rows[-2:]]
            print(f"{strategy} seed {seed}: " + ", ".join(done), flush=True)
    elapsed = time.time() - t0
    text = tables(rows, args.seeds)
    text += (f"\n\n{run.n} seqclass commands in {elapsed:.0f} s (wall), "
             f"{os.cpu_count()} CPUs visible; commands in {args.outdir / 'commands.sh'}\n")
    (args.outdir / "results.md").write_text(text)
    (args.outdir / "results.json").write_text(json.dumps(
        {"rows": rows, "seeds": args.seeds, "elapsed_s": elapsed, "commands": run.n}, indent=2) + "\n")
    fig = args.figure or args.outdir / "promoters_mcc.png"
    figure(rows, fig)
    print()
    print(text)
    print(f"figure: {fig}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
