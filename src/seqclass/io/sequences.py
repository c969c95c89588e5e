"""Streaming readers of FASTA and FASTQ, plain or gzip, and of sequence tables.

Every reader yields `Record(id, description, sequence)` one at a time so memory does
not grow with the file. Errors (empty file, truncated gzip, a FASTQ record whose
quality length differs from its sequence, text that is neither format) raise
InputError naming the file and the record.
"""

from __future__ import annotations

import gzip
import io
import itertools
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow.parquet as pq

from seqclass.errors import InputError

FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".ffn", ".faa", ".frn", ".fas", ".seq", ".txt")
FASTQ_SUFFIXES = (".fq", ".fastq")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")


@dataclass(frozen=True)
class Record:
    id: str
    description: str
    sequence: str


def _strip_gz(path: Path) -> str:
    name = path.name.lower()
    return name[:-3] if name.endswith(".gz") else name


def is_table(path: str | Path) -> bool:
    """A table by its name: .csv, .tsv, .parquet (gzip allowed for text tables)."""
    name = _strip_gz(Path(path))
    return name.endswith((".csv", ".tsv", ".parquet", ".pq"))


def base_name(path: str | Path) -> str:
    """File name without compression and format suffixes: `Bacillus_prom.fa.gz` → `Bacillus_prom`."""
    name = _strip_gz(Path(path))
    for suffix in FASTA_SUFFIXES + FASTQ_SUFFIXES + TABLE_SUFFIXES:
        if name.endswith(suffix):
            return Path(path).name[: len(name) - len(suffix)]
    return Path(name).stem


def open_text(path: str | Path) -> IO[str]:
    """Open plain or gzip text by its magic bytes, not its name."""
    path = Path(path)
    if _is_gzip(path):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="ascii", errors="strict")
    return open(path, encoding="ascii", errors="strict")


def _is_gzip(path: Path) -> bool:
    """Whether an existing file (else one line saying why not) starts with gzip's magic bytes."""
    if not path.exists():
        raise InputError("file not found", path)
    if path.is_dir():
        raise InputError("is a directory, expected a file", path)
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _lines(path: Path) -> Iterator[str]:
    """The file's lines, ASCII; a non-ASCII byte is named by its line, byte offset and record."""
    offset, header = 0, None
    try:
        with _open_binary(path) as fh:
            for n, raw in enumerate(fh, start=1):
                try:
                    line = raw.decode("ascii")
                except UnicodeDecodeError as err:
                    where = f"line {n}, byte {offset + err.start}"
                    raise InputError(f"not a text sequence file: non-ASCII byte "
                                     f"0x{raw[err.start]:02x} at {where}", path,
                                     _split_header(header)[0] if header else None) from None
                offset += len(raw)
                if line[:1] in (">", "@"):
                    header = line
                yield line.rstrip("\r\n")
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise InputError(f"truncated or corrupt gzip ({err})", path) from None


def _open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if _is_gzip(path) else open(path, "rb")  # type: ignore[return-value]


def is_fastq(path: str | Path) -> bool:
    """True for a FASTQ file (reads), by its first non-blank character, as read_sequences decides."""
    if is_table(path):
        return False
    return next((line.startswith("@") for line in _lines(Path(path)) if line.strip()), False)


def read_sequences(path: str | Path) -> Iterator[Record]:
    """Records of a FASTA or FASTQ file, chosen by the first non-blank character."""
    for rid, desc, seq in _records(Path(path), stream=False):
        assert isinstance(seq, str)
        yield Record(rid, desc, seq)


def read_streamed(path: str | Path) -> Iterator[tuple[str, str | LongSequence]]:
    """(id, sequence) of a FASTA or FASTQ file, where a FASTA record longer than a block
    (JOIN_BLOCK residues: a chromosome) comes as a LongSequence, read as it is consumed."""
    for rid, _, seq in _records(Path(path), stream=True):
        yield rid, seq


def _records(path: Path, stream: bool) -> Iterator[tuple[str, str, str | LongSequence]]:
    lines = _lines(path)
    for first in lines:
        if first.strip():
            break
    else:
        raise InputError("empty file: no sequence records", path)
    if first.startswith(">"):
        yield from _fasta(path, first, lines, stream)
    elif first.startswith("@"):
        yield from ((r.id, r.description, r.sequence) for r in _fastq(path, first, lines))
    else:
        raise InputError(f"not FASTA or FASTQ: first line starts with {first[:1]!r}", path)


def _split_header(header: str) -> tuple[str, str]:
    parts = header[1:].strip().split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


JOIN_BLOCK = 1 << 20  # residues per joined block


class LongSequence:
    """A FASTA record longer than a block, read while it is consumed: iterating it (once) gives
    its residues in blocks of about JOIN_BLOCK; `length` counts those given so far, and
    `min_length` is known from the start. The reader skips what a consumer leaves unread when
    it reads the next record; reading on after that is an error, not a shorter sequence."""

    def __init__(self, parts: Iterator[str], min_length: int):
        self._parts = parts
        self.min_length = min_length
        self.length = 0
        self._read = self._skipped = False

    def __iter__(self) -> Iterator[str]:
        if self._read:
            raise RuntimeError("a LongSequence is read once")
        self._read = True
        for part in self._parts:
            self.length += len(part)
            yield part
        if self._skipped:
            raise RuntimeError("a LongSequence read after the reader moved past it")

    def skip_rest(self) -> None:
        self._skipped = True
        for _ in self._parts:
            pass


class _Body:
    """The sequence lines of one FASTA record, up to the next header (then in `next_header`)."""

    def __init__(self, lines: Iterator[str]):
        self.lines = lines
        self.next_header: str | None = None

    def blocks(self) -> Iterator[str]:
        """The lines joined into blocks as they come, spaces dropped: a chromosome's million
        line strings (about 80 bytes of overhead each) are never held at once."""
        held: list[str] = []
        size = 0
        for line in self.lines:
            if line.startswith(">"):
                self.next_header = line
                break
            line = line.strip()
            held.append(line)
            size += len(line)
            if size >= JOIN_BLOCK:
                yield "".join(held).replace(" ", "")
                held, size = [], 0
        if last := "".join(held).replace(" ", ""):
            yield last


def _fasta(path: Path, first: str, lines: Iterator[str],
           stream: bool) -> Iterator[tuple[str, str, str | LongSequence]]:
    header: str | None = first
    n = 0
    while header is not None:
        n += 1
        rid, desc = _split_header(header)
        if not rid:
            raise InputError(f"record {n} has an empty header", path)
        body = _Body(lines)
        blocks = body.blocks()
        head = [b for b in itertools.islice(blocks, 2) if b]
        if not head:
            raise InputError("empty sequence", path, rid)
        if stream and len(head) == 2:
            seq = LongSequence(itertools.chain(head, blocks), sum(map(len, head)))
            yield rid, desc, seq
            seq.skip_rest()
        else:
            yield rid, desc, "".join([*head, *blocks])
        header = body.next_header


def _fastq(path: Path, first: str, lines: Iterator[str]) -> Iterator[Record]:
    header: str | None = first
    while header is not None:
        if not header.startswith("@"):
            raise InputError(f"FASTQ header expected, found {header[:20]!r}", path)
        rid, desc = _split_header(header)
        try:
            seq = next(lines).strip()
            plus = next(lines)
            qual = next(lines).strip()
        except StopIteration:
            raise InputError("truncated FASTQ record", path, rid) from None
        if not plus.startswith("+"):
            raise InputError("FASTQ record lacks its '+' line", path, rid)
        if len(qual) != len(seq):
            raise InputError(
                f"quality length {len(qual)} differs from sequence length {len(seq)}", path, rid
            )
        if not seq:
            raise InputError("empty sequence", path, rid)
        yield Record(rid, desc, seq)
        header = next((line for line in lines if line.strip()), None)


def iter_table(path: str | Path, columns: list[str], batch_rows: int = 4096) -> Iterator[dict[str, list]]:
    """A table's columns in batches of rows, never the whole file at once."""
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path)
    name = _strip_gz(path)
    if name.endswith((".parquet", ".pq")):
        try:
            pf = pq.ParquetFile(path)
        except Exception as err:  # pyarrow's own error hierarchy
            raise InputError(f"cannot read Parquet ({err})", path) from None
        require_columns(path, columns, pf.schema_arrow.names)
        for batch in pf.iter_batches(batch_size=batch_rows, columns=columns):
            yield batch.to_pydict()
        return
    sep = "\t" if name.endswith((".tsv", ".txt")) else ","
    try:
        reader = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, chunksize=batch_rows)
        for n, frame in enumerate(reader):
            if n == 0:
                require_columns(path, columns, list(frame.columns))
            yield {c: frame[c].tolist() for c in columns}
    except pd.errors.EmptyDataError:
        raise InputError("empty table", path) from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise InputError(f"truncated or corrupt gzip ({err})", path) from None


def require_columns(path: Path, wanted: Sequence[str], present: Sequence[str], what: str = "table",
                    expected: str | None = None) -> None:
    """One line naming the file and the columns it lacks, and what it should have (or has)."""
    missing = [c for c in wanted if c not in present]
    if missing:
        hint = f"expected {expected}" if expected else f"has {', '.join(map(str, present))}"
        raise InputError(f"{what} lacks column(s) {', '.join(missing)} ({hint})", path)


def read_table(path: str | Path, columns: list[str] | None = None, required: Sequence[str] = (),
               what: str = "table", expected: str | None = None):
    """A CSV/TSV/Parquet table as a pandas DataFrame of strings (Parquet keeps its types), with
    the `required` columns (else one line saying what the `what` lacks: require_columns)."""
    path = Path(path)
    frame = _read_frame(path, columns)
    require_columns(path, required, list(frame.columns), what, expected)
    return frame


def _read_frame(path: Path, columns: list[str] | None):
    import pandas as pd

    if not path.exists():
        raise InputError("file not found", path)
    name = _strip_gz(path)
    try:
        if name.endswith((".parquet", ".pq")):
            return pq.read_table(path, columns=columns).to_pandas()
        sep = "\t" if name.endswith((".tsv", ".txt")) else ","
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, usecols=columns)
    except pd.errors.EmptyDataError:
        raise InputError("empty table", path) from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise InputError(f"truncated or corrupt gzip ({err})", path) from None
    except ValueError as err:
        raise InputError(f"cannot read table ({err})", path) from None
    except Exception as err:  # pyarrow raises its own hierarchy for corrupt Parquet
        if type(err).__module__.startswith("pyarrow"):
            raise InputError(f"cannot read Parquet ({err})", path) from None
        raise
