"""The one training loop of every deep family: CPU in the tests, CUDA in production.

Given a family (which builds an untrained `nn.Module`, see models.deep), the loop

- encodes the training rows once as token arrays and plans each epoch from the seed alone:
  length-bucketed batches (train.batching), padded per batch, sequences longer than
  --max-len cropped at random;
- minimises cross-entropy (multiclass) or per-label binary cross-entropy (multilabel), with
  balanced class weights (multilabel: positive weights n_neg / n_pos per label), or draws
  rows weighted by inverse class frequency instead (--sampler weighted);
- steps AdamW once every --grad-accum micro-batches, with a linear warm-up then cosine,
  linear or constant learning rate, gradient-norm clipping, and bf16/fp16 autocast on
  CUDA (fp16 with a gradient scaler);
- evaluates every --eval-every steps (or once per epoch) on a fixed random subset of at most
  --eval-max-samples validation rows, appends one JSON object per evaluation to
  training_log.jsonl, keeps the weights of the best evaluation by --early-stop-metric and
  stops after --patience evaluations without improvement;
- writes a checkpoint (train.checkpoint) every --checkpoint-every steps or after each
  evaluation and at the end, from which --resume continues a killed run: weights,
  optimizer and scaler state, random generator states and the position in the epoch's
  plan are restored, so the resumed run retraces the one that was killed;
- draws loss.png and metrics.png from the log, and returns the best weights.

Under torchrun (WORLD_SIZE above 1, see train.distributed) it trains data-parallel, one
process (rank) per GPU: on cuda:LOCAL_RANK with NCCL, or on the CPU with gloo.

- Every rank plans each epoch alike from the seed and takes its share of the plan's groups
  of --grad-accum micro-batches: rank r of W takes groups r, r + W, r + 2W, ..., the last
  round wrapping to the epoch's first groups, so that all take ceil(groups / W) steps an
  epoch (DDP needs every rank at every step). Sharing out the plan takes no communication,
  and a rank crops its rows as one process would crop that group's.
- DistributedDataParallel averages the ranks' gradients in the backward of each step's last
  micro-batch, so all ranks apply the same update to the same weights: a step on every
  rank is one global step over W groups, an effective batch of --batch-size x --grad-accum
  x W rows (the mean over the ranks of each rank's mean loss). Steps, epochs, the
  schedule, --max-steps, --eval-every and --checkpoint-every count these global steps, so
  an epoch has W times fewer of them than in one process; training.json records W and the
  effective batch.
- Rank 0 alone evaluates, writes the log, checkpoints, plots and (steps.train) the model
  directory, and after each evaluation broadcasts whether early stopping ended the run, so
  that all ranks stop at the same step (a rank that went on would wait for the others'
  gradients forever). Its train_loss is that of its own share of the rows.
- DDP starts every rank from rank 0's weights; each rank draws its own dropout, seeded by
  (seed, rank, step). --resume restores every rank from rank 0's checkpoint and refuses
  one written by another number of processes, whose steps and place in the epoch mean
  other batches. A resumed run goes on where the killed one stopped, but with new dropout
  draws (and GPU reductions that are not bitwise reproducible anyway), so it does not
  retrace it bit for bit as one process on the CPU does.

The environment variable SEQCLASS_TEST_KILL_AT_STEP=N makes the process kill itself with
SIGKILL right after step N (and its checkpoint, if one is due): the tests use it to
interrupt a run the way a scheduler or a power cut would.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm

from seqclass.evaluate import metrics as evaluation
from seqclass.models.base import ModelSpec, TrainContext, TrainData, to_probabilities
from seqclass.train import batching, checkpoint, curves
from seqclass.train.distributed import ALONE, World, world

log = logging.getLogger(__name__)

KILL_ENV = "SEQCLASS_TEST_KILL_AT_STEP"
CHECKPOINT_FORMAT = 1
MAXIMISE = {"mcc": True, "f1_macro": True, "loss": False}


def _json_number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _finite(value: float | None) -> float:
    """A metric to compare: undefined or NaN ranks below every number."""
    return value if value is not None and math.isfinite(value) else -math.inf


# ---------------------------------------------------------------- devices and precision

def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda, but no CUDA device is available")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def rank_device(name: str, place: World) -> torch.device:
    """--device for this process: under torchrun, CUDA means the GPU of its LOCAL_RANK."""
    device = resolve_device(name)
    if device.type == "cuda" and place.size > 1:
        return torch.device("cuda", place.local_rank)
    return device


def inference_device(name: str) -> torch.device:
    """Where a trained model scores: CUDA when there is one, unless it was trained with --device cpu."""
    return torch.device("cuda" if name != "cpu" and torch.cuda.is_available() else "cpu")


def autocast_dtype(precision: str, device: torch.device, strict: bool = True) -> torch.dtype | None:
    """The autocast dtype for --precision on this device; None for fp32."""
    if precision == "auto":
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if precision == "fp16" and device.type != "cuda":
        if strict:
            raise ValueError("--precision fp16 needs a CUDA device (bf16 works on CPU)")
        return None
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def _grad_scaler():
    if hasattr(torch.amp, "GradScaler"):  # torch >= 2.3
        return torch.amp.GradScaler("cuda")
    return torch.cuda.amp.GradScaler()


def autocast(device: torch.device, dtype: torch.dtype | None):
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


# ---------------------------------------------------------------- inference

def _inputs(batch: tuple[np.ndarray, ...], device: torch.device) -> list[torch.Tensor]:
    return [torch.from_numpy(x).to(device, non_blocking=True) for x in batch]


@torch.no_grad()
def infer(net: torch.nn.Module, arrays: list[np.ndarray], max_tokens: int, batch_size: int,
          device: torch.device, amp: torch.dtype | None,
          collate: Callable[[list[np.ndarray]], tuple[np.ndarray, ...]] = batching.pad) -> np.ndarray:
    """Logits of token arrays in eval mode, longest-first batches; long arrays averaged over windows.

    `collate` makes a batch's network inputs (by default padded tokens and lengths).

    Returns  # (N, C) float32
    """
    net.eval()
    pieces, owner = batching.inference_pieces(arrays, max_tokens)
    lengths = np.array([len(a) for a in pieces], dtype=np.int64)
    out: np.ndarray | None = None
    for idx in batching.length_batches(lengths, batch_size):
        inputs = _inputs(collate([pieces[i] for i in idx]), device)
        with autocast(device, amp):
            logits = net(*inputs)
        logits = logits.float().cpu().numpy()  # (b, C)
        if out is None:
            out = np.zeros((len(pieces), logits.shape[1]), dtype=np.float64)
        out[idx] = logits
    if len(pieces) != len(arrays):  # mean over the windows of each array
        sums = np.zeros((len(arrays), out.shape[1]), dtype=np.float64)
        np.add.at(sums, owner, out)
        out = sums / np.bincount(owner, minlength=len(arrays))[:, None]
    return out.astype(np.float32)


def score(net: torch.nn.Module, arrays: list[np.ndarray], max_tokens: int, batch_size: int,
          device_name: str, precision: str,
          collate: Callable[[list[np.ndarray]], tuple[np.ndarray, ...]] = batching.pad) -> np.ndarray:
    """infer() on the device and precision a trained model's parameters ask for.  # (N, C)"""
    device = inference_device(device_name)
    net.to(device)
    return infer(net, arrays, max_tokens, batch_size, device,
                 autocast_dtype(precision, device, strict=False), collate)


# ---------------------------------------------------------------- training

def train_network(family: Any, spec: ModelSpec, train: TrainData, valid: TrainData | None,
                  seed: int, context: TrainContext | None) -> tuple[torch.nn.Module, dict]:
    """Train `family.build(spec)`; return the best weights' network and a training record.

    Under torchrun, in a process group of all its processes, torn down however training ends.
    """
    place = world()
    if place.size == 1:
        return Trainer(family, spec, train, valid, seed, context).run()
    if not dist.is_available():
        raise ValueError("torchrun started several processes, but this PyTorch has no "
                         "torch.distributed")
    device = rank_device(spec.params["device"], place)
    if device.type == "cuda":
        torch.cuda.set_device(device)  # NCCL's and inference's "cuda" is this rank's GPU
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")  # RANK etc. from torchrun
    try:
        return Trainer(family, spec, train, valid, seed, context, place).run()
    finally:
        dist.destroy_process_group()


class Trainer:
    def __init__(self, family: Any, spec: ModelSpec, train: TrainData, valid: TrainData | None,
                 seed: int, context: TrainContext | None, place: World = ALONE):
        self.spec, self.seed, self.context, self.place = spec, seed, context, place
        p = self.p = spec.params
        self.directory = context.directory if context is not None else None  # every rank reads it
        self.out = self.directory if place.main else None  # rank 0 alone writes it
        self.log_path = self.out / curves.LOG if self.out is not None else None
        self.device = rank_device(p["device"], place)
        self.amp = autocast_dtype(p["precision"], self.device)
        self.multilabel = spec.task == "multilabel"

        torch.manual_seed(seed)
        if self.device.type == "cuda":
            torch.cuda.manual_seed_all(seed)
            torch.backends.cudnn.benchmark = False
        self.net = family.build(spec).to(self.device)
        # optional family hooks: initial weights (a pretrained encoder), layer groups with their
        # learning-rate factors, and which parameters train at a step (gradual unfreezing)
        if hasattr(family, "initialise"):
            family.initialise(self.net, spec)

        # training rows stay strings, encoded batch by batch (token arrays would take 8 bytes a
        # residue); their lengths in tokens, after cropping to --max-len, drive the bucketing
        self.family = family
        self.max_tokens = family.max_tokens(spec)
        self.sequences = train.sequences
        self.n = len(self.sequences)
        self.lengths = family.token_lengths(spec, self.sequences)
        if self.max_tokens:
            self.lengths = np.minimum(self.lengths, self.max_tokens)  # (N,)
        self.y = torch.as_tensor(train.targets, dtype=torch.float32 if self.multilabel else torch.int64)

        # balancing: a weighted sampler, or class weights in the loss
        self.sample_weights = (batching.inverse_frequency(train.targets, spec.task)
                               if p["sampler"] == "weighted" else None)
        self.class_weights = self.pos_weight = None
        if p["class_weight"] == "balanced" and self.sample_weights is None:
            n_classes = len(spec.labels)
            if self.multilabel:
                pos = train.targets.sum(axis=0).astype(np.float64)  # (C,)
                self.pos_weight = torch.tensor((self.n - pos) / np.maximum(pos, 1),
                                               dtype=torch.float32, device=self.device)
            else:
                counts = np.bincount(train.targets, minlength=n_classes).astype(np.float64)
                w = np.divide(self.n, n_classes * counts, out=np.zeros(n_classes), where=counts > 0)
                self.class_weights = torch.tensor(w, dtype=torch.float32, device=self.device)

        # a fixed, bounded validation subset
        self.valid_tokens: list[np.ndarray] | None = None
        if valid is not None and len(valid.sequences):
            idx = np.arange(len(valid.sequences))
            cap = p["eval_max_samples"]
            if cap > 0 and len(idx) > cap:
                idx = np.sort(np.random.default_rng([seed, 7919]).choice(len(idx), cap, replace=False))
            self.valid_tokens = family.encode(spec, [valid.sequences[i] for i in idx])
            self.valid_targets = valid.targets[idx]
        if self.valid_tokens is None:
            log.warning("no validation rows: no early stopping; the model is the last step's")

        # steps and the learning-rate schedule; a step takes one group of --grad-accum batches
        # on each rank
        self.batches_per_epoch = math.ceil(self.n / p["batch_size"])
        groups_per_epoch = math.ceil(self.batches_per_epoch / p["grad_accum"])
        self.steps_per_epoch = math.ceil(groups_per_epoch / place.size)
        self.total_steps = p["max_steps"] if p["max_steps"] > 0 else p["epochs"] * self.steps_per_epoch
        self.warmup = int(round(p["warmup_ratio"] * self.total_steps))

        parts = (family.param_groups(self.net, spec) if hasattr(family, "param_groups")
                 else [(list(self.net.parameters()), 1.0)])  # [(parameters, lr factor)]
        groups, self.lr_scales, self.decayed = [], [], []
        for params, scale in parts:
            weights = [w for w in params if w.requires_grad]
            for decayed in (True, False):
                chosen = [w for w in weights if (w.ndim >= 2) == decayed]
                if chosen:
                    self.decayed.append(decayed)  # which groups --weight-decay applies to
                    self.lr_scales.append(scale)
                    groups.append({"params": chosen,
                                   "weight_decay": p["weight_decay"] if decayed else 0.0})
        self.optimizer = torch.optim.AdamW(groups, lr=p["lr"])
        self.scaler = _grad_scaler() if self.amp == torch.float16 else None

        # what steps the weights: the network itself, or under torchrun its DDP wrapper, which
        # averages the gradients over the ranks; self.net stays the bare network, whose
        # state_dict the checkpoints, evaluation and the family's hooks use. The wrapper's
        # constructor sends rank 0's weights to the others; being collective, it also holds
        # every rank until rank 0 has prepared the model directory (steps.train) they resume from.
        self.stepped: torch.nn.Module = self.net
        if place.size > 1:
            self.stepped = torch.nn.parallel.DistributedDataParallel(
                self.net, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                # some parameters get no gradient at some steps: awd-lstm's frozen layer groups,
                # the heads a pretrained encoder has besides the classifier's (ESM's contact head)
                find_unused_parameters=True)

        # progress; all of it goes into a checkpoint
        self.step = 0  # optimizer steps done
        self.epoch = 0  # epoch of the next micro-batch
        self.group = 0  # next step's index within the epoch
        self.best_key: tuple[float, float] | None = None  # (metric, -valid loss), larger is better
        self.best_value: float | None = None
        self.best_step: int | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.bad_evals = 0
        self.stopped = False
        self.loss_sum, self.loss_n = 0.0, 0  # per-row training loss since the last evaluation
        self._loss_acc = torch.zeros((), dtype=torch.float64, device=self.device)
        self.records: list[dict[str, Any]] = []
        self.resumed_from: int | None = None

    # ------------------------------------------------------------ pieces of a step

    def lr_factor(self, step: int) -> float:
        """Multiplier of --lr for the update after `step` updates: linear warm-up, then decay."""
        if step < self.warmup:
            return (step + 1) / self.warmup
        progress = min(1.0, (step - self.warmup) / max(1, self.total_steps - self.warmup))
        schedule = self.p["schedule"]
        if schedule == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        if schedule == "linear":
            return 1.0 - progress
        return 1.0

    def loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Summed over rows (mean over labels for multilabel).  # ()"""
        if self.multilabel:
            pos_weight = None if self.pos_weight is None else self.pos_weight.to(logits.device)
            return F.binary_cross_entropy_with_logits(logits, y, pos_weight=pos_weight,
                                                      reduction="none").mean(dim=1).sum()
        weight = None if self.class_weights is None else self.class_weights.to(logits.device)
        return F.cross_entropy(logits, y, weight=weight, reduction="sum")

    def train_step(self, micro: list[np.ndarray], epoch: int, group: int) -> None:
        """One optimizer update over the micro-batches of one step (gradient accumulation)."""
        self.stepped.train()
        if hasattr(self.family, "before_step"):
            self.family.before_step(self.net, self.spec, self.step, self.steps_per_epoch)
        lr = self.p["lr"] * self.lr_factor(self.step)
        for g, scale in zip(self.optimizer.param_groups, self.lr_scales):
            g["lr"] = lr * scale
        rows = sum(len(b) for b in micro)
        for j, idx in enumerate(micro):
            rng = batching.epoch_rng(self.seed, epoch, group, j)
            seqs = [batching.crop(self.sequences[i], self.p["max_len"], rng) for i in idx]
            # by default tokens (B, L) and lengths (B,); see models.deep
            inputs = _inputs(self.family.collate(self.spec, self.family.encode(self.spec, seqs)),
                             self.device)
            y = self.y[torch.from_numpy(idx)].to(self.device, non_blocking=True)  # (B,) or (B, C)
            # DDP averages the gradients over the ranks in the step's last backward only
            local = self.stepped is not self.net and j < len(micro) - 1
            with self.stepped.no_sync() if local else contextlib.nullcontext():
                with autocast(self.device, self.amp):
                    logits = self.stepped(*inputs)  # (B, C)
                loss = self.loss(logits.float(), y) / rows
                (self.scaler.scale(loss) if self.scaler is not None else loss).backward()
            self._loss_acc += loss.detach().double() * rows
        self.loss_n += rows
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        if self.p["clip_norm"] > 0:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.p["clip_norm"])
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)

    def _flush_loss(self) -> None:
        self.loss_sum += float(self._loss_acc.item())
        self._loss_acc.zero_()

    # ------------------------------------------------------------ evaluation

    def evaluate(self) -> dict[str, Any]:
        self._flush_loss()
        record: dict[str, Any] = {
            "step": self.step, "epoch": round(self.step / self.steps_per_epoch, 4),
            "lr": self.optimizer.param_groups[0]["lr"] / self.lr_scales[0],  # --lr's schedule
            "train_loss": self.loss_sum / self.loss_n if self.loss_n else None}
        self.loss_sum, self.loss_n = 0.0, 0
        if self.valid_tokens is not None:
            logits = infer(self.net, self.valid_tokens, self.max_tokens, self.p["batch_size"] * 2,
                           self.device, self.amp,
                           lambda arrays: self.family.collate(self.spec, arrays))  # (V, C)
            y = torch.as_tensor(self.valid_targets,
                                dtype=torch.float32 if self.multilabel else torch.int64)
            record["valid_loss"] = float(self.loss(torch.from_numpy(logits), y)) / len(y)
            probs = to_probabilities(logits, self.spec.task)
            m = (evaluation.multilabel(self.valid_targets, probs, self.spec.labels)
                 if self.multilabel else evaluation.multiclass(self.valid_targets, probs,
                                                               self.spec.labels))
            for key in ("accuracy", "balanced_accuracy", "mcc", "f1_macro"):
                record[f"valid_{key}"] = m[key]
            self._early_stopping(record)
        if self.log_path is not None:
            curves.append_log(self.log_path, record)
        self.records.append(record)
        log.info("step %d/%d %s", self.step, self.total_steps, " ".join(
            f"{k}={v:.4g}" for k, v in record.items()
            if k not in ("step", "epoch") and isinstance(v, float)))
        return record

    def _early_stopping(self, record: dict[str, Any]) -> None:
        """Keep the weights of the best evaluation; ties on the metric go to the lower loss."""
        metric = self.p["early_stop_metric"]
        value = record["valid_loss"] if metric == "loss" else record[f"valid_{metric}"]
        signed = None if value is None else value if MAXIMISE[metric] else -value
        key = (_finite(signed), _finite(-record["valid_loss"]))  # larger is better
        if self.best_key is None or key > self.best_key:
            self.best_key, self.best_value, self.best_step, self.bad_evals = key, value, self.step, 0
            self.best_state = {k: v.detach().cpu().clone() for k, v in self.net.state_dict().items()}
        else:
            self.bad_evals += 1
            if self.p["patience"] > 0 and self.bad_evals >= self.p["patience"]:
                self.stopped = True
                log.info("early stop at step %d: %s has not improved for %d evaluations "
                         "(best %s at step %d)", self.step, metric, self.bad_evals,
                         self.best_value, self.best_step)

    def _rank0_stopped(self) -> bool:
        """Rank 0's early-stopping decision, on every rank (only rank 0 evaluates)."""
        flag = torch.tensor([self.stopped], dtype=torch.int32, device=self.device)  # (1,)
        dist.broadcast(flag, src=0)
        return bool(flag.item())

    # ------------------------------------------------------------ checkpoints

    def save_checkpoint(self) -> None:
        if self.out is None:
            return
        self._flush_loss()
        opt_tensors, opt_doc = checkpoint.optimizer_tensors(self.optimizer)
        rng = {"torch_cpu": torch.get_rng_state()}
        if self.device.type == "cuda":
            for i, s in enumerate(torch.cuda.get_rng_state_all()):
                rng[f"torch_cuda.{i}"] = s
        tensors = {"model": dict(self.net.state_dict()), "optimizer": opt_tensors, "rng": rng}
        if self.best_state is not None and self.best_step != self.step:
            tensors["best"] = self.best_state
        state = {
            "format_version": CHECKPOINT_FORMAT, "family": self.spec.family, "step": self.step,
            "epoch": self.epoch, "group": self.group, "total_steps": self.total_steps,
            "best_key": None if self.best_key is None
            else [v if math.isfinite(v) else None for v in self.best_key],
            "best_value": _json_number(self.best_value), "best_step": self.best_step,
            "bad_evals": self.bad_evals, "stopped": self.stopped,
            "loss_sum": self.loss_sum, "loss_n": self.loss_n, "seed": self.seed,
            "data_sha256": self.context.data_sha256 if self.context else "",
            "optimizer": opt_doc,
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "params": self.p, "world_size": self.place.size,
        }
        checkpoint.save(self.out, self.step, tensors, state, self.p["keep_checkpoints"])

    def restore(self) -> None:
        path = checkpoint.latest(self.directory)
        if path is None:
            log.info("--resume: no checkpoint in %s; starting at step 0", self.directory)
            if self.log_path is not None:
                self.log_path.unlink(missing_ok=True)
            return
        tensors, state = checkpoint.load(path)
        if state.get("format_version") != CHECKPOINT_FORMAT or state.get("family") != self.spec.family:
            raise ValueError(f"{path} is not a {self.spec.family} checkpoint of this version; "
                             "train without --resume")
        sha = self.context.data_sha256 if self.context else ""
        if state.get("data_sha256") and sha and state["data_sha256"] != sha:
            raise ValueError(f"{path} was trained on other rows than these; train without --resume")
        if state.get("seed") != self.seed:
            raise ValueError(f"{path} was trained with --seed {state.get('seed')}; resume with it")
        if state.get("world_size", 1) != self.place.size:
            raise ValueError(f"{path} was trained by {state.get('world_size', 1)} processes "
                             f"(torchrun --nproc_per_node), not {self.place.size}; resume with as many")
        changed = sorted(k for k in set(state["params"]) | set(self.p)
                         if state["params"].get(k) != self.p.get(k))
        if changed:
            log.warning("resuming with changed options: %s", ", ".join(
                f"{k} {state['params'].get(k)} → {self.p.get(k)}" for k in changed))
        try:
            self.net.load_state_dict(tensors["model"])
        except RuntimeError as err:
            raise ValueError(f"{path} does not fit this network ({str(err).splitlines()[0]}); "
                             "train without --resume") from None
        self.optimizer.load_state_dict(
            checkpoint.optimizer_state_dict(tensors["optimizer"], state["optimizer"]))
        for g, decayed in zip(self.optimizer.param_groups, self.decayed):
            if decayed:  # --weight-decay may have changed
                g["weight_decay"] = self.p["weight_decay"]
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(tensors["rng"]["torch_cpu"])
        cuda_states = [tensors["rng"][k] for k in sorted(tensors["rng"]) if k.startswith("torch_cuda.")]
        if self.device.type == "cuda" and len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)
        self.step, self.epoch, self.group = state["step"], state["epoch"], state["group"]
        self.best_step, self.bad_evals = state["best_step"], state["bad_evals"]
        self.best_value = state["best_value"]
        self.best_key = None if state["best_key"] is None \
            else tuple(_finite(v) for v in state["best_key"])
        self.stopped = state["stopped"]
        self.loss_sum, self.loss_n = state["loss_sum"], state["loss_n"]
        if self.best_step is not None:
            self.best_state = tensors.get("best") if self.best_step != self.step \
                else {k: v.clone() for k, v in tensors["model"].items()}
        if self.log_path is not None:
            self.records = curves.truncate_log(self.log_path, self.step)
        self.resumed_from = self.step
        log.info("resuming from %s (step %d of %d)", path, self.step, self.total_steps)

    # ------------------------------------------------------------ the loop

    def run(self) -> tuple[torch.nn.Module, dict[str, Any]]:
        p = self.p
        if self.context is not None and self.context.resume:
            self.restore()
        elif self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
        rank, ranks = self.place.rank, self.place.size
        if ranks > 1:
            # ranks seeded alike would draw the same dropout masks; the step reseeds a resumed run
            torch.manual_seed(int(np.random.default_rng([self.seed, rank, self.step]).integers(2 ** 63)))
            if self.place.main:
                log.info("%d processes: effective batch %d (--batch-size %d x --grad-accum %d x %d)",
                         ranks, p["batch_size"] * p["grad_accum"] * ranks, p["batch_size"],
                         p["grad_accum"], ranks)
        started = time.monotonic()
        kill_at = int(os.environ.get(KILL_ENV) or 0)
        bar = tqdm(total=self.total_steps, initial=self.step, unit="step", dynamic_ncols=True,
                   desc=f"train {self.spec.family}", disable=not sys.stderr.isatty() or not self.place.main)
        try:
            while self.step < self.total_steps and not self.stopped:
                batches = batching.plan_epoch(self.n, self.lengths, p["batch_size"],
                                              batching.epoch_rng(self.seed, self.epoch),
                                              self.sample_weights)
                accum = p["grad_accum"]
                groups = [batches[i:i + accum] for i in range(0, len(batches), accum)]
                epoch = self.epoch
                for s in range(self.group, self.steps_per_epoch):
                    g = (s * ranks + rank) % len(groups)  # this rank's share; see the docstring
                    self.train_step(groups[g], epoch, g)
                    self.step += 1
                    self.group = s + 1
                    end_of_epoch = self.group == self.steps_per_epoch
                    if end_of_epoch:
                        self.epoch, self.group = epoch + 1, 0
                    bar.update(1)
                    last = self.step >= self.total_steps
                    evaluated = last or (p["eval_every"] > 0 and self.step % p["eval_every"] == 0) \
                        or (p["eval_every"] <= 0 and end_of_epoch)
                    if evaluated and self.place.main:
                        record = self.evaluate()
                        bar.set_postfix({k: f"{v:.3g}" for k, v in record.items()
                                         if k in ("train_loss", "valid_loss", "valid_mcc")
                                         and isinstance(v, float)})
                    if evaluated and ranks > 1:
                        self.stopped = self._rank0_stopped()
                    if last or self.stopped or (
                            p["checkpoint_every"] > 0 and self.step % p["checkpoint_every"] == 0) \
                            or (p["checkpoint_every"] <= 0 and evaluated):
                        self.save_checkpoint()
                    if kill_at and self.step == kill_at:
                        os.kill(os.getpid(), signal.SIGKILL)
                    if last or self.stopped:
                        break
        finally:
            bar.close()

        if self.best_state is not None:
            self.net.load_state_dict(self.best_state)
        self.net.eval()
        if self.out is not None:
            curves.plot(self.records, self.out)
        record = {
            "steps": self.step, "total_steps": self.total_steps,
            "epochs": round(self.step / self.steps_per_epoch, 4),
            "effective_batch_size": p["batch_size"] * p["grad_accum"] * ranks,
            "world_size": ranks,
            "best_step": self.best_step if self.best_state is not None else self.step,
            "early_stop_metric": p["early_stop_metric"],
            "best_value": _json_number(self.best_value),
            "stopped_early": self.stopped, "device": str(self.device),
            "precision": {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.amp],
            "resumed_from_step": self.resumed_from,
            "seconds": round(time.monotonic() - started, 2),
        }
        return self.net, {"training_loop": record}
