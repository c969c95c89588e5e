"""Choose the `similarity` head's C on the validation split: one BLAST search per seed, a head per C.

    python experiments/arg_head_grid.py --splits /tmp/arg_classes --search blastx    # ~25 min, 2 cores

Reads <splits>/s<seed>/split.parquet and split.leakage.tsv, the homology splits that
experiments/arg_classes.py writes (run it first, or point --splits at the same layout). Per seed
it builds the model's training features exactly as `seqclass train --family similarity` does
(Similarity.unfitted and training_design: the train genes against themselves, hits at 80%
identity or more left out), searches the valid and test genes once, then fits the class-weighted
logistic regression for each C of --grid on those features. Printed: macro-F1 on all genes and
on those below 80% identity to any train gene (the split's leakage report), valid and test,
mean over seeds, and the best-hit rule on the same hits (the class of the top-scoring hit, no
hit → non_resistant): the nearest-neighbour block of the features, so it is exactly the best
hit of the search the model makes. Choose C on the valid columns; test is shown to report, not
to choose. Output also in <splits>/head_grid_<search>.json.

Unlike the other experiments this one runs no `seqclass` step: it calls the code behind
`seqclass train --family similarity` in-process, so that one BLAST search per seed serves every C.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from runner import NON, parser
from sklearn.metrics import f1_score

from seqclass.models.families.similarity import Similarity, SimilarityParams
from seqclass.models.linear import fit_logreg
from seqclass.sequence.alphabets import DNA
from seqclass.spec import ModelSpec, TrainData

LOW_IDENTITY = 0.8


def all_and_low(y: np.ndarray, calls: np.ndarray, low: np.ndarray, n_classes: int) -> list[float]:
    """Macro-F1 on every gene and on the genes below the identity cut-off."""
    return [float(f1_score(y[mask], calls[mask], labels=range(n_classes), average="macro", zero_division=0))
            for mask in (np.ones_like(low), low)]


def head_calls(coef: np.ndarray, intercept: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The logistic head's class per row, as Similarity.logits computes it.  # (N,)"""
    return np.asarray(x @ coef.T + intercept).argmax(axis=1)


def one_seed(folder: Path, search: str, grid: list[float], threads: int) -> dict:
    """{"classes": [...], "heads": {head name: {"valid" | "test": [macro-F1 all, < 80%]}}}"""
    split = pd.read_parquet(folder / "split.parquet")
    leak = pd.read_csv(folder / "split.leakage.tsv", sep="\t").set_index("id").max_identity
    parts = {p: split[split.split == p] for p in ("train", "valid", "test")}
    labels = sorted(parts["train"].label.unique())
    index = {label: i for i, label in enumerate(labels)}
    params = SimilarityParams(search=search, threads=threads)
    spec = ModelSpec(family="similarity", alphabet=DNA, task="multiclass", labels=labels, params=params)
    train = TrainData(list(parts["train"].sequence), parts["train"].label.map(index).to_numpy())
    model = Similarity.unfitted(spec, train)
    x_train, evidence = model.training_design()
    c = len(labels)
    held_out = {}
    for p in ("valid", "test"):
        x = model.design(list(parts[p].sequence))  # (N, 3C + 1)
        low = leak.reindex(parts[p].id).fillna(0).to_numpy() < LOW_IDENTITY
        held_out[p] = (x, parts[p].label.map(index).to_numpy(), low)

    def scores(calls_of) -> dict[str, list[float]]:
        """calls_of: features (N, F) → class indices (N,)"""
        return {p: all_and_low(y, calls_of(x), low, c) for p, (x, y, low) in held_out.items()}

    def best_hit(x: np.ndarray) -> np.ndarray:
        nearest = x[:, 2 * c:3 * c]  # (N, C): the classes of the top-scoring hit
        return np.where(nearest.any(axis=1), nearest.argmax(axis=1), index[NON])

    heads = {f"best hit ({search})": scores(best_hit)}
    for value in grid:
        with_c = dataclasses.replace(spec, params=dataclasses.replace(params, c=value))
        coef, intercept = fit_logreg(x_train, train, with_c, seed=0, balanced_rows=evidence)
        heads[f"C = {value:g}"] = scores(functools.partial(head_calls, coef, intercept))
    return {"classes": labels, "heads": heads}


def main() -> int:
    ap = parser(__doc__, outdir=False, threads_help="BLAST threads", figure=False)
    ap.add_argument("--splits", type=Path, required=True, help="arg_classes.py's --outdir")
    ap.add_argument("--search", default="blastx", help="similarity --search")
    ap.add_argument("--grid", type=float, nargs="+", default=[0.03, 0.1, 0.3, 1.0, 3.0])
    args = ap.parse_args()
    missing = [s for s in args.seeds if not (args.splits / f"s{s}" / "split.parquet").exists()]
    if missing:
        print(f"skipped: no split for seeds {missing} under {args.splits} (run experiments/arg_classes.py)")
        return 0
    t0 = time.time()
    runs = {}
    for seed in args.seeds:
        runs[seed] = one_seed(args.splits / f"s{seed}", args.search, args.grid, args.threads)
        print(f"[{time.time() - t0:.0f} s] seed {seed}", flush=True)

    print(f"\n`similarity --search {args.search}`, seeds {args.seeds}: macro-F1 all / < 80% identity, "
          "mean over seeds\n")
    print("| head | valid | test |\n|---|---|---|")
    for head in runs[args.seeds[0]]["heads"]:
        cells = [np.mean([runs[s]["heads"][head][p] for s in args.seeds], axis=0) for p in ("valid", "test")]
        print(f"| {head} | " + " | ".join(" / ".join(f"{v:.3f}" for v in cell) for cell in cells) + " |")
    print(f"\nTotal {time.time() - t0:.0f} s.")
    (args.splits / f"head_grid_{args.search}.json").write_text(json.dumps(
        {"search": args.search, "seeds": args.seeds, "runs": runs}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
