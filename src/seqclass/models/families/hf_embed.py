"""`hf-embed`: frozen embeddings of a pretrained Hugging Face model, and a small head on them.

The encoder of --pretrained (AutoModel, with the checkpoint's own tokenizer, see models.families.hf)
stays frozen: each sequence's embedding is the attention-masked mean of its last hidden
state, computed in batches without gradients (sequences longer than the model's positions:
the mean over windows). The embeddings are standardised with the training rows' mean and
scale, then --head logreg fits a class-weighted logistic regression (models.linear, --c,
--max-iter, --class-weight) or --head mlp trains one hidden layer of --head-hidden units
(AdamW, --lr, --weight-decay, --dropout, --head-epochs; the epoch of the lowest validation
loss is kept when there are validation rows).

Weights (model.safetensors): `mean` (D,), `scale` (D,); logreg `coef` (C, D), `intercept`
(C,); mlp `head.0.*` (H, D), `head.3.*` (C, H). `hf/` holds the frozen encoder and its
tokenizer in the save_pretrained layout, so the model works offline without the original
checkpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from seqclass.config import at_least, option
from seqclass.models.base import Classifier, register
from seqclass.models.families import hf
from seqclass.models.linear import fit_logreg
from seqclass.spec import ModelSpec, TrainContext, TrainData

log = logging.getLogger(__name__)


@dataclass
class HfEmbedParams(hf.PretrainedParams):
    head: str = option("the classifier on the frozen embeddings", "logreg", choices=["logreg", "mlp"])
    head_hidden: int = option("hf-embed --head mlp: hidden units", 128)
    head_epochs: int = option("hf-embed --head mlp: passes over the training embeddings", 100)
    # flags shared with other families (each family keeps its own default)
    c: float = option("inverse L2 regularisation strength", 1.0)
    max_iter: int = option("solver iterations", 2000)
    class_weight: str = option("class weights of the loss: balanced or none", "balanced",
                               choices=["balanced", "none"])
    lr: float = option("peak learning rate of AdamW", 1e-3)
    weight_decay: float = option("AdamW weight decay", 0.01)
    dropout: float = option("dropout probability", 0.1)
    batch_size: int = option("sequences per micro-batch", 32)
    precision: str = option("autocast precision", "auto", choices=["auto", "fp32", "bf16", "fp16"])
    device: str = option("where to train and score: auto picks CUDA when available", "auto",
                         choices=["auto", "cpu", "cuda"])

    def __post_init__(self) -> None:
        super().__post_init__()
        at_least(self, ("batch_size", "head_hidden", "head_epochs"))


@register("hf-embed")
class HfEmbed(Classifier):
    Params = HfEmbedParams
    bundle: ClassVar[str | None] = hf.BUNDLE
    requires: ClassVar[tuple[str, ...]] = ("torch", "transformers")
    extra: ClassVar[str | None] = "deep,hf"

    def __init__(self, spec: ModelSpec, net, codec: hf.Codec, head: dict[str, np.ndarray]):
        super().__init__(spec)
        self.net, self.codec, self.head = net.eval(), codec, head
        self._mlp = None
        if spec.params.head == "mlp":
            import torch

            from seqclass.models.networks.pretrained import MlpHead

            w0, w3 = head["head.0.weight"], head["head.3.weight"]
            self._mlp = MlpHead(w0.shape[1], w0.shape[0], w3.shape[0], 0.0)
            self._mlp.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v))
                                       for k, v in head.items() if k.startswith("head.")})
            self._mlp.eval()

    # ------------------------------------------------------------ embeddings

    @staticmethod
    def _encoder(source, spec: ModelSpec, local: bool):
        model = hf.from_pretrained("AutoModel", source, bool(spec.params.trust_remote_code),
                                   local)
        model = model.float().eval()
        for w in model.parameters():
            w.requires_grad_(False)
        from seqclass.models.networks.pretrained import EmbedNet

        return EmbedNet(model)

    @staticmethod
    def _embed(net, codec: hf.Codec, spec: ModelSpec, sequences: list[str]) -> np.ndarray:
        """Frozen mean-pooled embeddings, batched, no gradients.  # (N, D) float32"""
        from seqclass.training.scoring import score

        p = spec.params
        return score(net, sequences, codec, p.batch_size, p.device, p.precision)

    def embed(self, sequences: list[str]) -> np.ndarray:
        return self._embed(self.net, self.codec, self.spec, sequences)

    # ------------------------------------------------------------ fit and score

    @classmethod
    def fit(cls, spec: ModelSpec, train: TrainData, valid: TrainData | None, seed: int,
            context: TrainContext | None = None) -> HfEmbed:
        import torch

        source = hf.check_source(spec)
        codec = hf.load_codec(source, spec, local=False)
        spec = replace(spec, params=replace(spec.params, hf_input=codec.mode))  # config.json records it
        p = spec.params
        torch.manual_seed(seed)
        net = cls._encoder(source, spec, local=False)
        x = cls._embed(net, codec, spec, train.sequences)  # (N, D)
        mean = x.mean(axis=0)
        scale = x.std(axis=0) + 1e-6
        z = (x - mean) / scale
        head: dict[str, np.ndarray] = {"mean": mean.astype(np.float32),
                                       "scale": scale.astype(np.float32)}
        if p.head == "logreg":
            head["coef"], head["intercept"] = fit_logreg(z, train, spec, seed)
        else:
            zv = yv = None
            if valid is not None and len(valid.sequences):
                zv = (cls._embed(net, codec, spec, valid.sequences) - mean) / scale
                yv = valid.targets
            head.update(_train_mlp(spec, z, train.targets, zv, yv, seed))
        return cls(spec, net, codec, head)

    def use_threads(self, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)  # the frozen encoder's intra-op threads on the CPU

    def logits(self, sequences: list[str]) -> np.ndarray:
        if not sequences:
            return np.zeros((0, len(self.spec.labels)), dtype=np.float32)
        return self._head(self.embed(sequences))

    def stream_logits(self, parts: Iterable[str]) -> np.ndarray:
        from seqclass.training.scoring import score_stream

        p = self.spec.params
        embedding = score_stream(self.net, parts, self.codec, p.batch_size, p.device, p.precision)
        return self._head(embedding[None])[0]

    def _head(self, x: np.ndarray) -> np.ndarray:
        """Embeddings  # (N, D) → logits  # (N, C)"""
        z = (x - self.head["mean"]) / self.head["scale"]
        if self._mlp is None:
            return (z @ self.head["coef"].T + self.head["intercept"]).astype(np.float32)
        import torch

        with torch.no_grad():
            return self._mlp(torch.from_numpy(z.astype(np.float32))).numpy()

    # ------------------------------------------------------------ saving

    def tensors(self) -> dict[str, np.ndarray]:
        return dict(self.head)

    def save_bundle(self, directory: Path) -> None:
        hf.save_pretrained(self.net.encoder, self.codec.tokenizer, directory)

    @classmethod
    def from_tensors(cls, spec: ModelSpec, tensors: dict[str, np.ndarray]) -> HfEmbed:
        raise ValueError(f"an {spec.family} model is a directory with {hf.BUNDLE}/; load it with "
                         "store.load")

    @classmethod
    def from_bundle(cls, spec: ModelSpec, tensors: dict[str, np.ndarray], directory: Path) -> HfEmbed:
        need = {"mean", "scale"} | ({"coef", "intercept"} if spec.params.head == "logreg"
                                    else {"head.0.weight", "head.0.bias", "head.3.weight",
                                          "head.3.bias"})
        if not need <= set(tensors):
            raise ValueError(f"weights lack {', '.join(sorted(need - set(tensors)))}")
        codec = hf.load_codec(directory, spec, local=True)
        return cls(spec, cls._encoder(directory, spec, local=True), codec, dict(tensors))


def _train_mlp(spec: ModelSpec, z: np.ndarray, y: np.ndarray, zv: np.ndarray | None,
               yv: np.ndarray | None, seed: int) -> dict[str, np.ndarray]:
    """A one-hidden-layer head on standardised embeddings; the best validation-loss epoch."""
    import torch
    import torch.nn.functional as F

    p = spec.params
    multilabel = spec.task == "multilabel"
    n_classes = len(spec.labels)
    torch.manual_seed(seed)
    from seqclass.models.networks.pretrained import MlpHead

    mlp = MlpHead(z.shape[1], p.head_hidden, n_classes, p.dropout)
    opt = torch.optim.AdamW(mlp.parameters(), lr=p.lr, weight_decay=p.weight_decay)
    x = torch.from_numpy(z.astype(np.float32))
    t = torch.as_tensor(y, dtype=torch.float32 if multilabel else torch.int64)
    weight = pos_weight = None
    if p.class_weight == "balanced":
        n = len(y)
        if multilabel:
            pos = y.sum(axis=0).astype(np.float64)
            pos_weight = torch.tensor((n - pos) / np.maximum(pos, 1), dtype=torch.float32)
        else:
            counts = np.bincount(y, minlength=n_classes).astype(np.float64)
            weight = torch.tensor(np.divide(n, n_classes * counts, out=np.zeros(n_classes),
                                            where=counts > 0), dtype=torch.float32)

    def loss_of(logits, target):
        if multilabel:
            return F.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight)
        return F.cross_entropy(logits, target, weight=weight)

    xv = tv = None
    if zv is not None:
        xv = torch.from_numpy(zv.astype(np.float32))
        tv = torch.as_tensor(yv, dtype=torch.float32 if multilabel else torch.int64)
    gen = torch.Generator().manual_seed(seed)
    best, best_state = float("inf"), None
    for _ in range(p.head_epochs):
        mlp.train()
        for idx in torch.randperm(len(x), generator=gen).split(p.batch_size):
            opt.zero_grad(set_to_none=True)
            loss_of(mlp(x[idx]), t[idx]).backward()
            opt.step()
        if xv is not None:
            mlp.eval()
            with torch.no_grad():
                v = float(loss_of(mlp(xv), tv))
            if v < best:
                best = v
                best_state = {k: w.detach().clone() for k, w in mlp.state_dict().items()}
    if best_state is not None:
        mlp.load_state_dict(best_state)
    return {k: w.detach().cpu().numpy() for k, w in mlp.state_dict().items()}
