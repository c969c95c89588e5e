"""Build the dataset table from labelled inputs.

Inputs are FASTA/FASTQ files (plain or gzip), CSV/TSV/Parquet tables with id/sequence/
label columns, or a samplesheet (`sample,label,file`) naming such files. The result is
one row per unique sequence: id, sequence (normalised), label (`;`-joined when several),
source (the file it came from) and length, plus a summary of what was kept and dropped.
`build_records` does the same for records made elsewhere (the consensus sequences of aligned
reads), which may carry extra columns (`sample`, `region`: BAM_DATASET_SCHEMA).
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from seqclass.data.labels import LabelSource, join_labels, split_label
from seqclass.errors import InputError
from seqclass.io.sequences import Record, base_name, is_table, read_sequences, read_table
from seqclass.io.tables import DATASET_SCHEMA
from seqclass.sequence import alphabets

SAMPLESHEET_COLUMNS = ("sample", "label", "file")


@dataclass(frozen=True)
class InputSpec:
    path: Path
    label: str | None = None


def parse_input(token: str) -> InputSpec:
    """`PATH` or `LABEL=PATH`; an existing path wins over a split at `=`."""
    if os.path.exists(token) or "=" not in token:
        return InputSpec(Path(token))
    label, _, path = token.partition("=")
    if not label:
        raise InputError("empty label before '='", path)
    return InputSpec(Path(path), label)


def read_samplesheet(path: Path) -> list[InputSpec]:
    df = read_table(path, required=SAMPLESHEET_COLUMNS, what="samplesheet",
                    expected=",".join(SAMPLESHEET_COLUMNS))
    if df.empty:
        raise InputError("samplesheet has no rows", path)
    specs = []
    for i, row in df.iterrows():
        file = str(row["file"]).strip()
        if not file:
            raise InputError("empty 'file'", path, f"row {i + 2}")
        label = str(row["label"]).strip()
        if not label:  # a file name would stand in for it unseen
            raise InputError("empty 'label'", path, f"row {i + 2}")
        file_path = Path(file) if Path(file).is_absolute() else (path.parent / file)
        specs.append(InputSpec(file_path, label))
    return specs


@dataclass
class RawRecord:
    id: str
    sequence: str
    label: str
    source: str
    extra: dict[str, str] = field(default_factory=dict)  # further columns of the dataset


def iter_raw(spec: InputSpec, label_from: LabelSource | None) -> Iterator[RawRecord]:
    """Records of one input with their labels, before any normalisation."""
    if is_table(spec.path):
        yield from _iter_table(spec, label_from)
        return
    source = label_from or LabelSource("filename")
    if source.kind == "column":
        raise InputError(f"--label-from {source.kind}:{source.arg} applies to tables, "
                         "not FASTA/FASTQ", spec.path)
    file_label = spec.label or (base_name(spec.path) if source.kind == "filename" else None)
    for rec in read_sequences(spec.path):
        label = file_label or source.from_record(rec)
        if not label:
            raise InputError(f"no label in header for --label-from {source.kind}"
                             + (f":{source.arg}" if source.arg else ""), spec.path, rec.id)
        yield RawRecord(rec.id, rec.sequence, label, str(spec.path))


def _iter_table(spec: InputSpec, label_from: LabelSource | None) -> Iterator[RawRecord]:
    df = read_table(spec.path, required=("id", "sequence"))
    source = label_from or LabelSource("column", "label")
    if spec.label is None and source.kind == "column" and source.arg not in df.columns:
        raise InputError(f"missing label column {source.arg!r}", spec.path)
    if df.empty:
        raise InputError("empty table: no rows", spec.path)
    labels = (df[source.arg].astype(str) if source.kind == "column" and spec.label is None
              else [None] * len(df))
    for row, (rid, seq, lab) in enumerate(zip(df["id"].astype(str), df["sequence"].astype(str),
                                              labels), start=2):
        label: str | None
        if spec.label:
            label = spec.label
        elif source.kind == "column":
            label = lab.strip()
        else:
            label = source.from_record(Record(rid, "", seq))
        if not label:
            raise InputError("empty label", spec.path, rid)
        if not rid.strip():
            raise InputError("empty id", spec.path, f"row {row}")
        if not seq.strip():
            raise InputError("empty sequence", spec.path, rid)
        yield RawRecord(rid, seq.strip(), label, str(spec.path))


@dataclass
class BuildOptions:
    alphabet: str = "auto"
    min_length: int = 1
    max_ambiguous: float = 1.0
    rename_duplicate_ids: bool = False
    min_class_size: int = 1


def build(specs: list[InputSpec], label_from: LabelSource | None,
          opts: BuildOptions) -> tuple[pa.Table, dict, dict]:
    """(dataset table, metadata for the next step, summary for people)."""
    raw = [r for spec in specs for r in iter_raw(spec, label_from)]
    if not raw:
        raise InputError("no records in any input", specs[0].path if specs else None)
    return build_records(raw, opts, [{"path": str(s.path), "label": s.label} for s in specs])


def _detect(sample: list[RawRecord]) -> str:
    """--alphabet auto: the alphabet of the first records, refused when they mix both."""
    try:
        return alphabets.detect([r.sequence for r in sample])
    except alphabets.MixedAlphabets as err:
        first = sample[err.first_protein]
        raise InputError(f"input {err}", first.source, first.id) from None


def build_records(raw: list[RawRecord], opts: BuildOptions, inputs: list[dict],
                  task: str | None = None, collapse_duplicates: bool = True,
                  schema: pa.Schema = DATASET_SCHEMA) -> tuple[pa.Table, dict, dict]:
    """`build` on records already read: `inputs` goes to the summary as it is; `task` None
    detects it; `collapse_duplicates` False keeps repeated sequences as rows of their own;
    `schema` lists the columns, those after DATASET_SCHEMA's taken from each record's `extra`."""
    alphabet = opts.alphabet if opts.alphabet != "auto" else _detect(raw[:2000])
    tally = _Tally()
    records = _normalise(raw, alphabet, opts, tally)
    if collapse_duplicates:
        records = _collapse_duplicates(records, tally)
    records = _drop_small_classes(records, opts.min_class_size, tally)
    _rename_duplicate_ids(records, opts.rename_duplicate_ids, tally)
    if not records:
        raise InputError("no records left after filtering", raw[0].source)

    lengths = np.array([len(r.sequence) for r in records])
    if task is None:
        task = "multilabel" if any(len(split_label(r.label)) > 1 for r in records) else "multiclass"
    classes = sorted({c for r in records for c in split_label(r.label)})
    meta = {"alphabet": alphabet, "task": task, "classes": classes}
    return (_table(records, lengths, schema), meta,
            _summary(len(raw), records, lengths, meta, tally, inputs))


@dataclass
class _Tally:
    """What the filters of build_records dropped, renamed and counted, for the summary."""

    dropped: Counter[str] = field(default_factory=Counter)  # reason -> records
    ambiguous_residues: int = 0
    records_with_ambiguous: int = 0
    conflicts: list[dict] = field(default_factory=list)  # ids and labels of each conflicting sequence
    small_classes: dict[str, int] = field(default_factory=dict)  # class -> records
    renamed: int = 0


def _normalise(raw: list[RawRecord], alphabet: str, opts: BuildOptions,
               tally: _Tally) -> list[RawRecord]:
    """New records with normalised sequences and labels, less those too short or too ambiguous."""
    kept: list[RawRecord] = []
    for r in raw:
        try:
            seq = alphabets.normalise(r.sequence, alphabet)
        except alphabets.InvalidSequence as err:
            raise InputError(str(err), r.source, r.id) from None
        n_amb = alphabets.count_ambiguous(seq, alphabet)
        tally.ambiguous_residues += n_amb
        tally.records_with_ambiguous += n_amb > 0
        if len(seq) < opts.min_length:
            tally.dropped["shorter_than_min_length"] += 1
            continue
        if n_amb / len(seq) > opts.max_ambiguous:
            tally.dropped["too_many_ambiguous_residues"] += 1
            continue
        kept.append(RawRecord(r.id, seq, join_labels(split_label(r.label)), r.source, r.extra))
    return kept


def _collapse_duplicates(records: list[RawRecord], tally: _Tally) -> list[RawRecord]:
    """Exact duplicates: keep the first copy; the same sequence under different labels is dropped."""
    by_seq: dict[str, list[RawRecord]] = defaultdict(list)
    for r in records:
        by_seq[r.sequence].append(r)
    unique: list[RawRecord] = []
    for copies in by_seq.values():
        labels = {c.label for c in copies}
        if len(labels) > 1:
            tally.conflicts.append({"ids": [c.id for c in copies], "labels": sorted(labels)})
            tally.dropped["conflicting_labels"] += len(copies)
            continue
        unique.append(copies[0])
        tally.dropped["duplicate_sequence"] += len(copies) - 1
    return unique


def _drop_small_classes(records: list[RawRecord], min_class_size: int,
                        tally: _Tally) -> list[RawRecord]:
    """Classes too small to train and test on: drop every record carrying one."""
    class_size = Counter(c for r in records for c in split_label(r.label))
    small = {c: n for c, n in class_size.items() if n < min_class_size}
    tally.small_classes = small
    if not small:
        return records
    kept = [r for r in records if not any(c in small for c in split_label(r.label))]
    tally.dropped["class_smaller_than_min_class_size"] += len(records) - len(kept)
    return kept


def _rename_duplicate_ids(records: list[RawRecord], rename: bool, tally: _Tally) -> None:
    """Suffix each repeated id with _2, _3, ... in place; without `rename`, a repeat is an error."""
    seen: dict[str, RawRecord] = {}
    for r in records:
        if r.id in seen:
            if not rename:
                raise InputError("duplicate id with a different sequence "
                                 f"(first seen in {seen[r.id].source}); pass --rename-duplicate-ids "
                                 "to suffix repeats with _2, _3, ...", r.source, r.id)
            n = 2
            while f"{r.id}_{n}" in seen:
                n += 1
            r.id = f"{r.id}_{n}"
            tally.renamed += 1
        seen[r.id] = r


def _table(records: list[RawRecord], lengths: np.ndarray, schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pydict({
        "id": [r.id for r in records],
        "sequence": [r.sequence for r in records],
        "label": [r.label for r in records],
        "source": [r.source for r in records],
        "length": lengths.astype(np.int64),
        **{name: [r.extra[name] for r in records] for name in schema.names[len(DATASET_SCHEMA):]},
    }, schema=schema)


def _summary(records_read: int, records: list[RawRecord], lengths: np.ndarray, meta: dict,
             tally: _Tally, inputs: list[dict]) -> dict:
    per_class = Counter(c for r in records for c in split_label(r.label))
    return {
        "records_read": records_read,
        "records_kept": len(records),
        "alphabet": meta["alphabet"],
        "task": meta["task"],
        "classes": {c: per_class[c] for c in meta["classes"]},
        "label_sets": dict(sorted(Counter(r.label for r in records).items())),
        "length": _length_stats(lengths),
        "ambiguous_residues": int(tally.ambiguous_residues),
        "records_with_ambiguous_residues": int(tally.records_with_ambiguous),
        "dropped": dict(sorted((k, v) for k, v in tally.dropped.items() if v)),
        "conflicting_labels": tally.conflicts,
        "small_classes_dropped": dict(sorted(tally.small_classes.items())),
        "renamed_duplicate_ids": tally.renamed,
        "inputs": inputs,
    }


def _length_stats(lengths: np.ndarray) -> dict:
    q = np.percentile(lengths, [5, 25, 50, 75, 95])
    return {"min": int(lengths.min()), "max": int(lengths.max()), "mean": float(lengths.mean()),
            "p5": float(q[0]), "p25": float(q[1]), "median": float(q[2]), "p75": float(q[3]),
            "p95": float(q[4])}
