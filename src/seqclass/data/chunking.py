"""Cut sequences into windows or random stretches, streaming Parquet batch by batch.

Each chunk keeps its parent id, start, end (0-based, half-open, on the parent's forward
strand), strand (`+`, or `-` when reverse-complemented), split and label. Memory holds
one input batch and one output batch at a time, whatever the input size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from seqclass.io.tables import CHUNK_SCHEMA
from seqclass.sequence.alphabet import reverse_complement
from seqclass.sequence.windows import random_stretches, sliding


@dataclass(frozen=True)
class ChunkOptions:
    window: int
    stride: int
    samples_per_seq: int | None
    rc_prob: float
    augment_splits: tuple[str, ...]
    seed: int


def chunk_batches(path: str, opts: ChunkOptions, batch_rows: int = 4096) -> Iterator[pa.Table]:
    rng = np.random.default_rng(opts.seed)
    pf = pq.ParquetFile(path)
    out: dict[str, list] = {name: [] for name in CHUNK_SCHEMA.names}
    has_split = "split" in pf.schema_arrow.names
    columns = ["id", "sequence", "label"] + (["split"] if has_split else [])
    for batch in pf.iter_batches(batch_size=1024, columns=columns):
        cols = batch.to_pydict()
        splits = cols["split"] if has_split else [None] * batch.num_rows
        for pid, seq, label, split in zip(cols["id"], cols["sequence"], cols["label"], splits):
            if opts.samples_per_seq:
                spans = random_stretches(len(seq), opts.window, opts.samples_per_seq, rng)
            else:
                spans = sliding(len(seq), opts.window, opts.stride)
            augment = opts.rc_prob > 0 and split in opts.augment_splits
            for n, (start, end) in enumerate(spans):
                sub = seq[start:end]
                strand = "+"
                if augment and rng.random() < opts.rc_prob:
                    sub, strand = reverse_complement(sub), "-"
                cid = f"{pid}:{start}-{end}{strand}"
                if opts.samples_per_seq:
                    cid += f"/{n}"
                for name, value in zip(CHUNK_SCHEMA.names,
                                       (cid, pid, start, end, strand, sub, label, split, end - start)):
                    out[name].append(value)
            if len(out["id"]) >= batch_rows:
                yield pa.Table.from_pydict(out, schema=CHUNK_SCHEMA)
                out = {name: [] for name in CHUNK_SCHEMA.names}
    if out["id"]:
        yield pa.Table.from_pydict(out, schema=CHUNK_SCHEMA)
