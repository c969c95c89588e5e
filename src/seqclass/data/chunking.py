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
from seqclass.sequence.alphabets import reverse_complement
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
    # Read through a 1 MiB buffer: pyarrow's defaults (buffer_size=0, pre_buffer=True) load a
    # whole column chunk, and `build` writes one row group, so memory grew with the dataset.
    pf = pq.ParquetFile(path, buffer_size=1 << 20, pre_buffer=False)
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
            # column by column, a list per sequence (one append per value was the hot loop)
            k = len(spans)
            subs = [seq[start:end] for start, end in spans]
            strands = ["+"] * k
            if opts.rc_prob > 0 and split in opts.augment_splits:
                for n in range(k):
                    if rng.random() < opts.rc_prob:
                        subs[n], strands[n] = reverse_complement(subs[n]), "-"
            ids = [f"{pid}:{start}-{end}{strand}" for (start, end), strand in zip(spans, strands)]
            if opts.samples_per_seq:
                ids = [f"{cid}/{n}" for n, cid in enumerate(ids)]
            out["id"] += ids
            out["parent_id"] += [pid] * k
            out["start"] += [start for start, _ in spans]
            out["end"] += [end for _, end in spans]
            out["strand"] += strands
            out["sequence"] += subs
            out["label"] += [label] * k
            out["split"] += [split] * k
            out["length"] += [end - start for start, end in spans]
            if len(out["id"]) >= batch_rows:
                yield pa.Table.from_pydict(out, schema=CHUNK_SCHEMA)
                out = {name: [] for name in CHUNK_SCHEMA.names}
    if out["id"]:
        yield pa.Table.from_pydict(out, schema=CHUNK_SCHEMA)
