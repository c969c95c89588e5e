"""One module per model family; seqclass.models imports each of them, which registers it."""
