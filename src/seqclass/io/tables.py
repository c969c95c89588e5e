"""Parquet interchange tables with their schemas and JSON metadata.

Every table passed between steps is Parquet with a fixed Arrow schema (listed in
docs/formats.md) and a JSON document under the metadata key `seqclass` that carries
what the next step needs: alphabet, task, classes, and the provenance of each step.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from seqclass.errors import InputError

META_KEY = b"seqclass"

DATASET_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("sequence", pa.string()),
    ("label", pa.string()),
    ("source", pa.string()),
    ("length", pa.int64()),
])
# `build --bam` adds where each consensus sequence comes from; split keeps such extra columns
BAM_DATASET_SCHEMA = DATASET_SCHEMA.append(pa.field("sample", pa.string())).append(
    pa.field("region", pa.string()))
SPLIT_SCHEMA = DATASET_SCHEMA.append(pa.field("cluster", pa.int64())).append(
    pa.field("split", pa.string()))
CHUNK_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("parent_id", pa.string()),
    ("start", pa.int64()),
    ("end", pa.int64()),
    ("strand", pa.string()),
    ("sequence", pa.string()),
    ("label", pa.string()),
    ("split", pa.string()),
    ("length", pa.int64()),
])


def write_parquet(table: pa.Table, path: str | Path, meta: dict[str, Any]) -> None:
    table = table.replace_schema_metadata({META_KEY: json.dumps(meta).encode()})
    pq.write_table(table, path)


def read_meta(path: str | Path) -> dict[str, Any]:
    try:
        raw = pq.read_schema(path).metadata or {}
    except FileNotFoundError:
        raise InputError("file not found", path) from None
    except (pa.ArrowInvalid, OSError) as err:
        raise InputError(f"not a Parquet file ({err})", path) from None
    if META_KEY not in raw:
        raise InputError("not a seqclass table (no seqclass metadata); make it with `seqclass build`",
                         path)
    return json.loads(raw[META_KEY])


def read_parquet(path: str | Path, required: list[str]) -> tuple[pa.Table, dict[str, Any]]:
    """A seqclass table and its metadata; the columns in `required` must be present."""
    meta = read_meta(path)
    table = pq.read_table(path)
    missing = [c for c in required if c not in table.column_names]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", path)
    for name in required:
        column = table.column(name)
        if column.null_count:
            first = column.is_null().to_pylist().index(True)
            ids = table.column("id") if "id" in table.column_names and name != "id" else None
            record = ids[first].as_py() if ids is not None else None
            where = f"row {first}" + (f" (id {record!r})" if record is not None else "")
            raise InputError(f"column {name!r} has {column.null_count} empty (null) value(s), the "
                             f"first in {where}", path)
    return table, meta


def write_json(path: str | Path, doc: Any) -> None:
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=2, sort_keys=False)
        fh.write("\n")
