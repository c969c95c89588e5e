"""AWD-LSTM networks: the encoder, the language model `seqclass pretrain` trains, and the
classifier of the `awd-lstm` family (models.families.awd_lstm).

    tokens (B, L) → AwdEncoder → (B, L, E) → AwdLanguageModel: next-token logits (B, L, V)
                                           → AwdClassifier: pooled (B, 3E) → logits (B, C)
"""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from seqclass.sequence.encoding import PAD


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
                    weight = cast(torch.Tensor, rnn.weight_hh_l0)  # a Parameter
                    dropped = F.dropout(weight, self.weight_p, training=True)
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

    def layer_groups(self) -> list[list[torch.Tensor]]:
        """Bottom to top: embedding, each LSTM layer, head."""
        return ([[self.encoder.embed.weight]]
                + [list(rnn.parameters()) for rnn in self.encoder.rnns]
                + [list(self.head.parameters())])
