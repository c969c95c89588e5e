"""Why a model calls a sequence what it calls it: in-silico mutagenesis, occlusion, tracks.

Works for every model family: it only calls `model.logits(list[str])` (N, C) and reads
`model.spec` (alphabet, task, labels, window, stride).

- `attribution`: an edited copy of a sequence is scored as `predict` scores the sequence
  (the model's windows, window logits aggregated by mean or max); the change of the target
  class's score (its log-probability, or its logit) against the unedited sequence is the
  attribution. ISM substitutes every core residue at every position; occlusion replaces a
  sliding stretch of residues by the ambiguity code (N / X) or a shuffle of themselves.
- `tracks`: the per-window rows of `predict --tracks`, grouped per contig.
- `plots`: PNGs of both (matplotlib, Agg).

Positions are 0-based inside the library and 1-based only where a step writes them.
"""
