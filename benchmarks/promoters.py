"""B. subtilis promoters vs non-promoters: k-mer and GC baselines on homology and random splits.

    python benchmarks/promoters.py --outdir /tmp/promoters            # ~7 min on 2 cores
    python benchmarks/promoters.py --outdir /tmp/promoters --seeds 0 1 --figure docs/figures/x.png

Data: ../shared/data/promoters/Bacillus_prom.fa (373, label `prom`) and Bacillus_non_prom.fa
(1000, label `non`), 81 nt each (CNNPromoterData, Umarov & Solovyev 2017). The script exits 0
with a message when that folder is absent (`--data` points elsewhere).

Every step is the real CLI, run as `python -m seqclass <step> ...` in --outdir; each command
is appended to <outdir>/commands.sh (in a fixed order, also when --jobs runs independent
train/evaluate pairs side by side), so any number can be re-run by hand:

  seqclass build  --input prom=Bacillus_prom.fa non=Bacillus_non_prom.fa --rename-duplicate-ids
  per strategy (homology at identity 0.8 with the default clusterer, i.e. MMseqs2; random)
  and per seed S (the seed of both the split and the training):
    seqclass split --strategy STRATEGY --identity 0.8 --seed S --threads T
    for K in 4..7, C in 0.3 1 3 10:
        seqclass train --model kmer-logreg --k K --c C --seed S; seqclass evaluate --split valid
    (K*, C*) = the grid point with the highest valid MCC (ties: smaller k, then smaller C)
    seqclass evaluate --split test  (model K*, C*)                 "kmer-logreg, selected"
    seqclass evaluate --split test  (model k=6, C=1: the CLI default of `train`, no selection)
    seqclass train --model gc-logreg --seed S; seqclass evaluate --split test

Reported per seed and as mean ± sd over seeds (sample sd, ddof=1): test MCC, accuracy,
precision, recall and specificity of the `prom` class. The test split is never used to choose
anything: only the selected model and the fixed default are scored on it. Output:
<outdir>/results.json, <outdir>/results.md (the tables printed at the end) and a figure of
test MCC per seed (--figure, default <outdir>/promoters_mcc.png).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "promoters"
KS = (4, 5, 6, 7)
CS = (0.3, 1.0, 3.0, 10.0)
DEFAULT_K, DEFAULT_C = 6, 1.0  # `seqclass train --model kmer-logreg` without --k/--c
STRATEGIES = ("homology", "random")
MODELS = ("kmer-selected", "kmer-default", "gc-logreg")
MODEL_NAMES = {"kmer-selected": "kmer-logreg, k and C chosen on valid",
               "kmer-default": "kmer-logreg, k=6 C=1 (CLI default, fixed)",
               "gc-logreg": "gc-logreg (GC only)"}
TARGET_MCC = 0.70
PUBLISHED = [  # Genomic-ULMFiT README, "Other Bacterial Promoters"; their split, not ours
    ("CNN (Umarov & Solovyev 2017)", None, None, 0.91, 0.86, 0.95),
    ("Genomic-ULMFiT", 0.905, 0.857, 0.789, 0.759, 0.95),
]


def fmt_c(c: float) -> str:
    return f"{c:g}"


class Runner:
    """Runs `python -m seqclass ...` in outdir and logs each command to commands.sh."""

    def __init__(self, outdir: Path, jobs: int = 1, script: str = "benchmarks/promoters.py",
                 note: str = ""):
        self.outdir = outdir
        self.log = open(outdir / "commands.sh", "w")
        self.log.write(f"# commands run by {script} (cwd: this folder{note})\n")
        self.n = 0
        self.jobs = jobs
        self.lock = threading.Lock()

    def _log(self, args: tuple[str, ...]) -> None:
        self.log.write("seqclass " + shlex.join(args) + "\n")
        self.log.flush()

    def tool(self, args: list[str], stdout: Path | None = None) -> None:
        """Run a non-seqclass command (BLAST, say) in outdir, logged beside the seqclass ones."""
        self.log.write(shlex.join(args) + (f" > {stdout.relative_to(self.outdir)}" if stdout else "")
                       + "\n")
        self.log.flush()
        with open(stdout, "w") if stdout else open(os.devnull, "w") as out:
            proc = subprocess.run(args, cwd=self.outdir, stdout=out, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            sys.exit(f"failed: {shlex.join(args)}\n{proc.stderr.strip()}")

    def _exec(self, args: tuple[str, ...]) -> None:
        proc = subprocess.run([sys.executable, "-m", "seqclass", *args], cwd=self.outdir,
                              capture_output=True, text=True)
        with self.lock:
            self.n += 1
        if proc.returncode != 0:
            raise RuntimeError(f"failed: seqclass {shlex.join(args)}\n{proc.stderr.strip()}")

    def __call__(self, *args: str) -> None:
        self.many([[args]])

    def many(self, chains: list[list[tuple]]) -> None:
        """Run chains of commands, up to `jobs` chains at once; the commands of a chain in order.

        All commands are logged first, chain by chain, so commands.sh does not depend on timing."""
        chains = [[tuple(str(a) for a in cmd) for cmd in chain] for chain in chains]
        for chain in chains:
            for cmd in chain:
                self._log(cmd)

        def go(chain: list[tuple[str, ...]]) -> None:
            for cmd in chain:
                self._exec(cmd)

        try:
            with ThreadPoolExecutor(max_workers=self.jobs) as pool:
                for f in [pool.submit(go, c) for c in chains]:
                    f.result()
        except RuntimeError as e:
            sys.exit(str(e))


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

    grid = [(k, c) for k in KS for c in CS]
    name = {(k, c): f"kmer_k{k}_c{fmt_c(c)}" for k, c in grid}
    run.many([[("train", "--dataset", split, "--model", "kmer-logreg", "--k", k, "--c", fmt_c(c),
                 "--seed", seed, "--out", f"{tag}/{name[k, c]}"),
                ("evaluate", "--model", f"{tag}/{name[k, c]}", "--dataset", split, "--split", "valid",
                 "--out", f"{tag}/eval_{name[k, c]}_valid")] for k, c in grid])
    valid = {(k, c): metrics(run.outdir / tag / f"eval_{name[k, c]}_valid" / "metrics.json")["mcc"]
             for k, c in grid}
    best = max(grid, key=lambda kc: (valid[kc], -kc[0], -kc[1]))
    default = (DEFAULT_K, DEFAULT_C)
    run.many([
        [("evaluate", "--model", f"{tag}/{name[best]}", "--dataset", split, "--split", "test",
          "--out", f"{tag}/eval_kmer_selected_test")],
        [("evaluate", "--model", f"{tag}/{name[default]}", "--dataset", split, "--split", "test",
          "--out", f"{tag}/eval_kmer_default_test")],
        [("train", "--dataset", split, "--model", "gc-logreg", "--seed", seed, "--out", f"{tag}/gc"),
         ("evaluate", "--model", f"{tag}/gc", "--dataset", split, "--split", "test",
          "--out", f"{tag}/eval_gc_test")],
    ])
    valid_grid = {f"{k},{fmt_c(c)}": v for (k, c), v in valid.items()}
    rows = []
    for model, ev, kc in (("kmer-selected", "eval_kmer_selected_test", best),
                          ("kmer-default", "eval_kmer_default_test", default),
                          ("gc-logreg", "eval_gc_test", None)):
        rows.append({"strategy": strategy, "seed": seed, "model": model,
                     "k": kc[0] if kc else None, "c": kc[1] if kc else None,
                     "valid_mcc": valid[kc] if kc else None,
                     "valid_mcc_grid": valid_grid if model == "kmer-selected" else None,
                     "test_leakage_share": leak,
                     **metrics(run.outdir / tag / ev / "metrics.json")})
    return rows


def mean_sd(values: list[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


COLS = ("mcc", "accuracy", "precision", "recall", "specificity")


def kc_label(r: dict) -> str:
    return "–" if r["k"] is None else f"{r['k']}, {fmt_c(r['c'])}"


def tables(rows: list[dict], seeds: list[int]) -> str:
    out = [f"### Mean ± sd over seeds {', '.join(map(str, seeds))} (test split)", "",
           "| split | model | MCC | accuracy | precision | recall | specificity | k, C per seed | "
           f"MCC ≥ {TARGET_MCC}? |", "|---|---|---|---|---|---|---|---|---|"]
    for strategy in STRATEGIES:
        for model in MODELS:
            sel = [r for r in rows if r["strategy"] == strategy and r["model"] == model]
            if not sel:
                continue
            mcc = statistics.mean(r["mcc"] for r in sel)
            kcs = "; ".join(kc_label(r) for r in sel) if model == "kmer-selected" else (
                kc_label(sel[0]) if model == "kmer-default" else "–")
            out.append(f"| {strategy} | {MODEL_NAMES[model]} | "
                       + " | ".join(mean_sd([r[c] for r in sel]) for c in COLS)
                       + f" | {kcs} | {'yes' if mcc >= TARGET_MCC else 'no'} ({mcc:.3f}) |")
    out += ["", "### Per seed (test split)", "",
            "| split | seed | model | k, C | valid MCC | test MCC | accuracy | precision "
            "| recall | specificity | test share ≥0.8 id. to train |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        leak = "–" if r["test_leakage_share"] is None else f"{r['test_leakage_share']:.3f}"
        vm = "–" if r["valid_mcc"] is None else f"{r['valid_mcc']:.3f}"
        out.append(f"| {r['strategy']} | {r['seed']} | {MODEL_NAMES[r['model']]} | {kc_label(r)} | {vm} | "
                   + " | ".join(f"{r[c]:.3f}" for c in COLS) + f" | {leak} |")
    out += ["", "### Valid MCC over the grid (per cell: C = " + " / ".join(fmt_c(c) for c in CS)
            + "; * = chosen)", "",
            "| split | seed | " + " | ".join(f"k={k}" for k in KS) + " |",
            "|---|---|" + "---|" * len(KS)]
    for r in rows:
        if r["model"] != "kmer-selected":
            continue
        cells = []
        for k in KS:
            cells.append(" / ".join(f"{r['valid_mcc_grid'][f'{k},{fmt_c(c)}']:.3f}"
                                    + ("*" if (k, c) == (r["k"], r["c"]) else "") for c in CS))
        out.append(f"| {r['strategy']} | {r['seed']} | " + " | ".join(cells) + " |")
    out += ["", "Only the chosen grid point and the fixed default (k=6, C=1) are scored on the test split.",
            ""]
    out += ["### Published (their test split, not ours)", "",
            "| method | accuracy | precision | recall | MCC | specificity |", "|---|---|---|---|---|---|"]
    for name, *vals in PUBLISHED:
        out.append(f"| {name} | " + " | ".join("–" if v is None else f"{v:.3f}" for v in vals) + " |")
    return "\n".join(out)


def figure(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"kmer-selected": "C0", "kmer-default": "C9", "gc-logreg": "C1"}
    short = {"kmer-selected": "k-mer, k & C\nchosen on valid", "kmer-default": "k-mer, k=6 C=1\n(default)",
             "gc-logreg": "GC only"}
    fig, ax = plt.subplots(figsize=(7.5, 3.9))
    groups = [(s, m) for s in STRATEGIES for m in MODELS]
    for x, (s, m) in enumerate(groups):
        vals = [r["mcc"] for r in rows if r["strategy"] == s and r["model"] == m]
        if not vals:
            continue
        ax.scatter([x] * len(vals), vals, color=colours[m], zorder=3, s=18)
        mean = statistics.mean(vals)
        ax.hlines(mean, x - 0.28, x + 0.28, color="k")
        ax.text(x + 0.3, mean, f"{mean:.3f}", va="center", fontsize=7)
    ax.axvline(len(MODELS) - 0.5, color="lightgrey", lw=0.8)
    ax.axhline(TARGET_MCC, ls="--", color="grey", lw=1, label=f"target {TARGET_MCC} (homology split)")
    ax.axhline(0.86, ls=":", color="C2", lw=1, label="CNN, published (other split)")
    ax.axhline(0.759, ls=":", color="C3", lw=1, label="Genomic-ULMFiT, published (other split)")
    ax.set_xticks(range(len(groups)), [f"{short[m]}\n{s} split" for s, m in groups], fontsize=7)
    ax.set_xlim(-0.5, len(groups) - 0.3)
    ax.set_ylabel("test MCC (dot: one seed; bar: mean)", fontsize=8)
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
    ap.add_argument("--jobs", type=int, default=2,
                    help="independent train/evaluate commands run at once (default 2)")
    ap.add_argument("--figure", type=Path, default=None, help="PNG path (default: outdir)")
    args = ap.parse_args()

    prom, non = args.data / "Bacillus_prom.fa", args.data / "Bacillus_non_prom.fa"
    if not (prom.exists() and non.exists()):
        print(f"skipped: promoter data not found ({prom}, {non}); it lives in ../shared/data "
              "beside the clone")
        return 0
    args.outdir.mkdir(parents=True, exist_ok=True)
    run = Runner(args.outdir.resolve(), jobs=max(1, args.jobs))
    t0 = time.time()
    run("build", "--input", f"prom={prom.resolve()}", f"non={non.resolve()}",
        "--rename-duplicate-ids", "--out", "dataset.parquet")
    rows = []
    for strategy in STRATEGIES:
        for seed in args.seeds:
            rows += run_seed(run, strategy, seed, args.threads)
            done = [f"{r['model']} (k,C={kc_label(r)}) test MCC {r['mcc']:.3f}" for r in rows[-3:]]
            print(f"{strategy} seed {seed} [{time.time() - t0:.0f} s]: " + ", ".join(done), flush=True)
    elapsed = time.time() - t0
    text = tables(rows, args.seeds)
    text += (f"\n\n{run.n} seqclass commands in {elapsed:.0f} s (wall), {args.jobs} at a time, "
             f"{os.cpu_count()} CPUs visible; commands in {args.outdir / 'commands.sh'}\n")
    (args.outdir / "results.md").write_text(text)
    (args.outdir / "results.json").write_text(json.dumps(
        {"rows": rows, "seeds": args.seeds, "grid": {"k": KS, "c": CS}, "elapsed_s": elapsed,
         "commands": run.n, "jobs": args.jobs}, indent=2) + "\n")
    fig = args.figure or args.outdir / "promoters_mcc.png"
    figure(rows, fig)
    print()
    print(text)
    print(f"figure: {fig}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
