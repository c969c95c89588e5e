"""B. subtilis promoters: deep families (cnn, awd-lstm pretrained / from scratch) vs the k-mer baseline.

    python experiments/promoters_deep.py --outdir /tmp/promoters_deep        # ~10-15 min on 2 cores
    python experiments/promoters_deep.py --outdir /tmp/pd --seeds 0 --no-scratch --figure x.png

Data: ../shared/data/promoters/Bacillus_{prom,non_prom}.fa (as experiments/promoters.py) and,
for the language model, ../shared/data/genomes/s_epidermidis_ST14.fa.gz. The script exits 0
with a message when either is absent (`--data`, `--genome` point elsewhere).

Every step is the real CLI, run as `python -m seqclass <step> ...` in --outdir with
OMP_NUM_THREADS=--torch-threads (default 1: on a small CPU, one thread per process and
--jobs processes side by side is much faster for these tiny networks than one process with all
cores). Each command is appended to <outdir>/commands.sh, in a fixed order:

  seqclass build    --input prom=Bacillus_prom.fa non=Bacillus_non_prom.fa --rename-duplicate-ids
  seqclass pretrain --input s_epidermidis_ST14.fa.gz --kmer-size 3 --kmer-stride 1 (small AWD-LSTM LM)
  per seed S (the seed of both the split and the training):
    seqclass split --strategy homology --identity 0.8 --seed S --threads T   (as promoters.py)
    seqclass train --family kmer-logreg --kmer-size 6 --c 1 (the fixed baseline; same split check)
    seqclass train --family cnn --rc-average ...    (global max-pool: position-blind)
    seqclass train --family cnn --pooling flatten --max-len 81 --pool-size 4 --conv-layers 2 ...
        for --channels 64/128 x --kernel-size 9/15/21 (the position-aware CNNProm design)
    seqclass train --family awd-lstm --pretrained lm ...
    seqclass train --family awd-lstm ... (from scratch; --no-scratch skips it)
    each model: seqclass evaluate --split valid, seqclass evaluate --split test

The deep families' settings are fixed below; the valid split drives early stopping
(best-valid-MCC weights) and, for the position-aware CNN, picks one of the six channel x kernel
settings by its mean valid MCC over the seeds (the same setting for every seed). The test split
chooses nothing. Reported per seed and as
mean ± sd (ddof=1): test MCC, accuracy, precision, recall, specificity of `prom`, next to the
k-mer baseline selected on valid in experiments/promoters.py (its numbers from docs/results.md,
section A; same splits). Output: <outdir>/results.json, results.md, results.tsv (the
per-seed rows) and a figure (--figure).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

from runner import DATA, Runner, finish, load, mean_sd, metrics, missing_data, parser, strip_figure

DEFAULT_DATA = DATA / "promoters"
DEFAULT_GENOME = DATA / "genomes" / "s_epidermidis_ST14.fa.gz"
TARGET_MCC = 0.80
GRID = tuple(f"cnnpos-c{c}-k{k}" for c in (64, 128) for k in (9, 15, 21))  # see MODELS
COLS = ("mcc", "accuracy", "precision", "recall", "specificity")

# Scaled-down Genomic-ULMFiT language model: 3-mers every base, 2 LSTM layers of 256 units.
PRETRAIN = ("--kmer-size", "3", "--kmer-stride", "1", "--embed-dim", "64", "--hidden", "256", "--layers", "2",
            "--bptt", "70", "--batch-size", "32", "--max-steps", "1000", "--lr", "3e-3",
            "--eval-every", "250", "--seed", "0")
DEEP = ("--batch-size", "64", "--patience", "8", "--early-stop-metric", "mcc")
MODELS = {
    "kmer-default": ("--family", "kmer-logreg", "--kmer-size", "6", "--c", "1"),
    "cnn": ("--family", "cnn", "--rc-average", "--channels", "64", "--kernel-size", "9",
            "--conv-layers", "3", "--epochs", "30", *DEEP),
    **{f"cnnpos-c{c}-k{k}": ("--family", "cnn", "--pooling", "flatten", "--max-len", "81",
                             "--pool-size", "4", "--conv-layers", "2", "--channels", str(c),
                             "--kernel-size", str(k), "--dropout", "0.3", "--epochs", "50",
                             "--patience", "10", "--batch-size", "32", "--early-stop-metric", "mcc")
       for c in (64, 128) for k in (9, 15, 21)},
    "awd-pretrained": ("--family", "awd-lstm", "--pretrained", "lm", "--unfreeze-every", "36",
                       "--lr-decay-per-layer", "2.6", "--lr", "3e-3", "--epochs", "20", *DEEP),
    "awd-scratch": ("--family", "awd-lstm", "--token-k", "3", "--embed-dim", "64", "--awd-hidden", "128",
                    "--awd-layers", "2", "--lr", "3e-3", "--epochs", "20", *DEEP),
}
NAMES = {"kmer-selected": "kmer-logreg, k and C chosen on valid (section A)",
         "kmer-default": "kmer-logreg, k=6 C=1 (fixed; re-run here)",
         "cnn": "cnn (one-hot, 3 conv × 64, global max-pool, both strands)",
         "cnn-positional": "cnn, position-aware (flatten; channels × kernel chosen on valid)",
         "awd-pretrained": "awd-lstm, LM-pretrained on S. epidermidis",
         "awd-scratch": "awd-lstm, from scratch"}
# docs/results.md section A, homology split, "k, C chosen on valid", test, seeds 0-4 (same splits)
KMER_SELECTED = {
    0: (0.673, 0.870, 0.763, 0.763, 0.910), 1: (0.702, 0.884, 0.824, 0.737, 0.940),
    2: (0.802, 0.920, 0.846, 0.868, 0.940), 3: (0.722, 0.891, 0.829, 0.763, 0.940),
    4: (0.664, 0.862, 0.732, 0.789, 0.890)}


def chain(tag: str, model: str, seed: int) -> list[tuple]:
    split, out = f"{tag}/split.parquet", f"{tag}/{model}"
    return [("train", "--dataset", split, *MODELS[model], "--seed", seed, "--out", out),
            *[("evaluate", "--model", out, "--dataset", split, "--split", sp,
               "--out", f"{tag}/eval_{model}_{sp}") for sp in ("valid", "test")]]


def lm_perplexity(lm: Path) -> float | None:
    last = None
    for line in (lm / "training_log.jsonl").read_text().splitlines():
        rec = json.loads(line)
        for key in ("valid_perplexity", "valid_ppl"):
            if key in rec:
                last = rec[key]
    return last


def tables(rows: list[dict], seeds: list[int], models: list[str], ppl, elapsed: float) -> str:
    out = [f"### Mean ± sd over seeds {', '.join(map(str, seeds))} (homology split at 0.8, test)", "",
           "| model | MCC | accuracy | precision | recall | specificity | valid MCC | "
           f"MCC ≥ {TARGET_MCC}? |", "|---|---|---|---|---|---|---|---|"]
    for m in ["kmer-selected", *models]:
        sel = [r for r in rows if r["model"] == m]
        if not sel:
            continue
        mcc = statistics.mean(r["mcc"] for r in sel)
        vm = [r["valid_mcc"] for r in sel if r["valid_mcc"] is not None]
        out.append(f"| {NAMES[m]} | " + " | ".join(mean_sd([r[c] for r in sel]) for c in COLS)
                   + f" | {mean_sd(vm) if vm else '–'} | {'yes' if mcc >= TARGET_MCC else 'no'} "
                   f"({mcc:.3f}) |")
    out += ["", "### Per seed (test)", "",
            "| seed | model | valid MCC | test MCC | accuracy | precision | recall | specificity "
            "| train s |", "|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: r["seed"]):
        vm = "–" if r["valid_mcc"] is None else f"{r['valid_mcc']:.3f}"
        ts = "–" if r.get("train_s") is None else f"{r['train_s']:.0f}"
        out.append(f"| {r['seed']} | {NAMES[r['model']]} | {vm} | "
                   + " | ".join(f"{r[c]:.3f}" for c in COLS) + f" | {ts} |")
    out += ["", f"Language model valid perplexity (3-mer tokens, stride 1): "
            f"{'–' if ppl is None else f'{ppl:.3f}'}; total wall time {elapsed:.0f} s."]
    return "\n".join(out)


def figure(rows: list[dict], models: list[str], path: Path) -> None:
    order = ["kmer-selected", *models]
    short = {"kmer-selected": "k-mer\n(k, C on valid)", "kmer-default": "k-mer\nk=6 C=1",
             "cnn": "CNN\nmax-pool", "cnn-positional": "CNN\nposition-aware",
             "awd-pretrained": "AWD-LSTM\nLM-pretrained", "awd-scratch": "AWD-LSTM\nscratch"}
    strips = [(x, [r["mcc"] for r in rows if r["model"] == m], f"C{x}", "o") for x, m in enumerate(order)]
    strip_figure(path, [short[m] for m in order], strips,
                 title="B. subtilis promoters, homology split at 0.8, seeds 0–4",
                 ylabel="test MCC (dot: one seed; bar: mean)", figsize=(6.5, 3.8),
                 lines=[(TARGET_MCC, "--", "grey", f"target {TARGET_MCC}")], xlim=(-0.5, len(order) - 0.2))


def main() -> int:
    ap = parser(__doc__, data=DEFAULT_DATA, data_help="promoters folder",
                jobs_help="commands run at once (default 2)")
    ap.add_argument("--genome", type=Path, default=DEFAULT_GENOME, help="FASTA for the language model")
    ap.add_argument("--torch-threads", type=int, default=1, help="OMP_NUM_THREADS per process")
    ap.add_argument("--no-scratch", action="store_true", help="skip awd-lstm from scratch")
    ap.add_argument("--no-awd", action="store_true", help="skip both awd-lstm runs and the language model")
    args = ap.parse_args()

    prom, non = args.data / "Bacillus_prom.fa", args.data / "Bacillus_non_prom.fa"
    if missing_data(prom, non, args.genome):
        return 0
    run = Runner(args.outdir, __file__, jobs=args.jobs,
                 env={var: args.torch_threads for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")})
    awd = [] if args.no_awd else ["awd-pretrained"] + ([] if args.no_scratch else ["awd-scratch"])
    models = ["kmer-default", "cnn", "cnn-positional", *awd]
    run("build", "--input", f"prom={prom.resolve()}", f"non={non.resolve()}",
        "--rename-duplicate-ids", "--out", "dataset.parquet")
    for seed in args.seeds:
        tag = f"homology_s{seed}"
        (run.outdir / tag).mkdir(exist_ok=True)
        run("split", "--dataset", "dataset.parquet", "--out", f"{tag}/split.parquet", "--strategy",
            "homology", "--identity", "0.8", "--seed", seed, "--threads", args.threads)
    # phase 1: the language model beside the k-mer and CNN runs; phase 2: the AWD-LSTMs
    t_phase = run.elapsed
    lm = [] if args.no_awd else [[("pretrain", "--input", str(args.genome.resolve()), "--out", "lm",
                                   *PRETRAIN)]]
    run.many(lm + [chain(f"homology_s{s}", m, s) for m in ("kmer-default", "cnn", *GRID)
                   for s in args.seeds])
    t_lm = run.elapsed - t_phase
    run.progress("language model and cnn done")
    run.many([chain(f"homology_s{s}", m, s) for m in awd for s in args.seeds])
    elapsed = run.elapsed
    ppl = None if args.no_awd else lm_perplexity(run.outdir / "lm")

    def valid_mcc(model: str, seed: int) -> float:
        return metrics(run.outdir / f"homology_s{seed}" / f"eval_{model}_valid" / "metrics.json")["mcc"]

    grid = {m: statistics.mean(valid_mcc(m, s) for s in args.seeds) for m in GRID}
    chosen = max(GRID, key=lambda m: (grid[m], -GRID.index(m)))  # ties: the smaller setting

    rows = []
    for s in args.seeds:
        if s in KMER_SELECTED:
            rows.append({"seed": s, "model": "kmer-selected", "valid_mcc": None, "train_s": None,
                         **dict(zip(COLS, KMER_SELECTED[s]))})
        for m in models:
            run_name = chosen if m == "cnn-positional" else m
            tag = run.outdir / f"homology_s{s}"
            tr = load(tag / run_name / "training.json")
            rows.append({"seed": s, "model": m, "valid_mcc": valid_mcc(run_name, s),
                         "train_s": (tr.get("training_loop") or {}).get("seconds"),
                         **metrics(tag / f"eval_{run_name}_test" / "metrics.json")})
    text = tables(rows, args.seeds, models, ppl, elapsed)
    text += ("\n\nPosition-aware CNN, mean valid MCC per setting (the largest is used): "
             + ", ".join(f"{m.removeprefix('cnnpos-')} {v:.3f}" for m, v in grid.items())
             + f"; chosen: {chosen.removeprefix('cnnpos-')} ({' '.join(MODELS[chosen])})")
    text += (f"\n\n{run.n} seqclass commands in {elapsed:.0f} s (wall; phase 1, LM + k-mer + cnn: "
             f"{t_lm:.0f} s), {args.jobs} at a time, OMP_NUM_THREADS={args.torch_threads}, "
             f"{os.cpu_count()} CPUs visible; commands in {args.outdir / 'commands.sh'}\n")
    fig = args.figure or args.outdir / "promoters_deep.png"
    figure(rows, models, fig)
    return finish(args.outdir, text, {
        "rows": rows, "seeds": args.seeds, "lm_valid_perplexity": ppl, "elapsed_s": elapsed,
        "cnn_positional_grid_valid_mcc": grid, "cnn_positional_chosen": chosen,
        "commands": run.n, "jobs": args.jobs, "settings": {"pretrain": PRETRAIN, **MODELS}}, fig, table=rows)


if __name__ == "__main__":
    sys.exit(main())
