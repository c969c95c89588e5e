"""Wrappers of Hugging Face models with the loop's calling convention, and the MLP head of
`hf-embed` (models.families.hf, models.families.hf_embed).

    (input_ids (B, L), attention_mask (B, L)) → HfNet → logits (B, C)
                                              → EmbedNet → masked mean of the last hidden state (B, D)
    embeddings (B, D) → MlpHead → logits (B, C)
"""

from __future__ import annotations

import torch
from torch import nn


def masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of hidden (B, L, D) over the positions where mask (B, L) is 1.  # (B, D)"""
    m = mask.to(hidden.dtype)[:, :, None]
    return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)


class HfNet(nn.Module):
    """(input_ids (B, L), attention_mask (B, L)) → logits (B, C)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.model(input_ids=input_ids, attention_mask=attention_mask)
        return out.logits if hasattr(out, "logits") else out[0]


class EmbedNet(nn.Module):
    """(input_ids (B, L), attention_mask (B, L)) → masked mean of the last hidden state (B, D)."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        hidden = out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]
        return masked_mean(hidden.float(), attention_mask)

class MlpHead(nn.Module):
    def __init__(self, dim: int, hidden: int, n_classes: int, dropout: float):
        super().__init__()
        self.head = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Dropout(dropout),
                                  nn.Linear(hidden, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x)
