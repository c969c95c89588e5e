"""`hf`: fine-tune a pretrained Hugging Face sequence-classification model on the shared loop.

--pretrained names the checkpoint: a local directory or a hub id, passed to
`from_pretrained` unchanged (Nucleotide Transformer v2, DNABERT-2, ESM-2, ProtBERT, ...).
The checkpoint's own tokenizer (AutoTokenizer) turns each sequence into token ids; how a
sequence becomes tokenizer text is --hf-input (raw; residues separated by spaces, as
ProtBERT wants; or overlapping k-mers, as DNABERT-1 wants; auto picks spaced when raw text
gives unknown tokens). AutoModelForSequenceClassification puts a fresh head of one logit per
class on the encoder, and the whole network trains on seqclass.training.loop with the shared flags
(use a fine-tuning --lr such as 5e-5; --dropout is the checkpoint's own). Sequences longer
than the model's positions are cut to them in training and scored as the mean over windows.
--trust-remote-code (off unless given) lets a checkpoint run its own Python code.

The model directory holds, besides seqclass's config.json, labels.json and training.json,
`hf/`: the fine-tuned model and its tokenizer in the save_pretrained layout
(model.safetensors, config.json, tokenizer files), so it loads without pickle, offline and
without the original checkpoint. This module imports transformers only when a model is
trained or loaded.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from seqclass.config import at_least, option
from seqclass.models.base import register
from seqclass.models.deep import DeepClassifier
from seqclass.sequence import windows
from seqclass.spec import ModelSpec, TrainContext, TrainData
from seqclass.training.params import DeepTrainParams

BUNDLE = "hf"
INPUT_MODES = ("auto", "raw", "spaced", "kmers")
FALLBACK_POSITIONS = 512
# a long sequence is tokenised in blocks of a multiple of this many residues, so that a
# tokenizer of non-overlapping 6-mers (Nucleotide Transformer) keeps its frame across blocks
# where the sequence has no ambiguity code (after an N it may restart its frame)
TOKENIZER_FRAME = 6


@dataclass
class PretrainedParams:
    options_title: ClassVar[str] = "pretrained Hugging Face model"

    pretrained: str | None = option(
        "pretrained checkpoint: a local directory, or a Hugging Face hub id such as "
        "InstaDeepAI/nucleotide-transformer-v2-50m-multi-species (required by hf, hf-embed)", None)
    trust_remote_code: bool = option("let the checkpoint run its own Python code (some hub "
                                     "models, e.g. DNABERT-2, need it); off unless given", False)
    hf_input: str = option("sequence → tokenizer text: raw; spaced (residues separated by "
                           "spaces, ProtBERT); kmers (overlapping --hf-kmer-mers separated by "
                           "spaces, DNABERT-1); auto: spaced where raw text gives unknown tokens",
                           "auto", choices=list(INPUT_MODES))
    hf_kmer: int = option("k of --hf-input kmers", 6)

    def __post_init__(self) -> None:
        at_least(self, ("hf_kmer",))


@dataclass
class HfParams(DeepTrainParams, PretrainedParams):
    """The shared training options and those of a pretrained checkpoint."""

    def __post_init__(self) -> None:
        DeepTrainParams.__post_init__(self)
        PretrainedParams.__post_init__(self)


# ---------------------------------------------------------------- transformers, lazily

@functools.cache
def transformers_module():
    import transformers

    transformers.logging.set_verbosity_error()  # load reports of unused/new heads are expected
    transformers.utils.logging.disable_progress_bar()
    return transformers


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]


def check_source(spec: ModelSpec) -> str:
    """--pretrained, checked: a directory that exists, or a hub id."""
    source = spec.params.pretrained
    if not source:
        raise ValueError("--pretrained is required: a local checkpoint directory or a Hugging Face "
                         "hub id")
    path = Path(source).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ValueError(f"--pretrained {source}: not a directory")
        return str(path)
    if source.startswith(("/", "./", "../", "~")) or source.count("/") > 1:
        raise ValueError(f"--pretrained {source}: no such directory")
    return source


def from_pretrained(kind: str, source: str | Path, trust: bool, local: bool, **kwargs: Any):
    """transformers' Auto<kind>.from_pretrained, any failure as one ValueError line."""
    tf = transformers_module()
    if local:
        kwargs.update(local_files_only=True)
        if kind.startswith("AutoModel"):
            kwargs.update(use_safetensors=True)  # a saved seqclass model: never pickle
    try:
        return getattr(tf, kind).from_pretrained(str(source), trust_remote_code=trust, **kwargs)
    except Exception as err:  # OSError offline or missing, ValueError for remote code, ...
        what = "tokenizer" if kind == "AutoTokenizer" else "model"
        raise ValueError(f"cannot load the {what} of {source}: {_first_line(err)}") from None


def save_pretrained(model, tokenizer, directory: Path) -> None:
    """The save_pretrained layout: weights as safetensors, never pickle."""
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    pickles = [p.name for p in directory.iterdir() if p.suffix in (".bin", ".pt", ".pkl", ".pth")]
    if pickles:
        raise ValueError(f"save_pretrained wrote pickle files ({', '.join(pickles)})")


# ---------------------------------------------------------------- sequences → model inputs

def sequence_text(seq: str, mode: str, k: int) -> str:
    if mode == "spaced":
        return " ".join(seq)
    if mode == "kmers":
        return " ".join(seq[i:i + k] for i in range(len(seq) - k + 1)) if len(seq) >= k else seq
    return seq


def resolve_input_mode(tokenizer, spec: ModelSpec) -> str:
    """--hf-input auto → raw, unless raw text of the alphabet gives unknown tokens."""
    mode = spec.params.hf_input
    if mode != "auto":
        return mode
    probe = "ACGTACGT" if spec.alphabet == "dna" else "ACDEFGHIKLMNPQRSTVWY"
    unk = tokenizer.unk_token_id
    if unk is None:
        return "raw"
    raw = tokenizer(probe, add_special_tokens=False)["input_ids"]
    spaced = tokenizer(" ".join(probe), add_special_tokens=False)["input_ids"]
    return "spaced" if unk in raw and unk not in spaced else "raw"


class Codec:
    """One tokenizer's view of sequences: token ids without special tokens, and batches of
    input_ids (B, L) and attention_mask (B, L) with them."""

    def __init__(self, tokenizer, model_config, mode: str, k: int):
        self.tokenizer, self.mode, self.k = tokenizer, mode, k
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        fallback = tokenizer.unk_token_id if tokenizer.unk_token_id is not None else self.pad_id
        self.empty = np.array([fallback], dtype=np.int64)
        probe = "A"
        core = tokenizer(probe, add_special_tokens=False)["input_ids"]
        full = tokenizer(probe)["input_ids"]
        at = next((i for i in range(len(full) - len(core) + 1) if full[i:i + len(core)] == core), None)
        if at is None:
            self.prefix, self.suffix = [], []
        else:
            self.prefix, self.suffix = full[:at], full[at + len(core):]
        positions = getattr(model_config, "max_position_embeddings", None) or FALLBACK_POSITIONS
        limit = positions - 2  # learned positions offset by the padding index (ESM, RoBERTa)
        if 0 < (tokenizer.model_max_length or 0) < 1_000_000:
            limit = min(limit, tokenizer.model_max_length)
        self.max_tokens = max(1, limit - len(self.prefix) - len(self.suffix))

    def encode(self, sequences: list[str]) -> list[np.ndarray]:
        if not sequences:
            return []
        texts = [sequence_text(s, self.mode, self.k) for s in sequences]
        ids = self.tokenizer(texts, add_special_tokens=False)["input_ids"]
        return [np.asarray(x, dtype=np.int64) if len(x) else self.empty for x in ids]

    def blocks(self, parts: Iterable[str]) -> Iterator[np.ndarray]:
        """A sequence's token ids a block of residues at a time. Overlapping k-mers
        (--hf-input kmers) and one-residue tokens are those of the whole sequence; a tokenizer
        that merges residues (BPE, or 6-mers after an N) may cut a block's edge differently
        from the whole, which changes the windows' tokens there."""
        size = windows.aligned_block(TOKENIZER_FRAME)
        for piece in windows.rejoin(parts, size, self.k - 1 if self.mode == "kmers" else 0):
            yield self.encode([piece])[0]

    def collate(self, arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """input_ids and attention_mask  # (B, L) int64 each, padding after each sequence"""
        rows = [np.concatenate([self.prefix, a[:self.max_tokens], self.suffix]).astype(np.int64)
                for a in arrays]
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = r
            mask[i, :len(r)] = 1
        return ids, mask

    def token_lengths(self, sequences: list[str]) -> np.ndarray:
        """Tokens per sequence, estimated from a sample's tokens per residue.  # (N,)"""
        residues = np.array([len(s) for s in sequences], dtype=np.int64)
        sample = list(range(0, len(sequences), max(1, len(sequences) // 256)))
        tokens = sum(len(a) for a in self.encode([sequences[i] for i in sample]))
        ratio = tokens / max(1, residues[sample].sum())
        return np.maximum(1, np.ceil(residues * ratio)).astype(np.int64)


def load_codec(source: str | Path, spec: ModelSpec, local: bool) -> Codec:
    p = spec.params
    trust = bool(p.trust_remote_code)
    tokenizer = from_pretrained("AutoTokenizer", source, trust, local)
    config = from_pretrained("AutoConfig", source, trust, local)
    mode = resolve_input_mode(tokenizer, spec)
    return Codec(tokenizer, config, mode, p.hf_kmer)


# ---------------------------------------------------------------- the network

def load_classifier(source: str | Path, spec: ModelSpec, local: bool):
    p = spec.params
    kwargs: dict[str, Any] = {}
    if not local:  # a fresh head, one logit per class
        kwargs = {"num_labels": len(spec.labels), "ignore_mismatched_sizes": True,
                  "id2label": dict(enumerate(spec.labels)),
                  "label2id": {c: i for i, c in enumerate(spec.labels)},
                  "problem_type": "multi_label_classification" if spec.task == "multilabel"
                  else "single_label_classification"}
    model = from_pretrained("AutoModelForSequenceClassification", source,
                            bool(p.trust_remote_code), local, **kwargs)
    from seqclass.models.networks.pretrained import HfNet

    return HfNet(model.float())


class _BoundFamily:
    """The loop's view of the family (see models.deep), bound to one checkpoint's tokenizer."""

    def __init__(self, source: str, codec: Codec):
        self.source, self.codec = source, codec

    def build(self, spec: ModelSpec):
        return load_classifier(self.source, spec, local=False)

    def max_tokens(self, spec: ModelSpec) -> int:
        return self.codec.max_tokens

    def encode(self, spec: ModelSpec, sequences: list[str]) -> list[np.ndarray]:
        return self.codec.encode(sequences)

    def collate(self, spec: ModelSpec, arrays: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        return self.codec.collate(arrays)

    def token_lengths(self, spec: ModelSpec, sequences: list[str]) -> np.ndarray:
        return self.codec.token_lengths(sequences)


@register("hf")
class HfClassifier(DeepClassifier):
    Params = HfParams
    bundle: ClassVar[str | None] = BUNDLE
    requires: ClassVar[tuple[str, ...]] = ("torch", "transformers")
    extra: ClassVar[str | None] = "deep,hf"

    def __init__(self, spec: ModelSpec, net, codec: Codec, training_record: dict | None = None):
        super().__init__(spec, net, training_record)
        self.codec = codec

    @classmethod
    def build(cls, spec: ModelSpec):
        return load_classifier(check_source(spec), spec, local=False)

    @classmethod
    def fit(cls, spec: ModelSpec, train: TrainData, valid: TrainData | None, seed: int,
            context: TrainContext | None = None) -> HfClassifier:
        from seqclass.training.loop import train_network

        cls.check_params(spec)
        source = check_source(spec)
        codec = load_codec(source, spec, local=False)
        spec = replace(spec, params=replace(spec.params, hf_input=codec.mode))  # config.json records it
        net, record = train_network(_BoundFamily(source, codec), spec, train, valid, seed, context)
        record["hf"] = {"max_tokens": codec.max_tokens, "input": codec.mode}
        return cls(spec, net, codec, record)

    def tokens(self) -> Codec:
        return self.codec

    def tensors(self) -> dict[str, np.ndarray]:
        return {}  # all weights are in hf/

    def save_bundle(self, directory: Path) -> None:
        save_pretrained(self.net.model, self.codec.tokenizer, directory)

    @classmethod
    def from_tensors(cls, spec: ModelSpec, tensors: dict[str, np.ndarray]) -> HfClassifier:
        raise ValueError(f"an {spec.family} model is a directory with {BUNDLE}/; load it with "
                         "store.load")

    @classmethod
    def from_bundle(cls, spec: ModelSpec, tensors: dict[str, np.ndarray],
                    directory: Path) -> HfClassifier:
        codec = load_codec(directory, spec, local=True)
        net = load_classifier(directory, spec, local=True)
        if net.model.config.num_labels != len(spec.labels):
            raise ValueError(f"{directory} has {net.model.config.num_labels} labels, "
                             f"labels.json {len(spec.labels)}")
        return cls(spec, net, codec)
