"""`awd-lstm`: the Genomic-ULMFiT classifier, from scratch or fine-tuned from `seqclass pretrain`.

Tokens are k-mers (--token-k) taken every --token-stride residues (sequence.encoding). The
encoder is an AWD-LSTM: an embedding with embedding dropout (whole tokens dropped), then
--awd-layers unidirectional LSTMs (--awd-hidden units; the last one outputs --embed-dim, so a
language model can tie its decoder to the embedding) with DropConnect on the hidden-to-hidden
weights (--weight-dropout) and variational ("locked") dropout between layers
(--hidden-dropout). The classifier pools the last layer's outputs as ULMFiT does — the output
at each sequence's last token, the max and the mean over its tokens — and passes the
concatenation (3E) through a --awd-head-hidden ReLU layer to one logit per class. Padding comes
after each sequence and the LSTMs run forwards, so padding never reaches a real position.

With --pretrained LM_DIR (a `seqclass pretrain` output) the encoder starts from the language
model's weights and the LM's k, stride, alphabet and sizes are used (a conflicting flag is
refused); training then unfreezes gradually — the head alone for --unfreeze-every steps,
then one more LSTM layer (top first) every --unfreeze-every steps, the embedding last — with
discriminative learning rates: each layer group below the head learns --lr-decay-per-layer
times slower than the one above it.

Weights: `encoder.embed.weight` (V, E), `encoder.rnns.<i>.weight_ih_l0` and the other LSTM
tensors of layer i, `head.0.*` (--awd-head-hidden, 3E), `head.3.*` (C, --awd-head-hidden).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from seqclass import config
from seqclass.config import option
from seqclass.models.base import register
from seqclass.models.deep import DeepClassifier
from seqclass.sequence import encoding
from seqclass.sequence.encoding import vocab_size
from seqclass.spec import ModelSpec
from seqclass.training.params import TokenParams

log = logging.getLogger(__name__)

LM_FORMAT_VERSION = 1
LM_KIND = "seqclass-language-model"
LM_CONFIG = "config.json"
LM_WEIGHTS = "model.safetensors"
DEFAULT_HIDDEN = 256
DEFAULT_LAYERS = 3


@dataclass
class AwdLstmParams(TokenParams):
    token_stride: int | None = option("awd-lstm: take every N-th k-mer as a token (default: the "
                                     "language model's with --pretrained, else 1)", None)
    awd_hidden: int | None = option("awd-lstm: LSTM units of the inner layers (default: the "
                                    f"language model's, else {DEFAULT_HIDDEN})", None)
    awd_layers: int | None = option("awd-lstm: stacked LSTM layers (default: the language "
                                    f"model's, else {DEFAULT_LAYERS})", None)
    awd_head_hidden: int = option("awd-lstm: units of the classifier head's hidden layer", 50)
    embed_dropout: float = option("awd-lstm: probability of dropping a whole token's embedding",
                                  0.02)
    weight_dropout: float = option("awd-lstm: DropConnect on the LSTMs' hidden-to-hidden weights",
                                   0.2)
    hidden_dropout: float = option("awd-lstm: locked dropout on the embeddings and between "
                                   "LSTM layers", 0.1)
    pretrained: str | None = option("start from this pretrained model (awd-lstm: a `seqclass "
                                    "pretrain` directory, whose k, stride and sizes are used)",
                                    None)
    unfreeze_every: int = option("awd-lstm with --pretrained: train the head alone for N steps, "
                                 "then unfreeze one more layer (top first, embedding last) every "
                                 "N steps; 0: one epoch of steps; -1: everything from the start",
                                 0)
    lr_decay_per_layer: float = option("awd-lstm with --pretrained: each layer group below the "
                                       "head learns this many times slower than the one above "
                                       "(ULMFiT: 2.6); 1: one learning rate", 2.6)

    def __post_init__(self) -> None:
        super().__post_init__()
        config.at_least(self, ("awd_hidden", "awd_layers", "awd_head_hidden", "token_stride"))
        for name in ("embed_dropout", "weight_dropout", "hidden_dropout"):
            config.within(self, name, 0, 1, high_open=True)
        config.above(self, ("lr_decay_per_layer",), 0)
        config.at_least(self, ("unfreeze_every",), -1)  # -1: all from the start, 0: an epoch


# ---------------------------------------------------------------- language-model directories

def read_lm_config(directory: str | Path) -> dict[str, Any]:
    """config.json of a `seqclass pretrain` directory; ValueError naming the directory."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"{directory}: language model directory not found")
    path = directory / LM_CONFIG
    if not path.is_file() or not (directory / LM_WEIGHTS).is_file():
        raise ValueError(f"{directory}: not a seqclass language model directory "
                         f"(needs {LM_CONFIG} and {LM_WEIGHTS}; make one with seqclass pretrain)")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: corrupt JSON ({err})") from None
    if not isinstance(doc, dict) or doc.get("kind") != LM_KIND:
        raise ValueError(f"{directory}: not a seqclass language model (config.json kind is "
                         f"{doc.get('kind') if isinstance(doc, dict) else None!r})")
    if doc.get("format_version") != LM_FORMAT_VERSION or doc.get("architecture") != "awd-lstm":
        raise ValueError(f"{directory}: language model format {doc.get('format_version')} / "
                         f"{doc.get('architecture')} is not {LM_FORMAT_VERSION} / awd-lstm")
    return doc


# ---------------------------------------------------------------- the family

@register("awd-lstm")
class AwdLstm(DeepClassifier):
    Params = AwdLstmParams
    default_token_k = 3

    @classmethod
    def resolve(cls, spec: ModelSpec) -> ModelSpec:
        """The architecture filled in: the language model's with --pretrained (refusing a
        conflicting flag), else the defaults."""
        p = spec.params
        if not p.pretrained:
            return replace(spec, params=replace(
                p, token_k=cls.token_k(spec), token_stride=p.token_stride or 1,
                awd_hidden=p.awd_hidden or DEFAULT_HIDDEN, awd_layers=p.awd_layers or DEFAULT_LAYERS))
        lm = read_lm_config(p.pretrained)
        where = p.pretrained
        if lm["alphabet"] != spec.alphabet:
            raise ValueError(f"{where}: a {lm['alphabet']} language model cannot start a "
                             f"{spec.alphabet} classifier")
        if lm["vocab_size"] != vocab_size(lm["alphabet"], lm["k"]):
            raise ValueError(f"{where}: vocab_size {lm['vocab_size']} does not fit k {lm['k']}")
        from_lm = {}
        for key, lm_key in (("token_k", "k"), ("token_stride", "stride"), ("awd_hidden", "hidden"),
                            ("awd_layers", "layers")):
            if getattr(p, key) is not None and getattr(p, key) != lm[lm_key]:
                raise ValueError(f"{config.flag(type(p), key)} {getattr(p, key)} differs from the "
                                 f"language model's {lm[lm_key]} ({where}); leave it out")
            from_lm[key] = lm[lm_key]
        if p.embed_dim != lm["embed_dim"]:
            log.info("--embed-dim %d → %d, the language model's", p.embed_dim, lm["embed_dim"])
        return replace(spec, params=replace(p, embed_dim=lm["embed_dim"], **from_lm))

    @classmethod
    def build(cls, spec: ModelSpec):
        p = spec.params
        from seqclass.models.networks.awd_lstm import AwdClassifier

        return AwdClassifier(vocab_size(spec.alphabet, cls.token_k(spec)), len(spec.labels),
                             p.embed_dim, p.awd_hidden, p.awd_layers, p.embed_dropout,
                             p.hidden_dropout, p.weight_dropout, p.awd_head_hidden, p.dropout)

    @classmethod
    def token_stride(cls, spec: ModelSpec) -> int:
        return spec.params.token_stride or 1

    @classmethod
    def encode(cls, spec: ModelSpec, sequences: list[str]) -> list[np.ndarray]:
        return encoding.encode_all(sequences, spec.alphabet, cls.token_k(spec), cls.token_stride(spec))

    @classmethod
    def token_lengths(cls, spec: ModelSpec, sequences: list[str]) -> np.ndarray:
        """Tokens per sequence, for length bucketing.  # (N,) int64"""
        k, stride = cls.token_k(spec), cls.token_stride(spec)
        return np.array([max(1, -(-(len(s) - k + 1) // stride)) for s in sequences], dtype=np.int64)

    @classmethod
    def max_tokens(cls, spec: ModelSpec) -> int:
        max_len = spec.params.max_len
        if max_len <= 0:
            return 0
        return max(1, math.ceil((max_len - cls.token_k(spec) + 1) / cls.token_stride(spec)))

    # ------------------------------------------------------------ hooks of training.loop

    @classmethod
    def initialise(cls, net, spec: ModelSpec) -> None:
        """Copy the language model's encoder into a freshly built classifier."""
        if spec.params.pretrained:
            load_encoder(net.encoder, spec.params.pretrained)

    @classmethod
    def param_groups(cls, net, spec: ModelSpec) -> list[tuple[list, float]]:
        """Layer groups, bottom to top, with their learning-rate factors."""
        groups = net.layer_groups()
        decay = spec.params.lr_decay_per_layer if spec.params.pretrained else 1.0
        n = len(groups)
        return [(g, decay ** -(n - 1 - i)) for i, g in enumerate(groups)]

    @classmethod
    def before_step(cls, net, spec: ModelSpec, step: int, steps_per_epoch: int) -> None:
        """Gradual unfreezing: which layer groups train at this step (a function of the step)."""
        every = spec.params.unfreeze_every
        if not spec.params.pretrained or every < 0:
            return
        every = every or steps_per_epoch
        groups = net.layer_groups()
        trainable = min(len(groups), 1 + step // every)  # the top `trainable` groups
        for i, g in enumerate(groups):
            for w in g:
                w.requires_grad_(i >= len(groups) - trainable)


def load_encoder(encoder, directory: str | Path) -> None:
    """Load `encoder.*` of a language model's weights into an AwdEncoder; ValueError if they differ."""
    import torch
    from safetensors.torch import load_file

    path = Path(directory) / LM_WEIGHTS
    try:
        tensors = load_file(str(path))
    except Exception as err:  # safetensors' own error types
        raise ValueError(f"{path}: cannot read weights ({err})") from None
    state = {k.removeprefix("encoder."): v for k, v in tensors.items() if k.startswith("encoder.")}
    try:
        with torch.no_grad():
            encoder.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ValueError(f"{path}: the weights do not fit the encoder "
                         f"({str(err).splitlines()[0]})") from None
