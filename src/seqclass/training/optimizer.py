"""AdamW over groups of parameters, and the learning-rate schedule: what every training loop
of seqclass (the classifiers' and the language model's) steps its weights with.

Weight decay applies to matrices and embeddings (2 or more dimensions), never to biases,
norms or scalars. A loop can give layer groups learning-rate factors (discriminative
fine-tuning); the schedule is a linear warm-up over the first steps, then cosine, linear or
constant.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass
class GroupedAdamW:
    optimizer: torch.optim.AdamW
    lr_scales: list[float]  # per optimizer group, the factor of the scheduled learning rate
    decayed: list[bool]  # per optimizer group, whether weight decay applies

    def set_lr(self, lr: float) -> None:
        for group, scale in zip(self.optimizer.param_groups, self.lr_scales):
            group["lr"] = lr * scale

    def set_weight_decay(self, weight_decay: float) -> None:
        """After restoring a checkpoint: the weight decay given now, which may have changed."""
        for group, decayed in zip(self.optimizer.param_groups, self.decayed):
            if decayed:
                group["weight_decay"] = weight_decay


def grouped_adamw(parts: Sequence[tuple[list[torch.nn.Parameter], float]], lr: float,
                  weight_decay: float) -> GroupedAdamW:
    """AdamW over [(parameters, lr factor)], each part split into decayed and other weights;
    parameters that do not require gradients are left out."""
    groups, scales, decayed_flags = [], [], []
    for params, scale in parts:
        weights = [w for w in params if w.requires_grad]
        for decayed in (True, False):
            chosen = [w for w in weights if (w.ndim >= 2) == decayed]
            if chosen:
                decayed_flags.append(decayed)
                scales.append(scale)
                groups.append({"params": chosen, "weight_decay": weight_decay if decayed else 0.0})
    return GroupedAdamW(torch.optim.AdamW(groups, lr=lr), scales, decayed_flags)


def lr_factor(step: int, warmup: int, total: int, schedule: str) -> float:
    """Multiplier of the peak learning rate for the update after `step` updates: a linear
    warm-up over `warmup` steps, then `schedule` (cosine, linear or constant) to `total`."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    if schedule == "linear":
        return 1.0 - progress
    return 1.0
