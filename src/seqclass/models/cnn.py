"""`cnn`: a 1D convolutional network on one-hot residues, the CNNProm / Genomic Benchmarks baseline.

Residues are one-hot (an ambiguity code spreads evenly over the core alphabet, padding is
all zero); --conv-layers convolutions of --channels filters --kernel-size wide, each with
ReLU, dropout, padded positions zeroed, and a max-pool --pool-size wide; then one vector
per sequence; a dense layer of --channels units; one logit per class.

That vector is, with `--pooling max`, the maximum of each filter over the whole sequence:
any length, but blind to where a motif sits. With `--pooling flatten` it is every
position's filter values side by side, the CNNProm design, for sequences aligned on a
landmark (promoters cut around the transcription start: the -10 and -35 boxes matter only
at their distance from it). Every sequence is then padded to --max-len residues, longer
ones cropped in training and scored as the mean over windows, as in every deep family.

With --rc-average (DNA only) the logits are the mean of the sequence's and its reverse
complement's, in training and scoring alike, so both strands get the same prediction.

Weights (model.safetensors): `convs.<i>.weight` (H, A or H, kernel), `convs.<i>.bias` (H,),
`head.0.*` (H, H) or (H, H x positions after pooling), `head.3.*` (C, H).
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
    pool_size: int = option("max-pool width after each convolution (1: no pooling)", 1)
    pooling: str = option("one vector per sequence from the last convolution: the maximum over "
                          "all positions (any length, position-blind), or all positions side by "
                          "side (for sequences aligned on a landmark; needs --max-len)", "max",
                          choices=["max", "flatten"])
    rc_average: bool = option("DNA: average the logits of each sequence and of its reverse "
                              "complement (strand-independent predictions)", False)


def pooled_length(length: int, layers: int, pool_size: int) -> int:
    """Positions left of `length` after `layers` max-pools of width `pool_size`."""
    for _ in range(layers):
        length //= pool_size
    return length


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
                     layers: int, dropout: float, rc_average: bool, pool_size: int,
                     flatten_len: int):
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
            self.pool_size = pool_size
            self.flatten_len = flatten_len  # input positions with --pooling flatten, else 0
            # the shortest input that keeps a position through every pool
            self.min_len = flatten_len or pool_size ** layers
            features = channels * pooled_length(flatten_len, layers, pool_size) if flatten_len else channels
            self.head = nn.Sequential(nn.Linear(features, channels), nn.ReLU(), nn.Dropout(dropout),
                                      nn.Linear(channels, n_classes))

        def strand(self, tokens: torch.Tensor) -> torch.Tensor:
            if tokens.shape[1] < self.min_len:  # with flatten: each feature is one position
                tokens = nn.functional.pad(tokens, (0, self.min_len - tokens.shape[1]), value=PAD)
            mask = (tokens != PAD)[:, None, :].float()  # (B, 1, L)
            x = self.onehot[tokens].transpose(1, 2)  # (B, A, L)
            for conv in self.convs:
                x = self.dropout(torch.relu(conv(x))) * mask  # (B, H, L), padding zeroed
                if self.pool_size > 1:
                    x = nn.functional.max_pool1d(x, self.pool_size)  # (B, H, L // pool)
                    mask = nn.functional.max_pool1d(mask, self.pool_size)  # (B, 1, L // pool)
            if self.flatten_len:
                return self.head(x.flatten(1))  # (B, C) from (B, H x L')
            x = x.masked_fill(mask == 0, float("-inf")).amax(dim=2)  # (B, H) global max-pool
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
        require_at_least_one(p, ("channels", "kernel_size", "conv_layers", "pool_size"))
        if p["pooling"] == "flatten" and p["max_len"] <= 0:
            raise ValueError("--pooling flatten needs --max-len: the input length the dense "
                             "layer is built for")
        if p["pooling"] == "flatten" and pooled_length(p["max_len"], p["conv_layers"], p["pool_size"]) < 1:
            raise ValueError(f"--max-len {p['max_len']} leaves no position after "
                             f"{p['conv_layers']} max-pools of width {p['pool_size']}")

    @classmethod
    def build(cls, spec: ModelSpec):
        p = spec.params
        return _network()(core_size(spec.alphabet), len(spec.labels), p["channels"],
                          p["kernel_size"], p["conv_layers"], p["dropout"], p["rc_average"],
                          p["pool_size"], p["max_len"] if p["pooling"] == "flatten" else 0)
