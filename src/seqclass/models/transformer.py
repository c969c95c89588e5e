"""`transformer`: a small Transformer encoder trained from scratch, mean-pooled.

Tokens (residues, or k-mers with --token-k) are embedded in --embed-dim and given learned
or sinusoidal positions (--positions); --encoder-layers pre-norm encoder layers of
--heads attention heads and --ff-dim feed-forward units attend over each sequence's own
tokens (a key-padding mask hides the padding); a final layer norm, the mean over the
sequence's positions and one linear layer give the class logits. Learned positions cover
--max-len residues; longer inputs are scored as the mean over windows of that length.
--dropout applies to the embeddings, the residual branches and the pooled vector,
--attention-dropout to the attention weights alone.

Weights: `embed.weight` (V, D), `positions.weight` (P, D) when learned,
`encoder.layers.<i>.*` (PyTorch TransformerEncoderLayer names), `norm.*` (D,), `head.*` (C, D).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from seqclass.config import option
from seqclass.models.base import ModelSpec, register
from seqclass.models.deep import DeepClassifier
from seqclass.sequence.encoding import PAD, vocab_size
from seqclass.train.params import TokenParams


@dataclass
class TransformerParams(TokenParams):
    heads: int = option("attention heads; they must divide --embed-dim", 4)
    encoder_layers: int = option("encoder layers", 2)
    ff_dim: int = option("feed-forward units of each encoder layer", 256)
    positions: str = option("position encoding", "learned", choices=["learned", "sinusoidal"])
    attention_dropout: float = option("dropout of the attention weights; above 0, PyTorch's CPU "
                                      "attention cannot use its fused kernel and a training step "
                                      "takes about 5x the time and 4x the memory", 0.0)


@functools.cache
def _network():
    """The torch module class, defined on first use so that registering the family imports no torch."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    def gelu(x: torch.Tensor) -> torch.Tensor:
        # passed as a function of our own rather than "gelu" so that PyTorch never takes its
        # inference fast path (it only knows its own activations): on CPU that path's attention is
        # 2-5x slower than the fused scaled-dot-product kernel the regular path uses
        # (benchmarks/README.md, transformer)
        return F.gelu(x)

    def sinusoidal(length: int, dim: int, device: torch.device) -> torch.Tensor:
        """The fixed sine/cosine position code of Vaswani et al.  # (L, D)"""
        pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]  # (L, 1)
        freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32)
                         * (-math.log(10000.0) / dim))  # (ceil(D/2),)
        table = torch.zeros(length, dim, device=device)
        table[:, 0::2] = torch.sin(pos * freq)
        table[:, 1::2] = torch.cos(pos * freq[:dim // 2])
        return table

    class TransformerNet(nn.Module):
        def __init__(self, vocab: int, n_classes: int, dim: int, heads: int, layers: int,
                     ff_dim: int, dropout: float, attention_dropout: float, positions: str,
                     max_tokens: int):
            super().__init__()
            self.embed = nn.Embedding(vocab, dim, padding_idx=PAD)
            self.positions = nn.Embedding(max_tokens, dim) if positions == "learned" else None
            layer = nn.TransformerEncoderLayer(dim, heads, ff_dim, dropout, activation=gelu,
                                               batch_first=True, norm_first=True)
            layer.self_attn.dropout = attention_dropout  # the layer gives it --dropout otherwise
            self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(dim)
            self.dropout = nn.Dropout(dropout)
            self.head = nn.Linear(dim, n_classes)

        def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
            mask = tokens != PAD  # (B, L)
            length = tokens.shape[1]
            x = self.embed(tokens)  # (B, L, D)
            if self.positions is not None:
                x = x + self.positions.weight[:length][None]  # (1, L, D)
            else:
                x = x + sinusoidal(length, x.shape[-1], x.device)[None]
            h = self.encoder(self.dropout(x), src_key_padding_mask=~mask)  # (B, L, D)
            h = self.norm(h) * mask[:, :, None]  # padding zeroed
            pooled = h.sum(dim=1) / lengths[:, None].to(h.dtype)  # (B, D) mean over tokens
            return self.head(self.dropout(pooled))  # (B, C)

    return TransformerNet


@register("transformer")
class Transformer(DeepClassifier):
    Params = TransformerParams

    @classmethod
    def check(cls, spec: ModelSpec) -> None:
        p = spec.params
        if p["embed_dim"] < 1 or p["heads"] < 1 or p["embed_dim"] % p["heads"]:
            raise ValueError(f"--heads {p['heads']} must divide --embed-dim {p['embed_dim']}")
        if p["encoder_layers"] < 1 or p["ff_dim"] < 1:
            raise ValueError("--encoder-layers and --ff-dim must be at least 1")
        if p["positions"] == "learned" and p["max_len"] <= 0:
            raise ValueError("--positions learned needs --max-len above 0 (or use sinusoidal)")

    @classmethod
    def build(cls, spec: ModelSpec):
        p = spec.params
        # models saved before --attention-dropout existed trained with one dropout for both
        attention_dropout = p.get("attention_dropout", p["dropout"])
        return _network()(vocab_size(spec.alphabet, cls.token_k(spec)), len(spec.labels),
                          p["embed_dim"], p["heads"], p["encoder_layers"], p["ff_dim"],
                          p["dropout"], attention_dropout, p["positions"],
                          max(1, cls.max_tokens(spec)))
