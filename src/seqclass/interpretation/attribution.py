"""In-silico mutagenesis (ISM) and occlusion of one sequence, for any model family.

Contract:
- An edit is `(start, replacement)`: the residues `[start, start + len(replacement))`
  (0-based) replaced, the length unchanged.
- `EditScorer` scores edited copies of a sequence exactly as `seqclass predict` scores the
  sequence (models.inference): cut into the model's windows (config.json window and stride,
  or the overrides predict also takes; one window for a model trained on whole sequences),
  window logits aggregated by `mean` or `max`. An edit changes only the windows it overlaps,
  so only those are scored again; the others keep the logits of the unedited sequence. Pieces
  go through `model.logits` at most `batch_size` at a time, which bounds memory whatever the
  number of edits.
- The score of a class is its log-probability (`logprob`: log-softmax of the aggregated
  logits, multilabel: log-sigmoid) or its `logit`. A delta is score(edited) - score(reference):
  negative where the original residues support the target class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqclass.models.base import Classifier
from seqclass.models.inference import AGGREGATES
from seqclass.sequence import alphabets
from seqclass.sequence.windows import sliding

SCORES = ("logprob", "logit")
FILLS = ("mask", "shuffle")
MASK = {alphabets.DNA: "N", alphabets.PROTEIN: "X"}


def core_alphabet(alphabet: str) -> str:
    """The residues ISM substitutes: ACGT, or the 20 standard amino acids."""
    return alphabets.DNA_CORE if alphabet == alphabets.DNA else alphabets.PROTEIN_CORE


def class_scores(logits: np.ndarray, target: int, task: str, kind: str) -> np.ndarray:
    """The target class's score of each row of aggregated logits.  # (N, C) -> (N,)"""
    logits = np.asarray(logits, dtype=np.float64)
    if kind == "logit":
        return logits[:, target]
    if task == "multilabel":
        return -np.logaddexp(0.0, -logits[:, target])  # log sigmoid, stable for large |logit|
    top = logits.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
    return logits[:, target] - log_norm


class EditScorer:
    """Aggregated logits of edited copies of one sequence, as `predict` would compute them."""

    def __init__(self, model: Classifier, sequence: str, aggregate: str, batch_size: int,
                 window: int | None = None, stride: int | None = None):
        if aggregate not in AGGREGATES:
            raise ValueError(f"aggregate must be one of {AGGREGATES}, got {aggregate!r}")
        self.model, self.sequence, self.aggregate = model, sequence, aggregate
        self.batch_size = max(1, batch_size)
        # the same fall-backs as models.inference.score
        window = window or model.spec.window
        spans = ([(0, len(sequence))] if window is None
                 else sliding(len(sequence), window, stride or model.spec.stride or window))
        self.spans = np.asarray(spans, dtype=np.int64)  # (W, 2) start, end
        self.windows = self._logits([sequence[s:e] for s, e in spans])  # (W, C)
        self.reference = self._reduce(self.windows[None])[0]  # (C,)

    def _logits(self, pieces: list[str]) -> np.ndarray:
        out = [np.asarray(self.model.logits(pieces[i:i + self.batch_size]), dtype=np.float64)
               for i in range(0, len(pieces), self.batch_size)]
        return np.concatenate(out)  # (P, C)

    def _reduce(self, stacked: np.ndarray) -> np.ndarray:
        """(E, W, C) window logits -> (E, C), as models.inference aggregates them."""
        return stacked.mean(axis=1) if self.aggregate == "mean" else stacked.max(axis=1)

    def score(self, edits: list[tuple[int, str]]) -> np.ndarray:
        """Aggregated logits of each edited copy.  # (E, C)"""
        out = np.empty((len(edits), self.windows.shape[1]))
        pieces: list[str] = []
        rows: list[int] = []
        cols: list[int] = []
        first = 0  # first edit of the pending group
        for e, (start, replacement) in enumerate(edits):
            end = start + len(replacement)
            hit = np.nonzero((self.spans[:, 0] < end) & (self.spans[:, 1] > start))[0]
            for w in hit:
                s, t = self.spans[w]
                a, b = max(s, start), min(t, end)
                pieces.append(self.sequence[s:a] + replacement[a - start:b - start]
                              + self.sequence[b:t])
                rows.append(e - first)
                cols.append(int(w))
            if len(pieces) >= self.batch_size or e == len(edits) - 1:
                logits = self._logits(pieces)  # (P, C)
                stacked = np.repeat(self.windows[None], e + 1 - first, axis=0)  # (E', W, C)
                stacked[rows, cols] = logits
                out[first:e + 1] = self._reduce(stacked)
                pieces, rows, cols, first = [], [], [], e + 1
        return out


@dataclass
class Attribution:
    """ISM and occlusion of one sequence. Positions are 0-based; `core` orders ISM's columns."""

    id: str
    sequence: str
    target: int  # index of the explained class
    reference: np.ndarray  # (C,) aggregated logits of the unedited sequence
    score: float  # the target's score of the unedited sequence
    core: str  # the substituted residues, ISM's column order
    ism: np.ndarray  # (L, A) delta of each substitution; 0 where the residue is the reference
    occlusion: np.ndarray  # (L,) mean delta of the occlusions covering each position


def substituted(sequence: str, core: str) -> np.ndarray:
    """True where ISM substituted: every core residue but the reference one.  # (L, A) bool"""
    seq = np.frombuffer(sequence.encode("ascii"), dtype=np.uint8)
    return seq[:, None] != np.frombuffer(core.encode("ascii"), dtype=np.uint8)[None, :]


def ism_summaries(attr: Attribution) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, min and max delta over each position's substitutions.  # 3 × (L,)"""
    alt = substituted(attr.sequence, attr.core)  # (L, A)
    mean = attr.ism.sum(axis=1) / alt.sum(axis=1)  # the reference column is a structural 0
    low = np.where(alt, attr.ism, np.inf).min(axis=1)
    high = np.where(alt, attr.ism, -np.inf).max(axis=1)
    return mean, low, high


def ism(scorer: EditScorer, core: str, target: int, task: str, kind: str) -> np.ndarray:
    """Delta of every single-residue substitution by a core residue.  # (L, A)

    The reference residue's own column stays 0 (it is not a substitution); an ambiguous
    reference (N, X, ...) has all A columns scored.
    """
    seq = scorer.sequence
    positions, columns, edits = [], [], []
    for p, ref in enumerate(seq):
        for j, alt in enumerate(core):
            if alt != ref:
                positions.append(p)
                columns.append(j)
                edits.append((p, alt))
    base = class_scores(scorer.reference[None], target, task, kind)[0]
    delta = class_scores(scorer.score(edits), target, task, kind) - base  # (E,)
    out = np.zeros((len(seq), len(core)))
    out[positions, columns] = delta
    return out


def occlusion(scorer: EditScorer, width: int, fill: str, mask: str, target: int, task: str,
              kind: str, seed: int) -> np.ndarray:
    """Mean delta, per position, of occluding each stretch of `width` residues covering it.  # (L,)

    Stretches start at every position (stride 1); a sequence no longer than `width` is
    occluded whole, once. `fill`: `mask` writes `mask` (N or X) over the stretch, `shuffle`
    permutes its residues (composition kept, order lost) with a generator seeded by `seed`
    for each sequence, so a sequence's result does not depend on the others interpreted.
    """
    if fill not in FILLS:
        raise ValueError(f"fill must be one of {FILLS}, got {fill!r}")
    seq = scorer.sequence
    length = len(seq)
    w = min(width, length)
    rng = np.random.default_rng(seed)
    edits = []
    for s in range(length - w + 1):
        if fill == "mask":
            edits.append((s, mask * w))
        else:
            edits.append((s, "".join(rng.permutation(list(seq[s:s + w])))))
    base = class_scores(scorer.reference[None], target, task, kind)[0]
    delta = class_scores(scorer.score(edits), target, task, kind) - base  # (S,)
    # position p is covered by the stretches starting in [max(0, p - w + 1), min(p, L - w)]
    p = np.arange(length)
    lo = np.maximum(0, p - w + 1)
    hi = np.minimum(p, length - w) + 1
    csum = np.concatenate([[0.0], np.cumsum(delta)])
    return (csum[hi] - csum[lo]) / (hi - lo)


def attribute(model: Classifier, rid: str, sequence: str, *, target: int | None, kind: str,
              aggregate: str, occlusion_width: int, fill: str, seed: int, batch_size: int,
              window: int | None, stride: int | None) -> Attribution:
    """ISM and occlusion of one sequence for `target` (None: its predicted class); `window` and
    `stride` None: the model's. The options are those of `seqclass interpret`, which owns their
    defaults."""
    if kind not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, got {kind!r}")
    spec = model.spec
    scorer = EditScorer(model, sequence, aggregate, batch_size, window, stride)
    # the predicted class: arg-max of the logits is arg-max of softmax and of every sigmoid
    target = int(np.argmax(scorer.reference)) if target is None else target
    core = core_alphabet(spec.alphabet)
    base = float(class_scores(scorer.reference[None], target, spec.task, kind)[0])
    return Attribution(
        id=rid, sequence=sequence, target=target, reference=scorer.reference, score=base,
        core=core, ism=ism(scorer, core, target, spec.task, kind),
        occlusion=occlusion(scorer, occlusion_width, fill, MASK[spec.alphabet], target,
                            spec.task, kind, seed))
