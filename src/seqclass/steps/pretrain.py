"""Pretrain a k-mer AWD-LSTM language model on unlabelled sequences (Genomic-ULMFiT).

Reads FASTA/FASTQ files (plain or gzip; whole genomes, contigs, reads), tokenises each record
into k-mers taken every --kmer-stride residues and joins the records into one token stream;
the last --valid-fraction of it is held out. Each step trains on --batch-size random windows
of --bptt tokens to predict each next token. The network is an AWD-LSTM (embedding dropout,
DropConnect on the hidden-to-hidden weights, locked dropout between layers and before the
decoder) whose decoder is tied to its embedding. LM_DIR holds model.safetensors, config.json
(alphabet, k, stride, vocabulary and sizes), training.json (seed, versions, input hash) and
training_log.jsonl (training loss and perplexity, validation perplexity by step) and
checkpoints/; it is written atomically. `seqclass train --family awd-lstm --pretrained LM_DIR`
fine-tunes it.

As in `seqclass train`, the directory is `.LM_DIR.partial` beside LM_DIR while it trains, with a
checkpoint (training.checkpoint: safetensors and JSON, no pickle) every --checkpoint-every steps
or after every evaluation and at the last step. A killed run leaves it behind and --resume
continues from its newest checkpoint: weights, AdamW state, the numpy generator that draws
the windows, the torch random states (dropout), the running loss and the log are restored,
so the resumed run retraces the killed one. --resume on a finished LM_DIR trains it on (e.g.
with a larger --max-steps). The kill hook of the tests (training.checkpoint) works here too.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqclass import config
from seqclass.config import option
from seqclass.errors import InputError
from seqclass.io.atomic import atomic_outputs
from seqclass.io.sequences import read_sequences
from seqclass.sequence import alphabets, encoding
from seqclass.steps.common import provenance
from seqclass.training import checkpoint
from seqclass.training.params import LanguageModelTraining

log = logging.getLogger(__name__)

# options that decide the token stream or the network's shape: --resume refuses to change them
FIXED = ("alphabet", "k", "kmer_stride", "embed_dim", "hidden", "layers")
# options free to change on --resume without a warning
BOOKKEEPING = ("checkpoint_every", "keep_checkpoints", "device", "eval_windows")


@dataclass(kw_only=True)
class Config(LanguageModelTraining):
    input: list[Path] = option("FASTA or FASTQ files of unlabelled sequences (plain or gzip)",
                               nargs="+")
    out: Path = option("language model directory to write (LM_DIR)")
    alphabet: str = option("alphabet of the input; auto: detected from the first records",
                           "auto", choices=["auto", "dna", "protein"])
    k: int = option("k-mer length of the tokens", 5, flag="--kmer-size", deprecated=("--k",),
                    metavar="K")
    kmer_stride: int = option("take every N-th k-mer as a token", 2)
    embed_dim: int = option("embedding size (also the last LSTM layer's, for the tied decoder)",
                            400)
    hidden: int = option("LSTM units of the inner layers", 1150)
    layers: int = option("stacked LSTM layers", 3)
    embed_dropout: float = option("probability of dropping a whole token's embedding", 0.02)
    weight_dropout: float = option("DropConnect on the hidden-to-hidden weights", 0.2)
    hidden_dropout: float = option("locked dropout on the embeddings and between LSTM layers",
                                   0.15)
    output_dropout: float = option("locked dropout before the decoder", 0.1)
    valid_fraction: float = option("fraction of the token stream (its end) held out for the "
                                   "validation perplexity", 0.05)
    resume: bool = option("continue an interrupted run of the same --out from its last "
                          "checkpoint (or a finished LM_DIR, e.g. with a larger --max-steps)", False)

    def __post_init__(self) -> None:
        config.at_least(self, ("k", "kmer_stride", "embed_dim", "hidden", "layers", "bptt",
                               "batch_size", "max_steps", "eval_every", "eval_windows",
                               "keep_checkpoints"))
        for name in ("embed_dropout", "weight_dropout", "hidden_dropout", "output_dropout",
                     "warmup_ratio"):
            config.within(self, name, 0, 1, high_open=True)
        config.within(self, "valid_fraction", 0, 1, low_open=True, high_open=True)
        config.at_least(self, ("checkpoint_every",), 0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The step's own flags, then the training loop's in a group of their own."""
    training = {f.name for f in dataclasses.fields(LanguageModelTraining)}
    config.add_arguments(parser, Config, set(training))
    config.add_arguments(parser.add_argument_group(f"{LanguageModelTraining.options_title} options"),
                         LanguageModelTraining)


def read_tokens(cfg: Config) -> tuple[np.ndarray, str, dict]:
    """All records' tokens joined in input order, the alphabet, and counts and the input hash."""
    h = hashlib.sha256()
    pieces: list[np.ndarray] = []
    alphabet = None if cfg.alphabet == "auto" else cfg.alphabet
    n_records = n_residues = 0
    for path in cfg.input:
        for record in read_sequences(path):
            if alphabet is None:
                alphabet = alphabets.detect([record.sequence[:10000]])
                log.debug("alphabet: %s (detected; --alphabet sets it)", alphabet)
                try:
                    encoding.check_token_k(alphabet, cfg.k)
                except ValueError as err:
                    raise InputError(str(err).replace("--token-k", "--kmer-size")) from None
            try:
                seq = alphabets.normalise(record.sequence, alphabet)
            except alphabets.InvalidSequence as err:
                raise InputError(str(err), path, record.id) from None
            h.update(record.id.encode())
            h.update(b"\0")
            h.update(seq.encode())
            h.update(b"\0")
            dtype = np.uint16 if encoding.vocab_size(alphabet, cfg.k) <= 1 << 16 else np.int32
            pieces.append(encoding.tokens(seq, alphabet, cfg.k, cfg.kmer_stride).astype(dtype))
            n_records += 1
            n_residues += len(seq)
    stream = np.concatenate(pieces)
    assert alphabet is not None  # set from the first record; read_sequences refuses empty inputs
    return stream, alphabet, {"n_records": n_records, "n_residues": n_residues,
                              "n_tokens": int(len(stream)), "input_sha256": h.hexdigest()}


def run(cfg: Config) -> None:
    if cfg.alphabet != "auto":
        try:
            encoding.check_token_k(cfg.alphabet, cfg.k)
        except ValueError as err:
            raise InputError(str(err).replace("--token-k", "--kmer-size")) from None
    stream, alphabet, counts = read_tokens(cfg)
    n_valid = max(cfg.bptt + 1, int(len(stream) * cfg.valid_fraction))
    if len(stream) - n_valid < cfg.bptt + 1:
        raise InputError(f"{len(stream)} tokens (k {cfg.k}, stride {cfg.kmer_stride}) are too few "
                         f"for --bptt {cfg.bptt}: need at least {2 * (cfg.bptt + 1)}",
                         cfg.input[0])
    train_tokens, valid_tokens = stream[:-n_valid], stream[-n_valid:]

    from seqclass.environment import library_versions
    from seqclass.models.families.awd_lstm import LM_CONFIG, LM_FORMAT_VERSION, LM_KIND, LM_WEIGHTS

    with atomic_outputs(cfg.input, [cfg.out], step="pretrain") as outs:
        copied = False  # a killed or failed run keeps .LM_DIR.partial when it holds a checkpoint
        directory = outs.work_directory(
            cfg.out, keep_on_error=lambda d: not copied and checkpoint.latest(d) is not None)
        copied = checkpoint.prepare_work_directory(directory, cfg.out, cfg.resume)
        started = time.monotonic()
        try:
            net, summary = _train(cfg, alphabet, train_tokens, valid_tokens, directory,
                                  counts["input_sha256"])
        except ValueError as err:  # e.g. --device cuda without CUDA
            raise InputError(str(err)) from None
        copied = False  # trained on: keep its checkpoints should a later line fail
        from safetensors.torch import save_file

        weights = {k: v.detach().float().cpu().contiguous() for k, v in net.state_dict().items()
                   if k != "decoder.weight"}  # tied to encoder.embed.weight
        save_file(weights, str(directory / LM_WEIGHTS), metadata={"kind": LM_KIND})
        config = {"format_version": LM_FORMAT_VERSION, "kind": LM_KIND, "architecture": "awd-lstm",
                  "alphabet": alphabet, "k": cfg.k, "stride": cfg.kmer_stride,
                  "vocab_size": encoding.vocab_size(alphabet, cfg.k), "embed_dim": cfg.embed_dim,
                  "hidden": cfg.hidden, "layers": cfg.layers, "bptt": cfg.bptt,
                  "tied_decoder": True,
                  "dropout": {"embed": cfg.embed_dropout, "weight": cfg.weight_dropout,
                              "hidden": cfg.hidden_dropout, "output": cfg.output_dropout},
                  "input_sha256": counts["input_sha256"]}
        (directory / LM_CONFIG).write_text(json.dumps(config, indent=2) + "\n")
        training = {"seed": cfg.seed, "inputs": [str(p) for p in cfg.input], **counts,
                    "n_train_tokens": int(len(train_tokens)),
                    "n_valid_tokens": int(len(valid_tokens)), **summary,
                    "seconds": round(time.monotonic() - started, 2),
                    "provenance": [_provenance(cfg)],
                    "versions": library_versions()}
        (directory / "training.json").write_text(json.dumps(training, indent=2) + "\n")
    log.info("language model on %d tokens of %d records → %s (valid perplexity %.3g)",
             counts["n_tokens"], counts["n_records"], cfg.out, summary["valid_perplexity"])


def _provenance(cfg: Config) -> dict:
    doc = provenance("pretrain", cfg)
    doc["options"]["input"] = [str(p) for p in cfg.input]
    return doc


def _options(cfg: Config, alphabet: str) -> dict:
    """The training options a checkpoint records (JSON-ready), with the alphabet resolved."""
    options = {k: v for k, v in provenance("pretrain", cfg)["options"].items()
               if k not in ("input", "out", "resume")}
    return {**options, "alphabet": alphabet}


def _check_checkpoint(path: Path, state: dict, cfg: Config, alphabet: str,
                      input_sha256: str) -> None:
    """Refuse, in one line, a checkpoint that --resume cannot continue with these options."""
    if state.get("input_sha256") != input_sha256:
        raise InputError("was pretrained on other sequences than these (input_sha256 differs); "
                         "pretrain without --resume", path)
    if state.get("seed") != cfg.seed:
        raise InputError(f"was pretrained with --seed {state.get('seed')}; resume with it", path)
    params, now = state.get("params", {}), _options(cfg, alphabet)
    for key in FIXED:
        if params.get(key) != now[key]:
            flag = config.flag(Config, key)
            raise InputError(f"was pretrained with {flag} {params.get(key)}, not {now[key]}; resume "
                             f"with {flag} {params.get(key)} or pretrain without --resume", path)
    if state.get("step", 0) > cfg.max_steps:
        raise InputError(f"is at step {state['step']}, past --max-steps {cfg.max_steps}", path)
    changed = sorted(k for k in set(params) | set(now)
                     if k not in BOOKKEEPING and params.get(k) != now.get(k))
    if changed:
        log.warning("resuming with changed options: %s", ", ".join(
            f"{k} {params.get(k)} → {now.get(k)}" for k in changed))


def _train(cfg: Config, alphabet: str, train_tokens: np.ndarray, valid_tokens: np.ndarray,
           directory: Path, input_sha256: str):
    """The language model trained on the shared loop (training.language_model)."""
    from seqclass.models.networks.awd_lstm import AwdLanguageModel
    from seqclass.training.language_model import LanguageModelLoop

    vocab = encoding.vocab_size(alphabet, cfg.k)
    loop = LanguageModelLoop(
        lambda: AwdLanguageModel(vocab, cfg.embed_dim, cfg.hidden, cfg.layers, cfg.embed_dropout,
                                 cfg.hidden_dropout, cfg.weight_dropout, cfg.output_dropout),
        vocab, train_tokens, valid_tokens, cfg, directory,
        identity={"input_sha256": input_sha256, "params": _options(cfg, alphabet)},
        tied={"decoder.weight": "encoder.embed.weight"})
    summary = loop.run(cfg.resume, lambda path, state: _check_checkpoint(path, state, cfg, alphabet,
                                                                         input_sha256))
    return loop.net, summary
