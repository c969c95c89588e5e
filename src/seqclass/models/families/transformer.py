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

from dataclasses import dataclass
from typing import Any

from seqclass.config import OptionError, at_least, option
from seqclass.models.base import register
from seqclass.models.deep import DeepClassifier
from seqclass.sequence.encoding import vocab_size
from seqclass.spec import ModelSpec
from seqclass.training.params import TokenParams


@dataclass
class TransformerParams(TokenParams):
    heads: int = option("attention heads; they must divide --embed-dim", 4)
    encoder_layers: int = option("encoder layers", 2)
    ff_dim: int = option("feed-forward units of each encoder layer", 256)
    positions: str = option("position encoding", "learned", choices=["learned", "sinusoidal"])
    attention_dropout: float = option("dropout of the attention weights; above 0, PyTorch's CPU "
                                      "attention cannot use its fused kernel and a training step "
                                      "takes about 5x the time and 4x the memory", 0.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        at_least(self, ("heads", "encoder_layers", "ff_dim"))
        if self.embed_dim % self.heads:
            raise OptionError(f"--heads {self.heads} must divide --embed-dim {self.embed_dim}")
        if self.positions == "learned" and self.max_len <= 0:
            raise OptionError("--positions learned needs --max-len above 0 (or use sinusoidal)")


@register("transformer")
class Transformer(DeepClassifier):
    Params = TransformerParams

    @classmethod
    def upgrade_params(cls, stored: dict[str, Any]) -> dict[str, Any]:
        """Models saved before --attention-dropout existed used --dropout for both."""
        legacy = {"attention_dropout": stored["dropout"]} if "dropout" in stored else {}
        return {**legacy, **stored}

    @classmethod
    def build(cls, spec: ModelSpec):
        p = spec.params
        from seqclass.models.networks.transformer import TransformerNet

        return TransformerNet(vocab_size(spec.alphabet, cls.token_k(spec)), len(spec.labels),
                              p.embed_dim, p.heads, p.encoder_layers, p.ff_dim, p.dropout,
                              p.attention_dropout, p.positions, max(1, cls.max_tokens(spec)))
