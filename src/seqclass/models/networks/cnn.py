"""The `cnn` family's network: convolutions over one-hot residues (models.families.cnn)."""

from __future__ import annotations

import torch
from torch import nn

from seqclass.sequence.encoding import PAD, complement_tokens


def pooled_length(length: int, layers: int, pool_size: int) -> int:
    """Positions left of `length` after `layers` max-pools of width `pool_size`."""
    for _ in range(layers):
        length //= pool_size
    return length


def reverse_complement(tokens: torch.Tensor, lengths: torch.Tensor,
                       complement: torch.Tensor) -> torch.Tensor:
    """Each row's first `length` tokens reversed and complemented, padding kept at the end."""
    pos = torch.arange(tokens.shape[1], device=tokens.device)[None, :]  # (1, L)
    src = lengths[:, None] - 1 - pos  # (B, L) source position of each output position
    rc = complement[tokens.gather(1, src.clamp(min=0))]  # (B, L)
    return rc.masked_fill(src < 0, PAD)

class CnnNet(nn.Module):
    onehot: torch.Tensor  # (V, A) buffers, not parameters
    complement: torch.Tensor  # (V,)

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
