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

import functools
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqclass.config import option
from seqclass.models.base import ModelSpec, TrainContext, TrainData, register, require_at_least_one
from seqclass.models.deep import DeepClassifier
from seqclass.sequence import encoding
from seqclass.sequence.encoding import PAD, vocab_size
from seqclass.train.params import TokenParams

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


# ---------------------------------------------------------------- networks

@functools.cache
def _modules():
    """The torch module classes, defined on first use so that registering imports no torch."""
    import torch
    import torch.nn.functional as F
    from torch import nn
    from torch.func import functional_call

    def locked_dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
        """One dropout mask per sequence, the same at every position.  x: (B, L, H)"""
        if not training or p <= 0:
            return x
        mask = x.new_empty(x.shape[0], 1, x.shape[2]).bernoulli_(1 - p) / (1 - p)  # (B, 1, H)
        return x * mask

    class AwdEncoder(nn.Module):
        def __init__(self, vocab: int, embed: int, hidden: int, layers: int, embed_p: float,
                     hidden_p: float, weight_p: float):
            super().__init__()
            self.embed = nn.Embedding(vocab, embed, padding_idx=PAD)
            nn.init.uniform_(self.embed.weight, -0.1, 0.1)
            with torch.no_grad():
                self.embed.weight[PAD].zero_()
            self.rnns = nn.ModuleList(
                nn.LSTM(embed if i == 0 else hidden, embed if i == layers - 1 else hidden,
                        batch_first=True) for i in range(layers))
            self.embed_p, self.hidden_p, self.weight_p = embed_p, hidden_p, weight_p

        def embedding(self, tokens: torch.Tensor) -> torch.Tensor:
            w = self.embed.weight  # (V, E)
            if self.training and self.embed_p > 0:
                keep = w.new_empty(w.shape[0], 1).bernoulli_(1 - self.embed_p) / (1 - self.embed_p)
                w = w * keep
            return F.embedding(tokens, w, padding_idx=PAD)  # (B, L, E)

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            """Last layer's outputs.  tokens (B, L) → (B, L, E)"""
            x = locked_dropout(self.embedding(tokens), self.hidden_p, self.training).float()
            # the recurrence runs in fp32 under autocast, as in bilstm
            with torch.autocast(x.device.type, enabled=False):
                for i, rnn in enumerate(self.rnns):
                    if self.training and self.weight_p > 0:  # DropConnect, a fresh mask per batch
                        dropped = F.dropout(rnn.weight_hh_l0, self.weight_p, training=True)
                        x, _ = functional_call(rnn, {"weight_hh_l0": dropped}, (x,))
                    else:
                        x, _ = rnn(x)  # (B, L, H or E)
                    if i < len(self.rnns) - 1:
                        x = locked_dropout(x, self.hidden_p, self.training)
            return x

    class AwdLanguageModel(nn.Module):
        """Encoder → locked dropout → decoder tied to the embedding: next-token logits."""

        def __init__(self, vocab: int, embed: int, hidden: int, layers: int, embed_p: float,
                     hidden_p: float, weight_p: float, output_p: float):
            super().__init__()
            self.encoder = AwdEncoder(vocab, embed, hidden, layers, embed_p, hidden_p, weight_p)
            self.decoder = nn.Linear(embed, vocab)
            self.decoder.weight = self.encoder.embed.weight  # tied
            nn.init.zeros_(self.decoder.bias)
            self.output_p = output_p

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            """tokens (B, L) → logits (B, L, V)"""
            x = locked_dropout(self.encoder(tokens), self.output_p, self.training)
            return self.decoder(x)

    class AwdClassifier(nn.Module):
        def __init__(self, vocab: int, n_classes: int, embed: int, hidden: int, layers: int,
                     embed_p: float, hidden_p: float, weight_p: float, awd_head_hidden: int,
                     dropout: float):
            super().__init__()
            self.encoder = AwdEncoder(vocab, embed, hidden, layers, embed_p, hidden_p, weight_p)
            self.head = nn.Sequential(nn.Linear(3 * embed, awd_head_hidden), nn.ReLU(),
                                      nn.Dropout(dropout), nn.Linear(awd_head_hidden, n_classes))
            self.dropout = nn.Dropout(dropout)

        def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
            out = self.encoder(tokens)  # (B, L, E)
            mask = (tokens != PAD)[:, :, None]  # (B, L, 1)
            last = out.gather(1, (lengths - 1).clamp(min=0)[:, None, None]
                              .expand(-1, 1, out.shape[2]))[:, 0]  # (B, E)
            top = out.masked_fill(~mask, float("-inf")).amax(dim=1)  # (B, E)
            mean = (out * mask).sum(dim=1) / lengths[:, None].to(out.dtype)  # (B, E)
            return self.head(self.dropout(torch.cat([last, top, mean], dim=1)))  # (B, C)

        def layer_groups(self) -> list[list[torch.nn.Parameter]]:
            """Bottom to top: embedding, each LSTM layer, head."""
            return ([[self.encoder.embed.weight]]
                    + [list(rnn.parameters()) for rnn in self.encoder.rnns]
                    + [list(self.head.parameters())])

    return AwdEncoder, AwdLanguageModel, AwdClassifier


def language_model(vocab: int, embed: int, hidden: int, layers: int, embed_p: float,
                   hidden_p: float, weight_p: float, output_p: float):
    return _modules()[1](vocab, embed, hidden, layers, embed_p, hidden_p, weight_p, output_p)


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


def _resolve(spec: ModelSpec) -> None:
    """Fill in the architecture: the LM's with --pretrained (refusing conflicts), else defaults."""
    p = spec.params
    if p.get("pretrained"):
        lm = read_lm_config(p["pretrained"])
        where = p["pretrained"]
        if lm["alphabet"] != spec.alphabet:
            raise ValueError(f"{where}: a {lm['alphabet']} language model cannot start a "
                             f"{spec.alphabet} classifier")
        if lm["vocab_size"] != vocab_size(lm["alphabet"], lm["k"]):
            raise ValueError(f"{where}: vocab_size {lm['vocab_size']} does not fit k {lm['k']}")
        for flag, key, lm_key in (("--token-k", "token_k", "k"),
                                  ("--token-stride", "token_stride", "stride"),
                                  ("--awd-hidden", "awd_hidden", "hidden"),
                                  ("--awd-layers", "awd_layers", "layers")):
            if p.get(key) is not None and p[key] != lm[lm_key]:
                raise ValueError(f"{flag} {p[key]} differs from the language model's "
                                 f"{lm[lm_key]} ({where}); leave it out")
            p[key] = lm[lm_key]
        if p["embed_dim"] != lm["embed_dim"]:
            log.info("--embed-dim %d → %d, the language model's", p["embed_dim"], lm["embed_dim"])
        p["embed_dim"] = lm["embed_dim"]
    else:
        p["token_k"] = p.get("token_k") or AwdLstm.default_token_k
        p["token_stride"] = p.get("token_stride") or 1
        p["awd_hidden"] = p.get("awd_hidden") or DEFAULT_HIDDEN
        p["awd_layers"] = p.get("awd_layers") or DEFAULT_LAYERS


# ---------------------------------------------------------------- the family

@register("awd-lstm")
class AwdLstm(DeepClassifier):
    Params = AwdLstmParams
    default_token_k = 3

    @classmethod
    def check(cls, spec: ModelSpec) -> None:
        p = spec.params
        require_at_least_one(p, ("embed_dim", "awd_hidden", "awd_layers", "awd_head_hidden", "token_stride"))
        for name in ("embed_dropout", "weight_dropout", "hidden_dropout"):
            if not 0 <= p[name] < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be in [0, 1)")
        if p["lr_decay_per_layer"] <= 0:
            raise ValueError("--lr-decay-per-layer must be positive")
        if p["unfreeze_every"] < -1:
            raise ValueError("--unfreeze-every must be -1, 0 or a number of steps")

    @classmethod
    def fit(cls, spec: ModelSpec, train: TrainData, valid: TrainData | None, seed: int,
            context: TrainContext | None = None) -> DeepClassifier:
        _resolve(spec)
        return super().fit(spec, train, valid, seed, context)

    @classmethod
    def build(cls, spec: ModelSpec):
        p = spec.params
        return _modules()[2](vocab_size(spec.alphabet, cls.token_k(spec)), len(spec.labels),
                             p["embed_dim"], p["awd_hidden"], p["awd_layers"], p["embed_dropout"],
                             p["hidden_dropout"], p["weight_dropout"], p["awd_head_hidden"],
                             p["dropout"])

    @classmethod
    def stride(cls, spec: ModelSpec) -> int:
        return spec.params.get("token_stride") or 1

    @classmethod
    def encode(cls, spec: ModelSpec, sequences: list[str]) -> list[np.ndarray]:
        return encoding.encode_all(sequences, spec.alphabet, cls.token_k(spec), cls.stride(spec))

    @classmethod
    def token_lengths(cls, spec: ModelSpec, sequences: list[str]) -> np.ndarray:
        """Tokens per sequence, for length bucketing.  # (N,) int64"""
        k, stride = cls.token_k(spec), cls.stride(spec)
        return np.array([max(1, -(-(len(s) - k + 1) // stride)) for s in sequences], dtype=np.int64)

    @classmethod
    def max_tokens(cls, spec: ModelSpec) -> int:
        max_len = spec.params.get("max_len", 0)
        if max_len <= 0:
            return 0
        return max(1, math.ceil((max_len - cls.token_k(spec) + 1) / cls.stride(spec)))

    # ------------------------------------------------------------ hooks of train.loop

    @classmethod
    def initialise(cls, net, spec: ModelSpec) -> None:
        """Copy the language model's encoder into a freshly built classifier."""
        if spec.params.get("pretrained"):
            load_encoder(net.encoder, spec.params["pretrained"])

    @classmethod
    def param_groups(cls, net, spec: ModelSpec) -> list[tuple[list, float]]:
        """Layer groups, bottom to top, with their learning-rate factors."""
        groups = net.layer_groups()
        decay = spec.params["lr_decay_per_layer"] if spec.params.get("pretrained") else 1.0
        n = len(groups)
        return [(g, decay ** -(n - 1 - i)) for i, g in enumerate(groups)]

    @classmethod
    def before_step(cls, net, spec: ModelSpec, step: int, steps_per_epoch: int) -> None:
        """Gradual unfreezing: which layer groups train at this step (a function of the step)."""
        every = spec.params["unfreeze_every"]
        if not spec.params.get("pretrained") or every < 0:
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
