"""The `bilstm` family's network: a bidirectional LSTM over embedded tokens (models.families.bilstm)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqclass.sequence.encoding import PAD


class BiLstmNet(nn.Module):
    def __init__(self, vocab: int, n_classes: int, embed: int, hidden: int, layers: int,
                 dropout: float):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed, padding_idx=PAD)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True,
                            bidirectional=True, dropout=dropout if layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(4 * hidden, n_classes)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = (tokens != PAD)[:, :, None]  # (B, L, 1)
        x = self.dropout(self.embed(tokens)).float()  # (B, L, E)
        # the recurrence runs in fp32 under bf16/fp16 autocast: cuDNN's reduced-precision
        # LSTMs are not available everywhere, and the LSTM is not this network's cost
        with torch.autocast(x.device.type, enabled=False):
            out = self.recur(x, lengths)  # (B, L, 2H), zero after each sequence's end
        mean = (out * mask).sum(dim=1) / lengths[:, None].to(out.dtype)  # (B, 2H)
        top = out.masked_fill(~mask, float("-inf")).amax(dim=1)  # (B, 2H)
        return self.head(self.dropout(torch.cat([mean, top], dim=1)))  # (B, C)

    def recur(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The LSTM over each sequence's own positions.  # (B, L, E) -> (B, L, 2H)

        On CUDA one packed call (cuDNN runs sequences of any lengths together). On the CPU
        one call per distinct length instead: PyTorch's CPU LSTM is fused (oneDNN) only
        for sequences of one length, and a packed batch of mixed lengths takes 5-30x longer
        (benchmarks/README.md, bilstm). Both give the same outputs.
        """
        if x.device.type == "cuda":
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True,
                                          enforce_sorted=False)
            out, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True,
                                         total_length=x.shape[1])
            return out
        out = x.new_zeros(x.shape[0], x.shape[1], 2 * self.lstm.hidden_size)
        for length in torch.unique(lengths).tolist():
            rows = (lengths == length).nonzero().squeeze(1)
            out[rows, :length] = self.lstm(x[rows, :length])[0]
        return out
