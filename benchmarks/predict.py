"""Prediction speed and memory of every model family against a naive one-at-a-time loop.

    python benchmarks/predict.py                        # all families, CPU (~2 min on 2 cores)
    python benchmarks/predict.py --device cuda          # on a CUDA GPU (bf16 autocast for seqclass)
    python benchmarks/predict.py --device cuda --nt-v2-100m --families hf   # + an NT-v2-100M-sized model
    python benchmarks/predict.py --families cnn,transformer --json out.json

Each family runs in a fresh process (so peak memory is per family): it trains a tiny model
through the library as `seqclass train` does (`--train-steps` optimizer steps for the deep
families, a full fit for kmer-logreg, gc-logreg and hf-embed; small sizes, see train.py),
with window 1024 / stride 512 recorded in its spec as `seqclass chunk`-trained models have,
then scores two seeded synthetic sets:
  * genes: `--genes` DNA genes of 300-3000 nt (cut into 1024-nt windows every 512 nt);
  * reads: `--reads` reads of 100 nt drawn from other genes.

Two ways of scoring the same records with the same model, in the same process:
  * seqclass: `models.inference.score` (what `seqclass predict` runs): windows of many records
    share batches, sorted by length (bucketed) so little padding is computed; bf16 autocast on
    CUDA (`--precision auto`), fp32 on CPU;
  * naive, as the NucArg app does: one sequence window at a time (batch of 1), padded to the
    maximum length (the model's 1024-nt window; for hf the tokenizer's maximum), fp32 — through
    the same model's `logits` with a collate that pads to full width. The linear families have
    nothing to pad: naive is one `logits` call per window. The naive loop stops after
    `--naive-seconds` per set (at least one record), so its rate is over a prefix of the set.
Both give the same logits (the padding is masked); the largest difference is printed.

Reported per family and set: sequences/s, windows/s, tokens/s (the model's tokens), nt/s and
the ratio seqclass/naive in sequences/s; peak RSS of the family's process (training included;
ru_maxrss read by a launcher, as in chunk.py); on CUDA torch.cuda.max_memory_allocated of each
way. For the transformer families (transformer, hf, hf-embed, nt-v2-100m) achieved FLOP/s of
useful work (real tokens, not padding): per window of t tokens t (2N + 2 n_layer t d), N the
non-embedding parameters (Kaplan et al. 2020); on CUDA also MFU against 989 TFLOP/s (H100 dense
bf16).

--nt-v2-100m adds a family of Nucleotide Transformer v2 100M size (ESM, 22 layers, width 512,
16 heads, 6-mer tokenizer, rotary positions; random weights built from a config, no
download), scored as an `hf` model. It is meant for a GPU; on CPU it is slow.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train import (  # noqa: E402  (benchmarks/train.py: data, checkpoints, FLOPs, launcher)
    FAMILIES,
    NT,
    STRIDE,
    TRANSFORMERS,
    WINDOW,
    add_nt_flags,
    add_threads_flag,
    chosen_families,
    finish,
    flops_rates,
    fmt,
    full_width,
    genes,
    human,
    machine,
    make_spec,
    nt_checkpoint,
    pad_to_width,
    print_shapes,
    reads,
    run_in_workdir,
    run_worker,
    set_threads,
    start_timing,
    sync,
    tiny_checkpoint,
    transformer_shape,
    windows,
    with_nt,
)

SCRIPT = Path(__file__).resolve()


# --- worker: one family in this process -------------------------------------------------------

def build_model(name: str, config: dict):
    """A trained tiny model of this family (or the random NT-v2-100M-sized one)."""
    from seqclass.models import family
    from seqclass.spec import TrainData

    if name == NT:
        from seqclass.models.families.hf import HfClassifier

        directory = nt_checkpoint(Path(config["workdir"]))
        spec = make_spec("hf", {**config, "batch_size": config["nt_batch_size"]},
                         pretrained=str(directory), hf_input="raw")
        return HfClassifier.from_bundle(spec, {}, directory)
    seqs, ys = windows(genes(config["train_genes"], config["seed"]))
    extra = {}
    if "max_steps" in family(name).Params.__dataclass_fields__:
        extra = {"max_steps": config["train_steps"], "eval_every": 0, "patience": 0}
    spec = make_spec(name, config, **extra)
    return family(name).fit(spec, TrainData(seqs, ys), None, config["seed"])


class NaiveMode:
    """The model's logits() with every input padded to full width, fp32, while inside."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        m = self.model
        self.spec = m.spec
        if hasattr(m.spec.params, "precision"):
            m.spec = dataclasses.replace(m.spec, params=dataclasses.replace(m.spec.params,
                                                                            precision="fp32"))
        if hasattr(m, "codec"):  # hf, hf-embed: input_ids and attention_mask
            codec = m.codec
            base = codec.collate
            width, pad_values = full_width(m, m.spec)
            codec.collate = lambda arrays: pad_to_width(base(arrays), width, pad_values)
            self.undo = lambda: delattr(codec, "collate")
        elif hasattr(m, "net"):  # deep families: tokens and lengths
            base = type(m).collate
            width, pad_values = full_width(m, m.spec)
            m.collate = lambda spec, arrays: pad_to_width(base(spec, arrays), width, pad_values)
            self.undo = lambda: delattr(m, "collate")
        else:
            self.undo = lambda: None
        return self

    def __exit__(self, *exc):
        self.undo()
        self.model.spec = self.spec


def naive_score(model, records: list[tuple[str, str]], seconds: float, device: str) -> tuple[np.ndarray, int]:
    """One window at a time, padded to full width, fp32, until `seconds` pass; (logits, records)."""
    from seqclass.sequence.windows import sliding

    out = []
    t = time.perf_counter()
    with NaiveMode(model):
        for _, seq in records:
            rows = [model.logits([seq[s:e]])[0] for s, e in sliding(len(seq), WINDOW, STRIDE)]
            out.append(np.mean(rows, axis=0))
            sync(device)
            if time.perf_counter() - t > seconds:
                break
    return np.array(out), len(out)


def model_tokens(model, pieces: list[str]) -> list[int]:
    """Tokens the network sees per window (with the tokenizer's special tokens for hf)."""
    if hasattr(model, "codec"):
        extra = len(model.codec.prefix) + len(model.codec.suffix)
        return [min(len(a), model.codec.max_tokens) + extra for a in model.codec.encode(pieces)]
    if hasattr(model, "encode"):
        return [len(a) for a in model.encode(model.spec, pieces)]
    return [len(p) for p in pieces]


def worker(name: str, config: dict) -> dict:
    import torch

    from seqclass.models.inference import score
    from seqclass.sequence.windows import sliding

    device = config["device"]
    set_threads(config)
    t = time.perf_counter()
    model = build_model(name, config)
    sync(device)
    result = {"family": name, "build_s": time.perf_counter() - t,
              "params": dataclasses.asdict(model.spec.params),
              "rss_after_build_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    net = getattr(model, "net", None)
    shape = transformer_shape(net) if net is not None and name in TRANSFORMERS else None
    result["shape"] = shape

    test_genes = genes(config["genes"], config["seed"] + 1)
    sets = {"genes": [(r, s) for r, s, _ in test_genes],
            "reads": [(r, s) for r, s, _ in reads(genes(200, config["seed"] + 2), config["reads"],
                                                  config["read_length"], config["seed"])]}
    list(score(model, sets["reads"][:64]))  # warm-up: first CUDA/oneDNN kernels, lazy imports
    sync(device)
    result["sets"] = {}
    for set_name, records in sets.items():
        pieces = [seq[s:e] for _, seq in records for s, e in sliding(len(seq), WINDOW, STRIDE)]
        n_pieces = [len(sliding(len(seq), WINDOW, STRIDE)) for _, seq in records]
        tokens = model_tokens(model, pieces)
        nt = sum(len(p) for p in pieces)
        row: dict = {"records": len(records), "windows": len(pieces), "nt": nt, "tokens": sum(tokens)}

        start_timing(device)
        t = time.perf_counter()
        batched = np.concatenate([b.logits for b in score(model, records)])
        sync(device)
        secs = time.perf_counter() - t
        row["seqclass"] = {"s": secs, "seqs_per_s": len(records) / secs, "windows_per_s": len(pieces) / secs,
                           "tokens_per_s": sum(tokens) / secs, "nt_per_s": nt / secs}
        if device == "cuda":
            row["seqclass"]["cuda_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20

        start_timing(device)
        t = time.perf_counter()
        naive, n = naive_score(model, records, config["naive_seconds"], device)
        secs = time.perf_counter() - t
        k = sum(n_pieces[:n])
        sub_tokens = tokens[:k]
        row["naive"] = {"s": secs, "records": n, "windows": k, "seqs_per_s": n / secs,
                        "windows_per_s": k / secs, "tokens_per_s": sum(sub_tokens) / secs,
                        "nt_per_s": sum(len(p) for p in pieces[:k]) / secs}
        if device == "cuda":
            row["naive"]["cuda_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
        row["max_abs_logit_diff"] = float(np.abs(naive - batched[:n]).max())
        row["ratio"] = row["seqclass"]["seqs_per_s"] / row["naive"]["seqs_per_s"]
        if shape is not None:
            for way, count in (("seqclass", tokens), ("naive", sub_tokens)):
                row[way].update(flops_rates(shape, count, row[way]["s"], device))
        result["sets"][set_name] = row
    result["machine"] = machine(device)
    return result


# --- main ----------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--families", default=",".join(FAMILIES), help="comma-separated (default: all)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--genes", type=int, default=60, help="test genes (300-3000 nt)")
    ap.add_argument("--reads", type=int, default=2000, help="test reads")
    ap.add_argument("--read-length", type=int, default=100)
    ap.add_argument("--naive-seconds", type=float, default=3.0,
                    help="time limit of the naive loop per set")
    ap.add_argument("--train-genes", type=int, default=60, help="genes the tiny models train on")
    ap.add_argument("--train-steps", type=int, default=2, help="optimizer steps of the deep families")
    ap.add_argument("--batch-size", type=int, default=16,
                    help="training batch; seqclass scores 2x this many windows per batch")
    add_nt_flags(ap, "--nt-v2-100m: seqclass scores 2x this many windows per batch", 128)
    ap.add_argument("--seed", type=int, default=0)
    add_threads_flag(ap)
    ap.add_argument("--workdir", type=Path, help="keep intermediate files here (default: a temp dir)")
    ap.add_argument("--json", type=Path, help="write the numbers here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--config", help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        args.result.write_text(json.dumps(worker(args.worker, json.loads(args.config))) + "\n")
        return
    run_in_workdir(args, "bench-predict-", run, with_nt(args, chosen_families(args)))


def run(args: argparse.Namespace, families: list[str], work: Path) -> None:
    t_start, load_start = time.perf_counter(), os.getloadavg()
    config = {"device": args.device, "genes": args.genes, "reads": args.reads,
              "read_length": args.read_length, "naive_seconds": args.naive_seconds,
              "train_genes": args.train_genes, "train_steps": args.train_steps,
              "batch_size": args.batch_size, "nt_batch_size": args.nt_batch_size, "seed": args.seed,
              "threads": args.threads,
              "workdir": str(work)}
    if {"hf", "hf-embed"} & set(families):
        config["checkpoint"] = str(tiny_checkpoint(work / "tiny-esm"))
    print(f"test sets: {args.genes} genes of 300-3000 nt (windows {WINDOW}/{STRIDE}), {args.reads} reads of "
          f"{args.read_length} nt; seed {args.seed}; device {args.device}; naive loop <= "
          f"{args.naive_seconds:g} s per set; threads {args.threads or 'PyTorch default'}")
    results = []
    for name in families:
        r = run_worker(SCRIPT, name, config, work)
        results.append(r)
        print(f"  {name}: {r['process_wall_s']:.1f} s, peak RSS {r['rss_mib']:.0f} MiB", file=sys.stderr)

    print()
    cuda = args.device == "cuda"
    head = (f"{'family':<14} {'set':<5} {'way':<8} {'seq/s':>9} {'win/s':>9} {'tokens/s':>9} {'nt/s':>9} "
            f"{'FLOP/s':>8} {'MFU %':>6} {'ratio':>7} {'|dlogit|':>8} {'RSS MiB':>7}")
    if cuda:
        head += f" {'CUDA MiB':>8}"
    print(head)
    print("-" * len(head))
    for r in results:
        for set_name, row in r["sets"].items():
            for way in ("seqclass", "naive"):
                w = row[way]
                first = way == "seqclass"
                line = (f"{r['family'] if first else '':<14} {set_name if first else '':<5} {way:<8} "
                        f"{w['seqs_per_s']:9.1f} {w['windows_per_s']:9.1f} {human(w['tokens_per_s']):>9} "
                        f"{human(w['nt_per_s']):>9} {human(w.get('flops_per_s')):>8} "
                        f"{fmt(w.get('mfu') and 100 * w['mfu'], '.2f'):>6} "
                        f"{(format(row['ratio'], '7.1f') + 'x') if first else '':>8} "
                        f"{format(row['max_abs_logit_diff'], '.1e') if first else '':>8} "
                        f"{format(r['rss_mib'], '.0f') if first else '':>7}")
                if cuda:
                    line += f" {w['cuda_peak_mib']:8.0f}"
                print(line)
    print("seqclass = models.inference.score (length-bucketed batches; bf16 on CUDA); naive = one window "
          "at a time,\npadded to the full window, fp32, over the first records of the set that fit in "
          f"{args.naive_seconds:g} s. ratio = seqclass/naive sequences/s.\n|dlogit| = largest difference "
          "between the two ways' logits. RSS = peak of the family's process, training included.")
    print()
    print_shapes(results)
    for r in results:
        print(f"seqclass/naive ratio {r['family']}: genes {r['sets']['genes']['ratio']:.1f}x, "
              f"reads {r['sets']['reads']['ratio']:.1f}x")
    finish(args, config, results, t_start, load_start)


if __name__ == "__main__":
    main()
