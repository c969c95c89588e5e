"""`cnn`: a 1D convolutional network on one-hot residues, the CNNProm / Genomic Benchmarks baseline.

Residues are one-hot (an ambiguity code spreads evenly over the core alphabet, padding is
all zero); --conv-layers convolutions of --channels filters --kernel-size wide, each with
ReLU and dropout and padded positions zeroed after it; a global max-pool over the
sequence; a dense layer of --channels units; one logit per class. With --rc-average (DNA
only) the logits are the mean of the sequence's and its reverse complement's, in training
and scoring alike, so both strands of a sequence get the same prediction.

Weights (model.safetensors): `convs.<i>.weight` (H, A or H, kernel), `convs.<i>.bias` (H,),
`head.0.*` (H, H), `head.3.*` (C, H).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from seqclass.config import option
from seqclass.models.base import ModelSpec, register, require_at_least_one
from seqclass.models.deep import DeepClassifier
from seqclass.sequence.alphabet import DNA, core_size
from seqclass.sequence.encoding import PAD, complement_tokens
from seqclass.train.params import DeepTrainParams


@dataclass
class CnnParams(DeepTrainParams):
    channels: int = option("convolution filters per layer, and units of the dense layer", 128)
    kernel_size: int = option("convolution width in residues", 9)
    conv_layers: int = option("convolution layers", 3)
    rc_average: bool = option("DNA: average the logits of each sequence and of its reverse "
                              "complement (strand-independent predictions)", False)


@functools.cache
def _network():
    """The torch module class, defined on first use so that registering `cnn` imports no torch."""
    import torch
    from torch import nn

    def reverse_complement(tokens: torch.Tensor, lengths: torch.Tensor,
                           complement: torch.Tensor) -> torch.Tensor:
        """Each row's first `length` tokens reversed and complemented, padding kept at the end."""
        pos = torch.arange(tokens.shape[1], device=tokens.device)[None, :]  # (1, L)
        src = lengths[:, None] - 1 - pos  # (B, L) source position of each output position
        rc = complement[tokens.gather(1, src.clamp(min=0))]  # (B, L)
        return rc.masked_fill(src < 0, PAD)

    class CnnNet(nn.Module):
        def __init__(self, alphabet_size: int, n_classes: int, channels: int, kernel: int,
                     layers: int, dropout: float, rc_average: bool):
            super().__init__()
            onehot = torch.zeros(alphabet_size + 2, alphabet_size)  # (V, A): token → input vector
            onehot[1:alphabet_size + 1] = torch.eye(alphabet_size)
            onehot[alphabet_size + 1] = 1.0 / alphabet_size  # ambiguity code
            self.register_buffer("onehot", onehot, persistent=False)
            self.rc_average = rc_average
            if rc_average:
                self.register_buffer("complement", torch.from_numpy(complement_tokens()),
                                     persistent=False)
            self.convs = nn.ModuleList(
                nn.Conv1d(alphabet_size if i == 0 else channels, channels, kernel, padding="same")
                for i in range(layers))
            self.dropout = nn.Dropout(dropout)
            self.head = nn.Sequential(nn.Linear(channels, channels), nn.ReLU(), nn.Dropout(dropout),
                                      nn.Linear(channels, n_classes))

        def strand(self, tokens: torch.Tensor) -> torch.Tensor:
            mask = (tokens != PAD)[:, None, :]  # (B, 1, L)
            x = self.onehot[tokens].transpose(1, 2)  # (B, A, L)
            for conv in self.convs:
                x = self.dropout(torch.relu(conv(x))) * mask  # (B, H, L), padding zeroed
            x = x.masked_fill(~mask, float("-inf")).amax(dim=2)  # (B, H) global max-pool
            return self.head(x)  # (B, C)

        def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
            logits = self.strand(tokens)  # (B, C)
            if not self.rc_average:
                return logits
            backward = self.strand(reverse_complement(tokens, lengths, self.complement))  # (B, C)
            return (logits + backward) / 2

    return CnnNet


@register("cnn")
class Cnn(DeepClassifier):
    Params = CnnParams

    @classmethod
    def check(cls, spec: ModelSpec) -> None:
        p = spec.params
        if p["rc_average"] and spec.alphabet != DNA:
            raise ValueError("--rc-average needs DNA")
        require_at_least_one(p, ("channels", "kernel_size", "conv_layers"))

    @classmethod
    def build(cls, spec: ModelSpec):
        p = spec.params
        return _network()(core_size(spec.alphabet), len(spec.labels), p["channels"],
                          p["kernel_size"], p["conv_layers"], p["dropout"], p["rc_average"])
