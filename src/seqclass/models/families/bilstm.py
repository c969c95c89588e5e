"""`bilstm`: a bidirectional LSTM over embedded tokens, the protein-localisation baseline.

Tokens are residues (--token-k 1) or overlapping k-mers, embedded in --embed-dim; packed
by length so padding never enters the recurrence; --lstm-layers bidirectional layers of
--lstm-hidden units per direction; the outputs mean- and max-pooled over each sequence's
own positions; one linear layer to the class logits. DNA and protein alike.

Weights: `embed.weight` (V, E), `lstm.*` (PyTorch LSTM names), `head.*` (C, 4H).
"""

from __future__ import annotations

from dataclasses import dataclass

from seqclass.config import at_least, option
from seqclass.models.base import register
from seqclass.models.deep import DeepClassifier
from seqclass.sequence.encoding import vocab_size
from seqclass.spec import ModelSpec
from seqclass.training.params import TokenParams


@dataclass
class BiLstmParams(TokenParams):
    lstm_hidden: int = option("LSTM units per direction", 128)
    lstm_layers: int = option("stacked bidirectional LSTM layers", 1)

    def __post_init__(self) -> None:
        super().__post_init__()
        at_least(self, ("lstm_hidden", "lstm_layers"))


@register("bilstm")
class BiLstm(DeepClassifier):
    Params = BiLstmParams

    @classmethod
    def build(cls, spec: ModelSpec):
        p = spec.params
        from seqclass.models.networks.bilstm import BiLstmNet

        return BiLstmNet(vocab_size(spec.alphabet, cls.token_k(spec)), len(spec.labels),
                         p.embed_dim, p.lstm_hidden, p.lstm_layers, p.dropout)
