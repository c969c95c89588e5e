"""Training speed and memory of every model family, each in a fresh process.

    python benchmarks/train.py                          # all families, CPU (~2 min on 2 cores)
    python benchmarks/train.py --device cuda            # on a CUDA GPU (bf16 autocast, as `auto` picks)
    python benchmarks/train.py --families cnn,transformer --json out.json

Data: seeded synthetic DNA "genes" of 300-3000 nt in two classes (GC 0.50 and 0.42), cut into
1024-nt windows every 512 nt as `seqclass chunk --window 1024 --stride 512` cuts them (most
windows are full length, the genes shorter than 1024 nt are one window of their own length).

What is timed, per family, through the library (`family(name).fit`, the code behind
`seqclass train`):
  * deep families (cnn, bilstm, embedding-bag, transformer, awd-lstm, hf): `--steps` optimizer
    steps after `--warmup-steps` untimed ones, each step timed on its own by wrapping
    `seqclass.training.loop.Trainer.train_step` (with a CUDA synchronise on a GPU), batch `--batch-size`,
    fp32 on CPU, bf16 autocast on CUDA. Sequences/s, tokens/s (the model's tokens after the
    --max-len crop) and nucleotides/s are over the timed steps;
  * kmer-logreg, gc-logreg and hf-embed (frozen embeddings + logistic regression) have no
    steps: the whole `fit` is timed, and sequences/s is windows fitted per second.
`hf` and `hf-embed` use a tiny ESM checkpoint (3-mer tokenizer, the Nucleotide Transformer
layout) built here from a config with random weights, saved with save_pretrained: no download.

Peak memory is ru_maxrss of each family's process (read with os.wait4 by a small launcher, as
benchmarks/chunk.py does, so that it is not inflated by this script), which includes Python,
PyTorch and the data; on CUDA also torch.cuda.max_memory_allocated. For the transformer
families the achieved training FLOP/s is estimated as 3 x forward FLOPs (forward ~ 2 x
non-embedding parameters + 2 x layers x tokens x width per token, Kaplan et al. 2020), and on
CUDA also as model-FLOPs utilisation against 989 TFLOP/s (H100 SXM dense bf16).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import launch  # benchmarks/launch.py, beside this script
import numpy as np

SCRIPT = Path(__file__).resolve()
FAMILIES = ("kmer-logreg", "gc-logreg", "cnn", "bilstm", "embedding-bag", "transformer", "awd-lstm",
            "hf", "hf-embed")
NT = "nt-v2-100m"  # --nt-v2-100m: an `hf` model of Nucleotide Transformer v2 100M size
TRANSFORMERS = ("transformer", "hf", "hf-embed", NT)
PEAK_FLOPS = 989e12  # H100 SXM dense bf16
WINDOW, STRIDE = 1024, 512

# small sizes, so that every family trains in seconds on 2 CPU cores (the CLI's defaults otherwise)
SIZES: dict[str, dict] = {
    "kmer-logreg": {},
    "gc-logreg": {},
    "cnn": {"channels": 64},
    "bilstm": {"lstm_hidden": 64},
    "embedding-bag": {},
    "transformer": {"embed_dim": 64, "heads": 4, "encoder_layers": 2, "ff_dim": 256},
    "awd-lstm": {"embed_dim": 64, "awd_hidden": 128, "awd_layers": 2, "token_k": 3, "token_stride": 3},
    "hf": {"lr": 1e-4},
    "hf-embed": {"head": "logreg"},
}

# --- shared with predict.py ---------------------------------------------------------------

def run_worker(script: Path, family: str, config: dict, work: Path) -> dict:
    """Run `script --worker FAMILY` in a fresh process; its result JSON plus wall time and peak RSS."""
    out, log = work / f"{family}.result.json", work / f"{family}.log"
    cmd = [sys.executable, str(script), "--worker", family, "--config", json.dumps(config),
           "--result", str(out)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    if config.get("threads"):
        env.update(OMP_NUM_THREADS=str(config["threads"]), MKL_NUM_THREADS=str(config["threads"]))
    m = launch.measure(cmd, log, env=env, keep_stdout=True)
    if m["rc"] != 0 or not out.exists():
        sys.exit(f"{family} failed:\n{log.read_text()[-3000:]}")
    # the worker reports its own timings; the process-level ones keep a prefix of their own
    return {**json.loads(out.read_text()), "process_wall_s": m["wall_s"],
            "process_cpu_s": m["cpu_s"], "rss_mib": m["rss_mib"]}


def chosen_families(args: argparse.Namespace) -> list[str]:
    """--families as a list, each one known; --device cuda only where CUDA is there."""
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        sys.exit(f"unknown families: {', '.join(unknown)}; known: {', '.join(FAMILIES)}")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            sys.exit("--device cuda, but no CUDA device is available")
    return families


def run_in_workdir(args: argparse.Namespace, prefix: str, run, families: list[str]) -> None:
    """run(args, families, work) in --workdir, or in a temporary folder removed afterwards."""
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        run(args, families, args.workdir)
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        run(args, families, Path(tmp))


def genes(n: int, seed: int, lo: int = 300, hi: int = 3000) -> list[tuple[str, str, int]]:
    """n seeded synthetic genes (id, sequence, class), classes alternating, GC 0.50 / 0.42."""
    rng = np.random.default_rng(seed)
    bases = np.frombuffer(b"ACGT", dtype=np.uint8)
    out = []
    for i, length in enumerate(rng.integers(lo, hi + 1, n)):
        gc = (0.50, 0.42)[i % 2]
        p = [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2]
        out.append((f"gene{i}", rng.choice(bases, size=int(length), p=p).tobytes().decode(), i % 2))
    return out


def reads(records: list[tuple[str, str, int]], n: int, length: int, seed: int) -> list[tuple[str, str, int]]:
    """n reads of `length` nt drawn from random positions of the records."""
    rng = np.random.default_rng([seed, 1])
    out = []
    for i in range(n):
        rid, seq, label = records[int(rng.integers(len(records)))]
        start = int(rng.integers(0, len(seq) - length + 1))
        out.append((f"read{i}", seq[start:start + length], label))
    return out


def windows(records: list[tuple[str, str, int]]) -> tuple[list[str], np.ndarray]:
    """Training windows as `seqclass chunk --window 1024 --stride 512` cuts them, and their classes."""
    from seqclass.sequence.windows import sliding

    seqs, ys = [], []
    for _, seq, label in records:
        for s, e in sliding(len(seq), WINDOW, STRIDE):
            seqs.append(seq[s:e])
            ys.append(label)
    return seqs, np.array(ys, dtype=np.int64)


def tiny_checkpoint(directory: Path, nt_v2_100m: bool = False) -> Path:
    """An ESM masked-LM checkpoint with a k-mer tokenizer, random weights, save_pretrained layout.

    Tiny by default (3-mers, 2 layers of width 64). With nt_v2_100m the size of Nucleotide
    Transformer v2 100M: 6-mer tokenizer, 22 layers, width 512, 16 heads, rotary positions,
    2050 positions; its feed-forward is 3072 units without a gate where NT-v2 has a 2048-unit
    SwiGLU (same parameter count and FLOPs; transformers' built-in ESM has no gated FFN).
    """
    import itertools

    import torch
    import transformers
    from transformers import EsmConfig, EsmForMaskedLM, EsmTokenizer

    transformers.utils.logging.disable_progress_bar()
    torch.manual_seed(0)
    directory.mkdir(parents=True, exist_ok=True)
    k = 6 if nt_v2_100m else 3
    kmers = ["".join(p) for p in itertools.product("ACGT", repeat=k)]
    (directory / "vocab.txt").write_text(
        "\n".join(["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", *kmers, *"ACGTN"]) + "\n")
    tok = EsmTokenizer(str(directory / "vocab.txt"), model_max_length=2048 if nt_v2_100m else 1024)
    if nt_v2_100m:
        size = dict(hidden_size=512, num_hidden_layers=22, num_attention_heads=16,
                    intermediate_size=3072, max_position_embeddings=2050,
                    position_embedding_type="rotary")
    else:
        size = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256,
                    max_position_embeddings=514, position_embedding_type="absolute")
    # as Nucleotide Transformer v2's config.json: no dropout, no token dropout, untied embeddings
    cfg = EsmConfig(vocab_size=len(tok), pad_token_id=tok.pad_token_id, mask_token_id=tok.mask_token_id,
                    hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, token_dropout=False,
                    emb_layer_norm_before=False, layer_norm_eps=1e-12, tie_word_embeddings=False,
                    **size)
    EsmForMaskedLM(cfg).save_pretrained(str(directory))
    tok.save_pretrained(str(directory))
    return directory


def pad_to_width(batch: tuple[np.ndarray, ...], width: int, pad_values: tuple[int, ...]) -> tuple:
    """A collated batch with its first len(pad_values) arrays, (B, L), padded to (B, width).

    The naive baselines' input: every sequence at the model's full width, as a loop that pads
    to the maximum length computes it. hf batches are (input_ids, attention_mask), padded with
    the tokenizer's pad id and 0; the other deep families' (tokens, lengths), tokens with PAD.
    """
    out = list(batch)
    for i, value in enumerate(pad_values):
        a = out[i]
        if a.shape[1] < width:
            wide = np.full((len(a), width), value, dtype=a.dtype)
            wide[:, :a.shape[1]] = a
            out[i] = wide
    return tuple(out)


def full_width(family, spec) -> tuple[int, tuple[int, ...]]:
    """(width, pad values) of pad_to_width for a family (or an hf model: anything with a codec)."""
    from seqclass.sequence.encoding import PAD

    codec = getattr(family, "codec", None)
    if codec is not None:
        return codec.max_tokens + len(codec.prefix) + len(codec.suffix), (codec.pad_id, 0)
    return family.max_tokens(spec), (PAD,)


class FullWidthFamily:
    """A deep family as seqclass.training.loop sees it, whose batches are padded to the full width."""

    def __init__(self, family, spec):
        self.family = family
        self.width, self.pad_values = full_width(family, spec)

    def __getattr__(self, name: str):
        return getattr(self.family, name)

    def collate(self, spec, arrays: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        return pad_to_width(self.family.collate(spec, arrays), self.width, self.pad_values)


def nt_checkpoint(work: Path) -> Path:
    """The NT-v2-100M-sized checkpoint of --nt-v2-100m, with a sequence-classification head."""
    import transformers

    directory = tiny_checkpoint(work / NT, nt_v2_100m=True)
    model = transformers.EsmForSequenceClassification.from_pretrained(
        str(directory), num_labels=2, local_files_only=True, use_safetensors=True)
    model.save_pretrained(str(directory))
    return directory


def add_nt_flags(ap: argparse.ArgumentParser, batch_help: str, batch_size: int) -> None:
    ap.add_argument("--nt-v2-100m", action="store_true",
                    help="add an `hf` model of Nucleotide Transformer v2 100M size (random weights; "
                    "meant for --device cuda)")
    ap.add_argument("--nt-batch-size", type=int, default=batch_size, help=batch_help)


def with_nt(args: argparse.Namespace, families: list[str]) -> list[str]:
    """The families, plus NT under --nt-v2-100m (with a warning on CPU)."""
    if not args.nt_v2_100m:
        return families
    if args.device != "cuda":
        print("warning: --nt-v2-100m is meant for --device cuda; on CPU it takes minutes",
              file=sys.stderr)
    return [*families, NT]


def make_spec(name: str, config: dict, **extra):
    """A ModelSpec with the family's CLI defaults, the small sizes above and the run's device."""

    from seqclass.models import family
    from seqclass.spec import ModelSpec

    params_cls = family(name).Params
    fields = {f.name for f in dataclasses.fields(params_cls)}
    values = {**SIZES.get(name, {}), **extra}
    values.update({key: config[key] for key in ("device", "batch_size") if key in fields})
    if "pretrained" in fields and name in ("hf", "hf-embed") and "pretrained" not in extra:
        values["pretrained"] = config["checkpoint"]
    return ModelSpec(family=name, alphabet="dna", task="multiclass", labels=["gc50", "gc42"],
                     window=WINDOW, stride=STRIDE, params=params_cls(**values))


def transformer_shape(net) -> dict | None:
    """Non-embedding parameters, layers and width of a transformer network (None for others)."""
    import torch

    layers = width = None
    model = getattr(net, "model", None) or getattr(net, "encoder", None)
    cfg = getattr(getattr(model, "model", model), "config", None) or getattr(model, "config", None)
    if cfg is not None:
        layers, width = cfg.num_hidden_layers, cfg.hidden_size
    elif hasattr(net, "encoder") and hasattr(net.encoder, "layers"):
        layers, width = len(net.encoder.layers), net.embed.embedding_dim
    if layers is None:
        return None
    embedding = sum(m.weight.numel() for m in net.modules() if isinstance(m, torch.nn.Embedding))
    total = sum(p.numel() for p in net.parameters())
    return {"params": total, "non_embedding_params": total - embedding, "layers": layers, "width": width}


def forward_flops(shape: dict, token_counts) -> float:
    """Forward FLOPs of sequences of these token counts: t (2N + 2 n_layer t d) each."""
    t = np.asarray(token_counts, dtype=np.float64)
    return float((t * (2 * shape["non_embedding_params"] + 2 * shape["layers"] * t * shape["width"])).sum())


def flops_rates(shape: dict, token_counts, secs: float, device: str, factor: int = 1) -> dict:
    """FLOP/s of `factor` x the forward FLOPs of these sequences over `secs`; MFU on CUDA."""
    flops_per_s = factor * forward_flops(shape, token_counts) / secs
    return {"flops_per_s": flops_per_s, "mfu": flops_per_s / PEAK_FLOPS if device == "cuda" else None}


def start_timing(device: str) -> None:
    """Before a timed section: a full garbage collection now, so that no timed section pays for
    one over the objects the imports made (0.2 s in the first 2000-read scoring call, 5x its
    work), and a fresh CUDA memory peak."""
    gc.collect()
    if device == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats()


def sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def set_threads(config: dict) -> None:
    """--threads: PyTorch's intra-op threads in a worker (default: PyTorch's own, one per core)."""
    if config.get("threads"):
        import torch

        torch.set_num_threads(config["threads"])


def add_threads_flag(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--threads", type=int, default=0,
                    help="PyTorch CPU threads per family process (default 0: PyTorch's default, one "
                    "per core); 1 gives steadier figures when another job shares the cores")


def machine(device: str) -> dict:
    import torch

    info = {"cpus": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__,
            "platform": platform.platform(), "device": device, "torch_threads": torch.get_num_threads()}
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name()
    return info


# --- worker: one family in this process -------------------------------------------------------

def timed_fit(cls, spec, train, config: dict, warmup_steps: int, naive: bool = False):
    """Fit, timing each optimizer step; (model, timed steps, transformer shape, fit seconds).

    naive: every batch padded to the model's full width (see FullWidthFamily)."""
    from seqclass.training import loop

    steps: list[dict] = []
    shape_box: dict = {}
    original = loop.Trainer.train_step

    def timed_step(self, micro, epoch, group):
        if not shape_box:
            shape_box["shape"] = transformer_shape(self.net)
            if naive:
                self.family = FullWidthFamily(self.family, self.spec)
        sync(config["device"])
        t = time.perf_counter()
        original(self, micro, epoch, group)
        sync(config["device"])
        idx = np.concatenate(micro)
        steps.append({"s": time.perf_counter() - t, "rows": int(len(idx)),
                      "tokens": [int(x) for x in self.lengths[idx]],
                      "nt": int(sum(min(len(self.sequences[i]), self.p.max_len or 10**12) for i in idx))})

    loop.Trainer.train_step = timed_step
    try:
        sync(config["device"])
        t = time.perf_counter()
        model = cls.fit(spec, train, None, config["seed"])
        sync(config["device"])
    finally:
        loop.Trainer.train_step = original
    return model, steps[warmup_steps:], shape_box.get("shape"), time.perf_counter() - t


def step_rates(steps: list[dict], shape: dict | None, factor: int, device: str) -> dict:
    """Rates over timed steps; FLOP/s and MFU (CUDA) of the real tokens for transformers."""
    secs = sum(s["s"] for s in steps)
    tokens = [t for s in steps for t in s["tokens"]]
    out = {"steps": len(steps), "step_s": secs, "steps_per_s": len(steps) / secs,
           "seqs_per_s": sum(s["rows"] for s in steps) / secs, "tokens_per_s": sum(tokens) / secs,
           "nt_per_s": sum(s["nt"] for s in steps) / secs, "tokens_per_seq": float(np.mean(tokens))}
    if shape is not None:
        out.update(flops_rates(shape, tokens, secs, device, factor))
    return out


def worker(name: str, config: dict) -> dict:
    import torch

    from seqclass.models import family
    from seqclass.spec import TrainData

    set_threads(config)
    device = config["device"]
    t0 = time.perf_counter()
    records = genes(config["genes"], config["seed"])
    seqs, ys = windows(records)
    train = TrainData(seqs, ys)
    base = "hf" if name == NT else name
    cls = family(base)
    deep = "max_steps" in cls.Params.__dataclass_fields__ and base != "hf-embed"
    fixed = {"pretrained": config["nt_checkpoint"], "hf_input": "raw"} if name == NT else {}

    def spec_for(steps: int, batch_size: int, **extra):
        loop_params = {"max_steps": steps, "eval_every": 0, "patience": 0} if deep else {}
        return make_spec(base, {**config, "batch_size": batch_size}, **fixed, **loop_params, **extra)

    start_timing(device)
    spec = spec_for(config["warmup_steps"] + config["steps"],
                    config["nt_batch_size"] if name == NT else config["batch_size"])
    model, steps, shape, fit_s = timed_fit(cls, spec, train, config, config["warmup_steps"])
    result = {"family": name, "windows": len(seqs), "nt": int(sum(len(s) for s in seqs)),
              "fit_s": fit_s, "setup_s": time.perf_counter() - t0 - fit_s,
              "params": dataclasses.asdict(spec.params)}
    transformer = name in TRANSFORMERS
    factor = 1 if base == "hf-embed" else 3  # a frozen encoder runs forward only
    if steps:
        result.update(kind="steps", **step_rates(steps, shape if transformer else None, factor, device))
    else:
        result.update(kind="fit", seqs_per_s=len(seqs) / fit_s, nt_per_s=result["nt"] / fit_s,
                      steps=None, steps_per_s=None)
        shape = transformer_shape(model.net) if hasattr(model, "net") else None
        if hasattr(model, "codec"):
            lengths = [len(a) for a in model.codec.encode(seqs)]
            result.update(tokens_per_s=sum(lengths) / fit_s, tokens_per_seq=float(np.mean(lengths)))
            if transformer and shape is not None:
                result.update(flops_rates(shape, lengths, fit_s, device, factor))
        else:
            result.update(tokens_per_s=result["nt_per_s"], tokens_per_seq=result["nt"] / len(seqs))
    if transformer and shape is not None:
        result["shape"] = shape
    if device == "cuda":
        result["cuda_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20

    if steps and config["naive_steps"] > 0:
        # the naive way, as the NucArg app trains: one sequence per step, padded to the full
        # width, fp32; the same network, data and optimizer
        start_timing(device)
        naive_spec = spec_for(1 + config["naive_steps"], 1, grad_accum=1, precision="fp32")
        _, naive_steps, _, _ = timed_fit(cls, naive_spec, train, config, 1, naive=True)
        naive = step_rates(naive_steps, shape if transformer else None, factor, device)
        if device == "cuda":
            naive["cuda_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
        result["naive"] = naive
        result["ratio"] = result["seqs_per_s"] / naive["seqs_per_s"]
    result["machine"] = machine(device)
    return result


# --- main ----------------------------------------------------------------------------------------

def fmt(x: float | None, spec: str = ".1f") -> str:
    return "-" if x is None else format(x, spec)


def human(x: float | None) -> str:
    if x is None:
        return "-"
    for unit, div in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= div:
            return f"{x / div:.2f}{unit}"
    return f"{x:.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--families", default=",".join(FAMILIES), help="comma-separated (default: all)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--genes", type=int, default=200, help="synthetic genes (300-3000 nt)")
    ap.add_argument("--steps", type=int, default=4, help="timed optimizer steps per deep family")
    ap.add_argument("--warmup-steps", type=int, default=1, help="untimed steps before them")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--naive-steps", type=int, default=8,
                    help="timed steps of the naive way (batch 1, full width, fp32; after one "
                    "untimed step); 0: skip it")
    add_nt_flags(ap, "--nt-v2-100m: sequences per training step", 64)
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
    run_in_workdir(args, "bench-train-", run, with_nt(args, chosen_families(args)))


def run(args: argparse.Namespace, families: list[str], work: Path) -> None:
    t_start, load_start = time.perf_counter(), os.getloadavg()
    config = {"device": args.device, "genes": args.genes, "steps": args.steps,
              "warmup_steps": args.warmup_steps, "batch_size": args.batch_size,
              "naive_steps": args.naive_steps, "nt_batch_size": args.nt_batch_size, "seed": args.seed,
              "threads": args.threads}
    if {"hf", "hf-embed"} & set(families):
        config["checkpoint"] = str(tiny_checkpoint(work / "tiny-esm"))
    if NT in families:
        config["nt_checkpoint"] = str(nt_checkpoint(work))
    seqs, _ = windows(genes(args.genes, args.seed))
    print(f"data: {args.genes} synthetic genes (300-3000 nt, seed {args.seed}) -> {len(seqs)} windows "
          f"of <= {WINDOW} nt (stride {STRIDE}), {sum(map(len, seqs)) / 1e6:.2f} Mnt; device {args.device}; "
          f"batch {args.batch_size} ({NT}: {args.nt_batch_size}), {args.warmup_steps} warm-up + "
          f"{args.steps} timed steps; naive: batch 1, {args.naive_steps} timed steps; "
          f"threads {args.threads or 'PyTorch default'}")
    results = []
    for name in families:
        r = run_worker(SCRIPT, name, config, work)
        results.append(r)
        print(f"  {name}: {r['process_wall_s']:.1f} s, peak RSS {r['rss_mib']:.0f} MiB", file=sys.stderr)

    print()
    cuda = args.device == "cuda"
    head = (f"{'family':<14} {'way':<8} {'timed':<9} {'steps/s':>8} {'seq/s':>9} {'tokens/s':>10} "
            f"{'nt/s':>10} {'tok/seq':>7} {'FLOP/s':>8} {'MFU %':>6} {'ratio':>7} {'RSS MiB':>7} "
            f"{'process s':>9}")
    if cuda:
        head += f" {'CUDA MiB':>9}"
    print(head)
    print("-" * len(head))
    for r in results:
        ways = [("seqclass", r)] + ([("naive", r["naive"])] if "naive" in r else [])
        for way, w in ways:
            first = way == "seqclass"
            timed = f"{w['steps']} steps" if w.get("steps") else "fit"
            line = (f"{r['family'] if first else '':<14} {way:<8} {timed:<9} "
                    f"{fmt(w['steps_per_s'], '.2f'):>8} {fmt(w['seqs_per_s']):>9} "
                    f"{human(w['tokens_per_s']):>10} {human(w['nt_per_s']):>10} {w['tokens_per_seq']:7.0f} "
                    f"{human(w.get('flops_per_s')):>8} {fmt(w.get('mfu') and 100 * w['mfu'], '.2f'):>6} "
                    f"{(format(r['ratio'], '6.1f') + 'x') if first and 'ratio' in r else '':>7} "
                    f"{format(r['rss_mib'], '.0f') if first else '':>7} "
                    f"{format(r['process_wall_s'], '.1f') if first else '':>9}")
            if cuda:
                line += f" {w['cuda_peak_mib']:9.0f}"
            print(line)
    print("seqclass: the timed optimizer steps (forward, backward, AdamW) of length-bucketed batches, "
          "bf16 autocast\non CUDA; 'fit' = the whole fit (kmer-logreg, gc-logreg; hf-embed: frozen "
          "embeddings + logistic\nregression). naive: one sequence per step, padded to the full width, "
          "fp32. ratio = seqclass/naive\nsequences/s. FLOP/s: transformer families, real tokens, "
          "3 x forward (forward only for hf-embed);\nMFU against 989 TFLOP/s (H100 dense bf16), CUDA only. "
          "RSS = peak of the family's process.")
    print()
    print_shapes(results)
    for r in results:
        if "ratio" in r:
            print(f"seqclass/naive training ratio {r['family']}: {r['ratio']:.1f}x")
    finish(args, config, results, t_start, load_start)


def print_shapes(results: list[dict]) -> None:
    for r in results:
        if r.get("shape"):
            sh = r["shape"]
            print(f"{r['family']}: {sh['params'] / 1e6:.2f} M parameters "
                  f"({sh['non_embedding_params'] / 1e6:.2f} M without embeddings), "
                  f"{sh['layers']} layers of width {sh['width']}")


def finish(args: argparse.Namespace, config: dict, results: list[dict], t_start: float,
           load_start: tuple[float, float, float]) -> None:
    """The run's time and load on stderr; every number into --json."""
    load = os.getloadavg()
    print(f"(benchmark took {time.perf_counter() - t_start:.0f} s; load average at the start "
          f"{load_start[0]:.1f}, at the end {load[0]:.1f} on {os.cpu_count()} CPUs)", file=sys.stderr)
    if args.json:
        doc = {"config": config, "machine": results[0]["machine"] if results else {},
               "load_average": {"start": load_start[0], "end": load[0]},
               "results": [{k: v for k, v in r.items() if k != "machine"} for r in results]}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
