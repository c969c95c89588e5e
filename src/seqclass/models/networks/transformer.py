"""The `transformer` family's network: a pre-norm encoder over embedded tokens, mean-pooled
(models.families.transformer)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from seqclass.sequence.encoding import PAD


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
