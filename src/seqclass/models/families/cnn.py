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

from dataclasses import dataclass

from seqclass.config import OptionError, at_least, option
from seqclass.models.base import register
from seqclass.models.deep import DeepClassifier
from seqclass.sequence.alphabets import DNA, core_size
from seqclass.spec import ModelSpec
from seqclass.training.params import DeepTrainParams


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

    def __post_init__(self) -> None:
        super().__post_init__()
        at_least(self, ("channels", "kernel_size", "conv_layers", "pool_size"))
        if self.pooling == "flatten":
            if self.max_len <= 0:
                raise OptionError("--pooling flatten needs --max-len: the input length the dense "
                                  "layer is built for")
            left = self.max_len  # networks.cnn.pooled_length, without importing PyTorch
            for _ in range(self.conv_layers):
                left //= self.pool_size
                if left < 1:
                    raise OptionError(f"--max-len {self.max_len} leaves no position after "
                                      f"{self.conv_layers} max-pools of width {self.pool_size}")


@register("cnn")
class Cnn(DeepClassifier):
    Params = CnnParams

    @classmethod
    def check(cls, spec: ModelSpec) -> None:
        """The options that depend on the data (the rest: CnnParams.__post_init__)."""
        if spec.params.rc_average and spec.alphabet != DNA:
            raise ValueError("--rc-average needs DNA")

    @classmethod
    def build(cls, spec: ModelSpec):
        p = spec.params
        from seqclass.models.networks.cnn import CnnNet

        return CnnNet(core_size(spec.alphabet), len(spec.labels), p.channels, p.kernel_size,
                      p.conv_layers, p.dropout, p.rc_average, p.pool_size,
                      p.max_len if p.pooling == "flatten" else 0)
