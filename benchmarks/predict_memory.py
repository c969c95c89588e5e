"""Peak memory of `seqclass predict` on one chromosome-sized sequence, per model family.

    python benchmarks/predict_memory.py                          # 200 Mb, every family (long)
    python benchmarks/predict_memory.py --mb 20 --families kmer-logreg,cnn
    python benchmarks/predict_memory.py --stride 1000 --json benchmarks/predict-memory-results.json

A chromosome of `--mb` million bases (seeded random DNA, one FASTA record in 80-column lines)
is scored by the model directories of tests/fixtures/models_v0.1 — every family, trained on
41-nt windows every 20 nt — and, for the families that can also be trained on whole sequences
(kmer-logreg, gc-logreg, cnn, transformer), by the same weights with the window removed
("whole": one prediction for the chromosome, built block by block; the deep families average
windows of their --max-len). Each run is a fresh `seqclass predict` process measured by
launch.py (peak RSS from os.wait4).

Baseline, in the same run: the same command on a one-record FASTA of 1 kb, so the model,
Python and PyTorch are counted in both (PyTorch's CUDA wheel alone is ~600 MiB). Reported: the
peak of each, the difference, that difference per base of the chromosome and the ratio
chromosome/baseline. Memory that grows with the sequence shows as bytes per base; scoring that
streams shows as a ratio near 1. Before issue 14 the same command kept the whole sequence, all
its windows and a k-mer matrix in memory: 10.4 GB at 200 Mb (about 52 bytes per base).

`--stride N` scores every N-th window start instead of the model's 20 nt (fewer windows,
the same batch size): on 2 CPU cores the windowed deep families score ~2,000 windows/s, so
the model's 10 million windows of a 200-Mb sequence take over an hour each; memory does not
depend on the number of windows, which are scored a batch at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from launch import measure  # noqa: E402  (benchmarks/launch.py)

REPO = Path(__file__).resolve().parents[1]
LEGACY = REPO / "tests" / "fixtures" / "models_v0.1"
WINDOWED = ["kmer-logreg", "gc-logreg", "similarity", "cnn", "bilstm", "embedding-bag",
            "transformer", "awd-lstm"]
WHOLE = ["kmer-logreg", "gc-logreg", "cnn", "transformer"]
SEQCLASS = [sys.executable, "-m", "seqclass"]


def write_chromosome(path: Path, bases: int, seed: int) -> Path:
    """One record of `bases` seeded random A/C/G/T in 80-column lines, written a block at a time."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    with open(path, "wb") as fh:
        fh.write(b">chromosome synthetic\n")
        for start in range(0, bases, 80 * 100_000):
            n = min(80 * 100_000, bases - start)
            block = letters[rng.integers(0, 4, size=n)]
            rows = [block[i:i + 80].tobytes() for i in range(0, n, 80)]
            fh.write(b"\n".join(rows) + b"\n")
    return path


def whole_sequence_model(family: str, out: Path) -> Path:
    """The legacy model with its window removed: it scores each sequence whole."""
    model = out / f"{family}-whole"
    shutil.copytree(LEGACY / family, model)
    config = json.loads((model / "config.json").read_text())
    config["window"] = config["stride"] = None
    (model / "config.json").write_text(json.dumps(config))
    return model


def run(model: Path, fasta: Path, stride: int | None, log: Path) -> dict:
    cmd = [*SEQCLASS, "predict", "--model", str(model), "--input", str(fasta),
           "--out", str(log.with_suffix(".tsv"))]
    figures = measure(cmd + (["--stride", str(stride)] if stride else []), log,
                      env={**os.environ, "OMP_NUM_THREADS": "2"})
    if figures["rc"] != 0:
        raise SystemExit(f"{' '.join(cmd)} failed; see {log}")
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=200.0, help="chromosome size, million bases")
    ap.add_argument("--families", default=",".join(WINDOWED), help="comma-separated")
    ap.add_argument("--modes", default="windowed,whole", help="windowed, whole or both")
    ap.add_argument("--stride", type=int, default=None,
                    help="score every N-th window start (windowed models; default: the model's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    families = args.families.split(",")
    modes = args.modes.split(",")
    work = Path(tempfile.mkdtemp(prefix="seqclass-memory-"))
    try:
        bases = int(args.mb * 1e6)
        chromosome = write_chromosome(work / "chromosome.fa", bases, args.seed)
        tiny = write_chromosome(work / "tiny.fa", 1000, args.seed)
        rows = []
        for mode in modes:
            for family in families if mode == "windowed" else [f for f in families if f in WHOLE]:
                model = LEGACY / family if mode == "windowed" else whole_sequence_model(family, work)
                stride = args.stride if mode == "windowed" else None
                base = run(model, tiny, stride, work / f"{family}-{mode}-tiny.log")
                big = run(model, chromosome, stride, work / f"{family}-{mode}-big.log")
                extra = big["rss_mib"] - base["rss_mib"]
                rows.append({"family": family, "mode": mode, "bases": bases, "stride": stride,
                             "baseline_rss_mib": base["rss_mib"], "rss_mib": big["rss_mib"],
                             "extra_mib": extra, "extra_bytes_per_base": extra * 2**20 / bases,
                             "ratio": big["rss_mib"] / base["rss_mib"], "wall_s": big["wall_s"]})
                r = rows[-1]
                print(f"{family:14s} {mode:8s} baseline {r['baseline_rss_mib']:7.0f} MiB  "
                      f"{args.mb:g} Mb {r['rss_mib']:7.0f} MiB  +{extra:6.0f} MiB "
                      f"({r['extra_bytes_per_base']:.2f} B/base)  ratio {r['ratio']:.2f}  "
                      f"{r['wall_s']:.0f} s", flush=True)
        if args.json:
            args.json.write_text(json.dumps({"mb": args.mb, "cpus": os.cpu_count(), "rows": rows},
                                            indent=1) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
