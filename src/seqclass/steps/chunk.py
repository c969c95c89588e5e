"""Cut sequences into windows, fixed-length reads or random stretches, streaming.

Sliding windows of --window every --stride (the last window ends at the sequence end,
no ragged tail; a shorter sequence is one chunk of its own length), or with
--samples-per-seq K, K random stretches of --window per sequence. --rc-prob P
reverse-complements each chunk of the --augment-splits splits with probability P.
Each chunk keeps parent id, start, end, strand, split and label; window and stride
are recorded so that `train` writes them into the model.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from seqclass import config
from seqclass.config import option
from seqclass.data.chunking import ChunkOptions, chunk_batches
from seqclass.errors import InputError
from seqclass.io.atomic import atomic_outputs
from seqclass.io.tables import CHUNK_SCHEMA, META_KEY, read_meta
from seqclass.sequence.alphabets import DNA
from seqclass.steps.common import provenance

log = logging.getLogger(__name__)


@dataclass
class Config:
    dataset: Path = option("dataset or split Parquet")
    window: int = option("window (chunk) length")
    out: Path = option("chunks Parquet to write")
    stride: int | None = option("step between window starts (default: the window, no overlap)", None)
    samples_per_seq: int | None = option("take K random stretches per sequence instead of sliding",
                                         None)
    rc_prob: float = option("probability of reverse-complementing a chunk (DNA only)", 0.0)
    augment_splits: str = option("comma-separated splits that get reverse-complement augmentation",
                                 "train")
    seed: int = option("random seed for stretches and augmentation", 0)

    def __post_init__(self) -> None:
        config.at_least(self, ("window", "stride", "samples_per_seq"))
        config.within(self, "rc_prob", 0, 1)


def run(cfg: Config) -> None:
    meta = read_meta(cfg.dataset)
    stride = cfg.stride if cfg.stride is not None else cfg.window
    if cfg.rc_prob > 0 and meta["alphabet"] != DNA:
        raise InputError("--rc-prob needs DNA; this dataset is " + meta["alphabet"], cfg.dataset)
    opts = ChunkOptions(window=cfg.window, stride=stride, samples_per_seq=cfg.samples_per_seq,
                        rc_prob=cfg.rc_prob,
                        augment_splits=tuple(s for s in cfg.augment_splits.split(",") if s),
                        seed=cfg.seed)
    meta = {**meta, "chunk": {"window": cfg.window, "stride": stride,
                              "samples_per_seq": cfg.samples_per_seq, "rc_prob": cfg.rc_prob,
                              "augment_splits": list(opts.augment_splits), "seed": cfg.seed},
            "provenance": meta.get("provenance", []) + [provenance("chunk", cfg)]}
    schema = CHUNK_SCHEMA.with_metadata({META_KEY: json.dumps(meta).encode()})
    n = 0
    with atomic_outputs([cfg.dataset], [cfg.out], step="chunk") as outs:
        with pq.ParquetWriter(outs.file(cfg.out), schema) as writer:
            for batch in chunk_batches(str(cfg.dataset), opts):
                writer.write_table(batch.replace_schema_metadata(schema.metadata))
                n += batch.num_rows
    log.info("%d chunks of up to %d (stride %d) → %s", n, cfg.window, stride, cfg.out)
