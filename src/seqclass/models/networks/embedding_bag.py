"""The `embedding-bag` family's network: the mean of token embeddings, then a small head
(models.families.embedding_bag)."""

from __future__ import annotations

import torch
from torch import nn

from seqclass.sequence.encoding import PAD


class EmbeddingBagNet(nn.Module):
    def __init__(self, vocab: int, n_classes: int, embed: int, hidden: int, dropout: float):
        super().__init__()
        # padding_idx: the PAD token is left out of each bag's mean
        self.bag = nn.EmbeddingBag(vocab, embed, mode="mean", padding_idx=PAD)
        if hidden > 0:
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(embed, hidden), nn.ReLU(),
                                      nn.Dropout(dropout), nn.Linear(hidden, n_classes))
        else:
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(embed, n_classes))

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.head(self.bag(tokens))  # (B, L) → (B, E) → (B, C)
