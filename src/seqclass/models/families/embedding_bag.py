"""`embedding-bag`: the mean of token embeddings, then a small MLP — the fastest deep baseline.

Tokens are overlapping k-mers (--token-k, default 3) or residues (--token-k 1, residue
composition), embedded in --embed-dim and averaged over each sequence (padding excluded),
then a hidden layer of --bag-hidden units (0: none) and the class logits. Word-order free,
like the k-mer models, but with learnt k-mer embeddings. DNA and protein alike.

Weights: `bag.weight` (V, E), `head.*` (C, E) or (H, E) and (C, H).
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
class EmbeddingBagParams(TokenParams):
    bag_hidden: int = option("units of the hidden layer after the bag; 0: a linear head", 128)

    def __post_init__(self) -> None:
        super().__post_init__()
        at_least(self, ("bag_hidden",), 0)


@register("embedding-bag")
class EmbeddingBag(DeepClassifier):
    Params = EmbeddingBagParams
    default_token_k = 3

    @classmethod
    def build(cls, spec: ModelSpec):
        p = spec.params
        from seqclass.models.networks.embedding_bag import EmbeddingBagNet

        return EmbeddingBagNet(vocab_size(spec.alphabet, cls.token_k(spec)), len(spec.labels),
                               p.embed_dim, p.bag_hidden, p.dropout)
