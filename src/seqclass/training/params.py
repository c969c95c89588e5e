"""Options of the training loops, declared once: every deep family's Params extends
`DeepTrainParams` (the classifiers' loop), `seqclass pretrain`'s Config extends
`LanguageModelTraining` (the language model's).

Their fields become flags (`seqclass train` lists the shared ones in one group for all deep
families) and are stored with the family's own parameters in the model's config.json. This
module does not import PyTorch, so building the command line costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from seqclass.config import OptionError, at_least, option, within

EARLY_STOP_METRICS = ("mcc", "f1_macro", "loss")


@dataclass
class DeepTrainParams:
    options_title: ClassVar[str] = "deep training"

    epochs: int = option("passes over the training rows (when --max-steps is 0)", 10)
    max_steps: int = option("optimizer steps to train for; 0: --epochs decides", 0)
    batch_size: int = option("sequences per micro-batch", 32)
    grad_accum: int = option("micro-batches per optimizer step: the effective batch is "
                             "--batch-size x --grad-accum (x the processes under torchrun)", 1)
    lr: float = option("peak learning rate of AdamW", 1e-3)
    weight_decay: float = option("AdamW weight decay (biases, norms and scalars are not decayed)",
                                 0.01)
    warmup_ratio: float = option("fraction of the steps over which the learning rate rises "
                                 "linearly from 0 to --lr", 0.05)
    schedule: str = option("learning-rate decay after the warm-up", "cosine",
                           choices=["cosine", "linear", "constant"])
    clip_norm: float = option("clip the gradient norm to this; 0: no clipping", 1.0)
    class_weight: str = option("class weights of the loss, every family: balanced or none "
                               "(ignored with --sampler weighted)", "balanced",
                               choices=["balanced", "none"])
    sampler: str = option("draw training rows shuffled, or weighted by inverse class frequency "
                          "(with replacement)", "shuffle", choices=["shuffle", "weighted"])
    dropout: float = option("dropout probability", 0.1)
    max_len: int = option("residues per training sequence (longer ones are cropped at random); "
                          "longer inputs are scored as the mean over windows of this length; "
                          "0: no limit", 1024)
    early_stop_metric: str = option("validation metric that picks the best checkpoint and "
                                    "stops training", "mcc", choices=list(EARLY_STOP_METRICS))
    patience: int = option("stop after this many evaluations without improvement; 0: never "
                           "stop early", 5)
    eval_every: int = option("evaluate every N optimizer steps; 0: once per epoch", 0)
    eval_max_samples: int = option("validation rows scored per evaluation (a fixed random "
                                   "subset); 0: all", 2000)
    checkpoint_every: int = option("write a checkpoint every N optimizer steps; 0: after every "
                                   "evaluation (always one at the end)", 0)
    keep_checkpoints: int = option("how many of the newest checkpoints to keep", 1)
    precision: str = option("autocast precision: auto is bf16 on a CUDA device that supports it, "
                            "else fp16 on CUDA, fp32 on CPU", "auto",
                            choices=["auto", "fp32", "bf16", "fp16"])
    device: str = option("where to train and score: auto picks CUDA when available", "auto",
                         choices=["auto", "cpu", "cuda"])

    def __post_init__(self) -> None:
        """Refuse values no training can use, naming the flag, when the flags are parsed (and
        when a model directory's config.json is read). A family's Params checks its own options
        alone in a `__post_init__` that calls this one first."""
        at_least(self, ("batch_size", "grad_accum", "keep_checkpoints"))
        if self.max_steps <= 0 and self.epochs < 1:
            raise OptionError("give --epochs of at least 1 or --max-steps")
        for name in ("warmup_ratio", "dropout", "attention_dropout"):
            if hasattr(self, name):
                within(self, name, 0, 1, high_open=True)


@dataclass
class TokenParams(DeepTrainParams):
    """Families that embed tokens (residues or k-mers) rather than one-hot residues."""

    options_title: ClassVar[str] = "token embedding"

    embed_dim: int = option("token embedding size", 64)
    token_k: int | None = option("tokens are k-mers of this length (1: residues; default: 1, "
                                 "embedding-bag 3)", None)

    def __post_init__(self) -> None:
        super().__post_init__()
        at_least(self, ("embed_dim", "token_k"))  # the alphabet's vocabulary: check_params


@dataclass
class LanguageModelTraining:
    """Options of the language-model loop; `seqclass pretrain`'s Config extends them."""

    options_title: ClassVar[str] = "training"

    bptt: int = option("tokens per training window", 70)
    batch_size: int = option("windows per step", 64)
    max_steps: int = option("optimizer steps", 1000)
    lr: float = option("peak learning rate of AdamW", 2e-3)
    weight_decay: float = option("AdamW weight decay", 0.01)
    warmup_ratio: float = option("fraction of the steps of linear warm-up; then linear decay", 0.1)
    clip_norm: float = option("clip the gradient norm to this; 0: no clipping", 0.4)
    eval_every: int = option("evaluate every N steps (and at the last)", 100)
    eval_windows: int = option("held-out windows scored per evaluation (at most)", 64)
    device: str = option("where to train: auto picks CUDA when available", "auto",
                         choices=["auto", "cpu", "cuda"])
    seed: int = option("random seed", 0)
    checkpoint_every: int = option("write a checkpoint every N steps; 0: after every evaluation "
                                   "(always one at the last step)", 0)
    keep_checkpoints: int = option("how many of the newest checkpoints to keep", 1)
