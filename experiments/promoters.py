"""B. subtilis promoters vs non-promoters: k-mer and GC baselines on homology and random splits.

    python experiments/promoters.py --outdir /tmp/promoters            # ~7 min on 2 cores
    python experiments/promoters.py --outdir /tmp/promoters --seeds 0 1 --figure docs/figures/x.png

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
        seqclass train --family kmer-logreg --kmer-size K --c C --seed S; seqclass evaluate --split valid
    (K*, C*) = the grid point with the highest valid MCC (ties: smaller k, then smaller C)
    seqclass evaluate --split test  (model K*, C*)                 "kmer-logreg, selected"
    seqclass evaluate --split test  (model k=6, C=1: the CLI default of `train`, no selection)
    seqclass train --family gc-logreg --seed S; seqclass evaluate --split test

Reported per seed and as mean ± sd over seeds (sample sd, ddof=1): test MCC, accuracy,
precision, recall and specificity of the `prom` class. The test split is never used to choose
anything: only the selected model and the fixed default are scored on it. Output:
<outdir>/results.json, <outdir>/results.md (the tables printed at the end) and a figure of
test MCC per seed (--figure, default <outdir>/promoters_mcc.png); results.tsv has the
per-seed rows. Shared machinery (Runner, options, results, figure): experiments/runner.py.
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

from runner import DATA, Runner, finish, load, mean_sd, metrics, missing_data, parser, strip_figure

DEFAULT_DATA = DATA / "promoters"
KS = (4, 5, 6, 7)
CS = (0.3, 1.0, 3.0, 10.0)
DEFAULT_K, DEFAULT_C = 6, 1.0  # `seqclass train --family kmer-logreg` without --kmer-size/--c
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
COLS = ("mcc", "accuracy", "precision", "recall", "specificity")


def fmt_c(c: float) -> str:
    return f"{c:g}"


def run_seed(run: Runner, strategy: str, seed: int, threads: int) -> list[dict]:
    tag = f"{strategy}_s{seed}"
    split = f"{tag}/split.parquet"
    (run.outdir / tag).mkdir(exist_ok=True)
    run("split", "--dataset", "dataset.parquet", "--out", split, "--strategy", strategy,
        "--identity", "0.8", "--seed", seed, "--threads", threads)
    summary = load(run.outdir / tag / "split.summary.json")
    leak = summary["leakage"]["test"]["share_above_threshold"]

    grid = [(k, c) for k in KS for c in CS]
    name = {(k, c): f"kmer_k{k}_c{fmt_c(c)}" for k, c in grid}
    run.many([[("train", "--dataset", split, "--family", "kmer-logreg", "--kmer-size", k, "--c", fmt_c(c),
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
        [("train", "--dataset", split, "--family", "gc-logreg", "--seed", seed, "--out", f"{tag}/gc"),
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
    colours = {"kmer-selected": "C0", "kmer-default": "C9", "gc-logreg": "C1"}
    short = {"kmer-selected": "k-mer, k & C\nchosen on valid", "kmer-default": "k-mer, k=6 C=1\n(default)",
             "gc-logreg": "GC only"}
    groups = [(s, m) for s in STRATEGIES for m in MODELS]
    strips = [(x, [r["mcc"] for r in rows if r["strategy"] == s and r["model"] == m], colours[m], "o")
              for x, (s, m) in enumerate(groups)]
    strip_figure(path, [f"{short[m]}\n{s} split" for s, m in groups], strips,
                 title="B. subtilis promoters vs non-promoters, 81 nt", title_size=10,
                 ylabel="test MCC (dot: one seed; bar: mean)", figsize=(7.5, 3.9),
                 lines=[(TARGET_MCC, "--", "grey", f"target {TARGET_MCC} (homology split)"),
                        (0.86, ":", "C2", "CNN, published (other split)"),
                        (0.759, ":", "C3", "Genomic-ULMFiT, published (other split)")],
                 dividers=[len(MODELS) - 0.5], xlim=(-0.5, len(groups) - 0.3))


def main() -> int:
    ap = parser(__doc__, data=DEFAULT_DATA, data_help="promoters folder",
                jobs_help="independent train/evaluate commands run at once (default 2)")
    args = ap.parse_args()

    prom, non = args.data / "Bacillus_prom.fa", args.data / "Bacillus_non_prom.fa"
    if missing_data(prom, non):
        return 0
    run = Runner(args.outdir, __file__, jobs=args.jobs)
    run("build", "--input", f"prom={prom.resolve()}", f"non={non.resolve()}",
        "--rename-duplicate-ids", "--out", "dataset.parquet")
    rows = []
    for strategy in STRATEGIES:
        for seed in args.seeds:
            rows += run_seed(run, strategy, seed, args.threads)
            done = [f"{r['model']} (k,C={kc_label(r)}) test MCC {r['mcc']:.3f}" for r in rows[-3:]]
            run.progress(f"{strategy} seed {seed}: " + ", ".join(done))
    elapsed = run.elapsed
    text = tables(rows, args.seeds)
    text += (f"\n\n{run.n} seqclass commands in {elapsed:.0f} s (wall), {args.jobs} at a time, "
             f"{os.cpu_count()} CPUs visible; commands in {args.outdir / 'commands.sh'}\n")
    fig = args.figure or args.outdir / "promoters_mcc.png"
    figure(rows, fig)
    return finish(args.outdir, text, {"rows": rows, "seeds": args.seeds, "grid": {"k": KS, "c": CS},
                                      "elapsed_s": elapsed, "commands": run.n, "jobs": args.jobs},
                  fig, table=[{k: v for k, v in r.items() if k != "valid_mcc_grid"} for r in rows])


if __name__ == "__main__":
    sys.exit(main())
