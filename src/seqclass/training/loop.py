"""The one training loop of every deep family: CPU in the tests, CUDA in production.

Given a family (which builds an untrained `nn.Module`; see `NetworkFamily` and models.deep),
the loop

- keeps the training rows as strings, encoded batch by batch, and plans each epoch from the
  seed alone: length-bucketed batches (training.batching), padded per batch, sequences
  longer than --max-len cropped at random;
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
- writes a checkpoint (training.checkpoint) every --checkpoint-every steps or after each
  evaluation and at the end, from which --resume continues a killed run: weights,
  optimizer and scaler state, random generator states and the position in the epoch's
  plan are restored, so the resumed run retraces the one that was killed;
- draws loss.png and metrics.png from the log, and returns the best weights.

Under torchrun (WORLD_SIZE above 1, see training.distributed) it trains data-parallel, one
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

The optimizer, schedule, random-state bookkeeping and kill hook of the tests are those of
every loop of seqclass (training.optimizer, training.checkpoint); the language model of
`seqclass pretrain` trains on them too (training.language_model).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import sys
import time
from typing import Any, Protocol

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm

from seqclass.evaluation import metrics
from seqclass.spec import ModelSpec, TrainContext, TrainData, to_probabilities
from seqclass.training import batching, checkpoint, curves
from seqclass.training.devices import autocast, autocast_dtype, grad_scaler, rank_device
from seqclass.training.distributed import ALONE, World, world
from seqclass.training.optimizer import grouped_adamw, lr_factor
from seqclass.training.scoring import infer, to_device

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1
MAXIMISE = {"mcc": True, "f1_macro": True, "loss": False}


class NetworkFamily(Protocol):
    """What the loop asks of a model family (models.deep.DeepClassifier provides it all).

    Optional hooks, used where the family has them: `initialise(net, spec)` (initial weights,
    e.g. a pretrained encoder), `param_groups(net, spec)` ([(parameters, lr factor)], layer
    groups bottom to top) and `before_step(net, spec, step, steps_per_epoch)` (which
    parameters train at a step: gradual unfreezing).
    """

    def build(self, spec: ModelSpec) -> torch.nn.Module: ...
    def encode(self, spec: ModelSpec, sequences: list[str]) -> list[np.ndarray]: ...
    def collate(self, spec: ModelSpec, arrays: list[np.ndarray]) -> tuple[np.ndarray, ...]: ...
    def token_lengths(self, spec: ModelSpec, sequences: list[str]) -> np.ndarray: ...
    def max_tokens(self, spec: ModelSpec) -> int: ...


def _json_number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _finite(value: float | None) -> float:
    """A metric to compare: undefined or NaN ranks below every number."""
    return value if value is not None and math.isfinite(value) else -math.inf


def train_network(family: NetworkFamily, spec: ModelSpec, train: TrainData, valid: TrainData | None,
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
    device = rank_device(spec.params.device, place)
    if device.type == "cuda":
        torch.cuda.set_device(device)  # NCCL's and inference's "cuda" is this rank's GPU
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")  # RANK etc. from torchrun
    try:
        return Trainer(family, spec, train, valid, seed, context, place).run()
    finally:
        dist.destroy_process_group()


class Trainer:
    """One training run of one network. The set-up phases run in this order because it fixes
    which random numbers each one draws (the network's initial weights first)."""

    def __init__(self, family: NetworkFamily, spec: ModelSpec, train: TrainData,
                 valid: TrainData | None, seed: int, context: TrainContext | None,
                 place: World = ALONE):
        self.family, self.spec, self.seed, self.context, self.place = family, spec, seed, context, place
        self.p = spec.params
        self.directory = context.directory if context is not None else None  # every rank reads it
        self.out = self.directory if place.main else None  # rank 0 alone writes it
        self.log_path = self.out / curves.LOG if self.out is not None else None
        self.device = rank_device(self.p.device, place)
        self.amp = autocast_dtype(self.p.precision, self.device)
        self.multilabel = spec.task == "multilabel"
        self.net = self._build_network()
        self._set_training_rows(train)
        self._set_balancing(train)
        self._set_validation(valid)
        self._set_schedule()
        parts = (family.param_groups(self.net, spec) if hasattr(family, "param_groups")
                 else [(list(self.net.parameters()), 1.0)])  # [(parameters, lr factor)]
        self.adamw = grouped_adamw(parts, self.p.lr, self.p.weight_decay)
        self.optimizer = self.adamw.optimizer
        self.scaler = grad_scaler() if self.amp == torch.float16 else None
        self.stepped = self._data_parallel()
        self._reset_progress()

    # ------------------------------------------------------------ set-up phases

    def _build_network(self) -> torch.nn.Module:
        torch.manual_seed(self.seed)
        if self.device.type == "cuda":
            torch.cuda.manual_seed_all(self.seed)
            torch.backends.cudnn.benchmark = False
        net = self.family.build(self.spec).to(self.device)
        if hasattr(self.family, "initialise"):
            self.family.initialise(net, self.spec)
        return net

    def _set_training_rows(self, train: TrainData) -> None:
        # training rows stay strings, encoded batch by batch (token arrays would take 8 bytes a
        # residue); their lengths in tokens, after cropping to --max-len, drive the bucketing
        self.max_tokens = self.family.max_tokens(self.spec)
        self.sequences = train.sequences
        self.n = len(self.sequences)
        self.lengths = self.family.token_lengths(self.spec, self.sequences)
        if self.max_tokens:
            self.lengths = np.minimum(self.lengths, self.max_tokens)  # (N,)
        self.y = torch.as_tensor(train.targets, dtype=torch.float32 if self.multilabel else torch.int64)

    def _set_balancing(self, train: TrainData) -> None:
        """A weighted sampler, or class weights in the loss (multilabel: positive weights)."""
        self.sample_weights = (batching.inverse_frequency(train.targets, self.spec.task)
                               if self.p.sampler == "weighted" else None)
        self.class_weights = self.pos_weight = None
        if self.p.class_weight != "balanced" or self.sample_weights is not None:
            return
        n_classes = len(self.spec.labels)
        if self.multilabel:
            pos = train.targets.sum(axis=0).astype(np.float64)  # (C,)
            self.pos_weight = torch.tensor((self.n - pos) / np.maximum(pos, 1),
                                           dtype=torch.float32, device=self.device)
        else:
            counts = np.bincount(train.targets, minlength=n_classes).astype(np.float64)
            w = np.divide(self.n, n_classes * counts, out=np.zeros(n_classes), where=counts > 0)
            self.class_weights = torch.tensor(w, dtype=torch.float32, device=self.device)

    def _set_validation(self, valid: TrainData | None) -> None:
        """A fixed, bounded random subset of the validation rows, encoded once."""
        self.valid_tokens: list[np.ndarray] | None = None
        if valid is not None and len(valid.sequences):
            idx = np.arange(len(valid.sequences))
            cap = self.p.eval_max_samples
            if cap > 0 and len(idx) > cap:
                idx = np.sort(np.random.default_rng([self.seed, 7919]).choice(len(idx), cap,
                                                                              replace=False))
            self.valid_tokens = self.family.encode(self.spec, [valid.sequences[i] for i in idx])
            self.valid_targets = valid.targets[idx]
        if self.valid_tokens is None:
            log.warning("no validation rows: no early stopping; the model is the last step's")

    def _set_schedule(self) -> None:
        """Steps and warm-up; a step takes one group of --grad-accum batches on each rank."""
        p = self.p
        self.batches_per_epoch = math.ceil(self.n / p.batch_size)
        groups_per_epoch = math.ceil(self.batches_per_epoch / p.grad_accum)
        self.steps_per_epoch = math.ceil(groups_per_epoch / self.place.size)
        self.total_steps = p.max_steps if p.max_steps > 0 else p.epochs * self.steps_per_epoch
        self.warmup = int(round(p.warmup_ratio * self.total_steps))

    def _data_parallel(self) -> torch.nn.Module:
        """What steps the weights: the network itself, or under torchrun its DDP wrapper, which
        averages the gradients over the ranks; self.net stays the bare network, whose
        state_dict the checkpoints, evaluation and the family's hooks use. The wrapper's
        constructor sends rank 0's weights to the others; being collective, it also holds
        every rank until rank 0 has prepared the model directory (steps.train) they resume from."""
        if self.place.size == 1:
            return self.net
        return torch.nn.parallel.DistributedDataParallel(
            self.net, device_ids=[self.device.index] if self.device.type == "cuda" else None,
            # some parameters get no gradient at some steps: awd-lstm's frozen layer groups,
            # the heads a pretrained encoder has besides the classifier's (ESM's contact head)
            find_unused_parameters=True)

    def _reset_progress(self) -> None:
        """The run's progress; all of it goes into a checkpoint."""
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
        self.adamw.set_lr(self.p.lr * lr_factor(self.step, self.warmup, self.total_steps,
                                                self.p.schedule))
        rows = sum(len(b) for b in micro)
        for j, idx in enumerate(micro):
            rng = batching.epoch_rng(self.seed, epoch, group, j)
            seqs = [batching.crop(self.sequences[i], self.p.max_len, rng) for i in idx]
            # by default tokens (B, L) and lengths (B,); see models.deep
            inputs = to_device(self.family.collate(self.spec, self.family.encode(self.spec, seqs)),
                               self.device)
            y = self.y[torch.from_numpy(idx)].to(self.device, non_blocking=True)  # (B,) or (B, C)
            # DDP averages the gradients over the ranks in the step's last backward only
            local = self.stepped is not self.net and j < len(micro) - 1
            sync = self.stepped.no_sync() if local else contextlib.nullcontext()  # type: ignore[operator]
            with sync:
                with autocast(self.device, self.amp):
                    logits = self.stepped(*inputs)  # (B, C)
                loss = self.loss(logits.float(), y) / rows
                (self.scaler.scale(loss) if self.scaler is not None else loss).backward()
            self._loss_acc += loss.detach().double() * rows
        self.loss_n += rows
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        if self.p.clip_norm > 0:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.p.clip_norm)
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
            "lr": self.optimizer.param_groups[0]["lr"] / self.adamw.lr_scales[0],  # --lr's schedule
            "train_loss": self.loss_sum / self.loss_n if self.loss_n else None}
        self.loss_sum, self.loss_n = 0.0, 0
        if self.valid_tokens is not None:
            logits = infer(self.net, self.valid_tokens, self.max_tokens, self.p.batch_size * 2,
                           self.device, self.amp,
                           lambda arrays: self.family.collate(self.spec, arrays))  # (V, C)
            y = torch.as_tensor(self.valid_targets,
                                dtype=torch.float32 if self.multilabel else torch.int64)
            record["valid_loss"] = float(self.loss(torch.from_numpy(logits), y)) / len(y)
            probs = to_probabilities(logits, self.spec.task)
            m = (metrics.multilabel(self.valid_targets, probs, self.spec.labels)
                 if self.multilabel else metrics.multiclass(self.valid_targets, probs,
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
        metric = self.p.early_stop_metric
        value = record["valid_loss"] if metric == "loss" else record[f"valid_{metric}"]
        signed = None if value is None else value if MAXIMISE[metric] else -value
        key = (_finite(signed), _finite(-record["valid_loss"]))  # larger is better
        if self.best_key is None or key > self.best_key:
            self.best_key, self.best_value, self.best_step, self.bad_evals = key, value, self.step, 0
            self.best_state = {k: v.detach().cpu().clone() for k, v in self.net.state_dict().items()}
        else:
            self.bad_evals += 1
            if self.p.patience > 0 and self.bad_evals >= self.p.patience:
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
        tensors = {"model": dict(self.net.state_dict()), "optimizer": opt_tensors,
                   "rng": checkpoint.rng_tensors(self.device)}
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
            "params": dataclasses.asdict(self.p), "world_size": self.place.size,
        }
        checkpoint.save(self.out, self.step, tensors, state, self.p.keep_checkpoints)

    def restore(self) -> None:
        assert self.directory is not None  # only a run with a TrainContext resumes
        path = checkpoint.latest(self.directory)
        if path is None:
            log.info("--resume: no checkpoint in %s; starting at step 0", self.directory)
            if self.log_path is not None:
                self.log_path.unlink(missing_ok=True)
            return
        tensors, state = checkpoint.load(path)
        self._check_resumable(path, state)
        try:
            self.net.load_state_dict(tensors["model"])
        except RuntimeError as err:
            raise ValueError(f"{path} does not fit this network ({str(err).splitlines()[0]}); "
                             "train without --resume") from None
        self.optimizer.load_state_dict(
            checkpoint.optimizer_state_dict(tensors["optimizer"], state["optimizer"]))
        self.adamw.set_weight_decay(self.p.weight_decay)
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        checkpoint.restore_rng(tensors["rng"], self.device)
        self._restore_progress(state, tensors)
        log.info("resuming from %s (step %d of %d)", path, self.step, self.total_steps)

    def _check_resumable(self, path, state: dict[str, Any]) -> None:
        """Refuse a checkpoint of another family, data, seed or number of processes; warn of
        changed options."""
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
        now = dataclasses.asdict(self.p)
        changed = sorted(k for k in set(state["params"]) | set(now)
                         if state["params"].get(k) != now.get(k))
        if changed:
            log.warning("resuming with changed options: %s", ", ".join(
                f"{k} {state['params'].get(k)} → {now.get(k)}" for k in changed))

    def _restore_progress(self, state: dict[str, Any], tensors: dict[str, Any]) -> None:
        self.step, self.epoch, self.group = state["step"], state["epoch"], state["group"]
        self.best_step, self.bad_evals = state["best_step"], state["bad_evals"]
        self.best_value = state["best_value"]
        metric, loss = state["best_key"] or (None, None)
        self.best_key = None if state["best_key"] is None else (_finite(metric), _finite(loss))
        self.stopped = state["stopped"]
        self.loss_sum, self.loss_n = state["loss_sum"], state["loss_n"]
        if self.best_step is not None:
            self.best_state = tensors.get("best") if self.best_step != self.step \
                else {k: v.clone() for k, v in tensors["model"].items()}
        if self.log_path is not None:
            self.records = curves.truncate_log(self.log_path, self.step)
        self.resumed_from = self.step

    # ------------------------------------------------------------ the loop

    def run(self) -> tuple[torch.nn.Module, dict[str, Any]]:
        self._start()
        started = time.monotonic()
        bar = tqdm(total=self.total_steps, initial=self.step, unit="step", dynamic_ncols=True,
                   desc=f"train {self.spec.family}", disable=not sys.stderr.isatty() or not self.place.main)
        try:
            while self.step < self.total_steps and not self.stopped:
                self._run_epoch(bar)
        finally:
            bar.close()
        if self.best_state is not None:
            self.net.load_state_dict(self.best_state)
        self.net.eval()
        if self.out is not None:
            curves.plot(self.records, self.out)
        return self.net, {"training_loop": self._summary(time.monotonic() - started)}

    def _start(self) -> None:
        """Resume from the last checkpoint, or start a fresh log; seed each rank's dropout."""
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
                         ranks, self.p.batch_size * self.p.grad_accum * ranks, self.p.batch_size,
                         self.p.grad_accum, ranks)

    def _run_epoch(self, bar: tqdm) -> None:
        """The steps left in the current epoch, this rank's share of its planned groups."""
        batches = batching.plan_epoch(self.n, self.lengths, self.p.batch_size,
                                      batching.epoch_rng(self.seed, self.epoch), self.sample_weights)
        accum = self.p.grad_accum
        groups = [batches[i:i + accum] for i in range(0, len(batches), accum)]
        epoch = self.epoch
        for s in range(self.group, self.steps_per_epoch):
            g = (s * self.place.size + self.place.rank) % len(groups)  # see the module docstring
            self.train_step(groups[g], epoch, g)
            self.step += 1
            self.group = s + 1
            end_of_epoch = self.group == self.steps_per_epoch
            if end_of_epoch:
                self.epoch, self.group = epoch + 1, 0
            bar.update(1)
            if self._after_step(bar, end_of_epoch):
                break

    def _after_step(self, bar: tqdm, end_of_epoch: bool) -> bool:
        """Evaluate, checkpoint and stop as the options say; True when training is over."""
        p = self.p
        last = self.step >= self.total_steps
        evaluated = last or (p.eval_every > 0 and self.step % p.eval_every == 0) \
            or (p.eval_every <= 0 and end_of_epoch)
        if evaluated and self.place.main:
            record = self.evaluate()
            bar.set_postfix({k: f"{v:.3g}" for k, v in record.items()
                             if k in ("train_loss", "valid_loss", "valid_mcc") and isinstance(v, float)})
        if evaluated and self.place.size > 1:
            self.stopped = self._rank0_stopped()
        if last or self.stopped or (p.checkpoint_every > 0 and self.step % p.checkpoint_every == 0) \
                or (p.checkpoint_every <= 0 and evaluated):
            self.save_checkpoint()
        checkpoint.kill_if_asked(self.step)
        return last or self.stopped

    def _summary(self, seconds: float) -> dict[str, Any]:
        p, ranks = self.p, self.place.size
        return {
            "steps": self.step, "total_steps": self.total_steps,
            "epochs": round(self.step / self.steps_per_epoch, 4),
            "effective_batch_size": p.batch_size * p.grad_accum * ranks,
            "world_size": ranks,
            "best_step": self.best_step if self.best_state is not None else self.step,
            "early_stop_metric": p.early_stop_metric,
            "best_value": _json_number(self.best_value),
            "stopped_early": self.stopped, "device": str(self.device),
            "precision": {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.amp],
            "resumed_from_step": self.resumed_from,
            "seconds": round(seconds, 2),
        }
