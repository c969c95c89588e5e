"""The training loop of a next-token language model on one token stream (`seqclass pretrain`).

Each step trains on --batch-size random windows of --bptt tokens drawn from the stream by a
numpy generator seeded by --seed, to predict each next token; validation scores fixed,
non-overlapping held-out windows (at most --eval-windows) every --eval-every steps and at
the last. It steps the weights as the classifiers' loop does (training.optimizer: AdamW
without decay on biases, a linear warm-up then linear decay, gradient clipping) and
checkpoints as it does (training.checkpoint), so --resume retraces a killed run: weights,
AdamW state, the window generator, the torch random states (dropout), the running loss and
the log are restored.

The caller owns what the checkpoint's `identity` means (the token stream's hash, the options
that fix the network) and checks it on resume with `check_resume`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from seqclass.errors import InputError
from seqclass.training import checkpoint, curves
from seqclass.training.devices import resolve_device
from seqclass.training.optimizer import grouped_adamw, lr_factor
from seqclass.training.params import LanguageModelTraining

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1
CHECKPOINT_KIND = "pretrain"


class LanguageModelLoop:
    """One run: `build()` makes the network (after seeding, so its initial weights follow
    --seed), which maps tokens (B, L) to next-token logits (B, L, V); `tied` maps weights that
    are another's (the decoder tied to the embedding) to theirs, left out of checkpoints."""

    def __init__(self, build: Callable[[], torch.nn.Module], vocab: int, train_tokens: np.ndarray,
                 valid_tokens: np.ndarray, opts: LanguageModelTraining, directory: Path,
                 identity: dict[str, Any], tied: dict[str, str]):
        self.opts, self.vocab, self.directory = opts, vocab, directory
        self.identity, self.tied = identity, tied
        self.device = resolve_device(opts.device)
        torch.manual_seed(opts.seed)
        self.net = build().to(self.device)
        self.adamw = grouped_adamw([(list(self.net.parameters()), 1.0)], opts.lr, opts.weight_decay)
        self.warmup = int(round(opts.warmup_ratio * opts.max_steps))
        self.rng = np.random.default_rng([opts.seed, 1])
        self.train_tokens = train_tokens
        self.span = opts.bptt + 1
        n_eval = min(opts.eval_windows, len(valid_tokens) // self.span)
        self.valid = torch.from_numpy(
            valid_tokens[:n_eval * self.span].astype(np.int64).reshape(n_eval, self.span))
        self.log_path = directory / curves.LOG
        self.step, self.loss_sum, self.loss_n = 0, 0.0, 0
        self.resumed_from: int | None = None
        self.record: dict[str, Any] = {}

    def run(self, resume: bool, check_resume: Callable[[Path, dict[str, Any]], None]) -> dict[str, Any]:
        """Train to --max-steps (from the last checkpoint with `resume`); the summary."""
        path = checkpoint.latest(self.directory) if resume else None
        if path is not None:
            self._restore(path, check_resume)
        else:
            self.log_path.unlink(missing_ok=True)
        self.net.train()
        for step in range(self.step, self.opts.max_steps):
            self._train_step(step)
            self._after_step(step + 1)
        self.net.eval()
        return {"steps": self.opts.max_steps, "device": str(self.device),
                "train_loss": self.record["train_loss"], "valid_loss": self.record["valid_loss"],
                "valid_perplexity": self.record["valid_perplexity"],
                "resumed_from_step": self.resumed_from}

    def _train_step(self, step: int) -> None:
        opts = self.opts
        self.factor = lr_factor(step, self.warmup, opts.max_steps, "linear")
        self.adamw.set_lr(opts.lr * self.factor)
        starts = self.rng.integers(0, len(self.train_tokens) - self.span + 1, size=opts.batch_size)
        batch = torch.from_numpy(self.train_tokens[starts[:, None] + np.arange(self.span)]
                                 .astype(np.int64)).to(self.device)  # (B, bptt + 1)
        logits = self.net(batch[:, :-1])  # (B, bptt, V)
        loss = F.cross_entropy(logits.reshape(-1, self.vocab), batch[:, 1:].reshape(-1))
        self.adamw.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if opts.clip_norm > 0:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), opts.clip_norm)
        self.adamw.optimizer.step()
        self.loss_sum += float(loss.detach())
        self.loss_n += 1

    def _after_step(self, done: int) -> None:
        opts = self.opts
        evaluated = done % opts.eval_every == 0 or done == opts.max_steps
        if evaluated:
            self._evaluate(done)
        if done == opts.max_steps or (opts.checkpoint_every > 0 and done % opts.checkpoint_every == 0) \
                or (opts.checkpoint_every == 0 and evaluated):
            self._save_checkpoint(done)
        checkpoint.kill_if_asked(done)

    def _evaluate(self, done: int) -> None:
        train_loss = self.loss_sum / self.loss_n
        valid = self._valid_loss()
        self.record = {"step": done, "lr": self.opts.lr * self.factor, "train_loss": train_loss,
                       "train_perplexity": math.exp(min(train_loss, 700)),
                       "valid_loss": valid, "valid_perplexity": math.exp(min(valid, 700))}
        curves.append_log(self.log_path, self.record)
        log.info("step %d/%d train_loss=%.4g valid_perplexity=%.4g", done, self.opts.max_steps,
                 train_loss, self.record["valid_perplexity"])
        self.loss_sum, self.loss_n = 0.0, 0

    @torch.no_grad()
    def _valid_loss(self) -> float:
        """Mean next-token cross-entropy over the held-out windows."""
        self.net.eval()
        total = 0.0
        for i in range(0, len(self.valid), self.opts.batch_size):
            batch = self.valid[i:i + self.opts.batch_size].to(self.device)  # (b, bptt + 1)
            logits = self.net(batch[:, :-1])  # (b, bptt, V)
            total += float(F.cross_entropy(logits.reshape(-1, self.vocab), batch[:, 1:].reshape(-1),
                                           reduction="sum"))
        self.net.train()
        return total / (len(self.valid) * self.opts.bptt)

    def _save_checkpoint(self, step: int) -> None:
        opt_tensors, opt_doc = checkpoint.optimizer_tensors(self.adamw.optimizer)
        weights = {k: v for k, v in self.net.state_dict().items() if k not in self.tied}
        state = {"format_version": CHECKPOINT_FORMAT, "kind": CHECKPOINT_KIND, "step": step,
                 "total_steps": self.opts.max_steps, "loss_sum": self.loss_sum,
                 "loss_n": self.loss_n, "seed": self.opts.seed, **self.identity,
                 "numpy_rng": self.rng.bit_generator.state,  # plain ints and strings
                 "optimizer": opt_doc}
        checkpoint.save(self.directory, step, {"model": weights, "optimizer": opt_tensors,
                                               "rng": checkpoint.rng_tensors(self.device)},
                        state, self.opts.keep_checkpoints)

    def _restore(self, path: Path, check_resume: Callable[[Path, dict[str, Any]], None]) -> None:
        tensors, state = checkpoint.load(path)
        if state.get("format_version") != CHECKPOINT_FORMAT or state.get("kind") != CHECKPOINT_KIND:
            raise InputError("not a checkpoint of seqclass pretrain of this version; pretrain "
                             "without --resume", path)
        check_resume(path, state)
        weights = tensors["model"]
        for name, source in self.tied.items():
            weights[name] = weights[source]
        try:
            self.net.load_state_dict(weights)
        except RuntimeError as err:
            raise InputError(f"does not fit this network ({str(err).splitlines()[0]}); pretrain "
                             "without --resume", path) from None
        self.adamw.optimizer.load_state_dict(
            checkpoint.optimizer_state_dict(tensors["optimizer"], state["optimizer"]))
        self.adamw.set_weight_decay(self.opts.weight_decay)
        self.rng.bit_generator.state = state["numpy_rng"]
        checkpoint.restore_rng(tensors["rng"], self.device)
        self.step = self.resumed_from = state["step"]
        self.loss_sum, self.loss_n = state["loss_sum"], state["loss_n"]
        records = curves.truncate_log(self.log_path, self.step)
        self.record = records[-1] if records else {}
        log.info("resuming from %s (step %d of %d)", path, self.step, self.opts.max_steps)
