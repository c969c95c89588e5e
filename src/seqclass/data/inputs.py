"""The sequences a trained model is applied to: FASTA/FASTQ files or tables with id and
sequence columns, normalised to the model's alphabet.

An input whose first records look like another alphabet than the model's (protein for a DNA
model) is refused with that said, rather than failing on its first unexpected residue.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path

from seqclass.errors import InputError
from seqclass.io.sequences import LongSequence, is_table, iter_table, read_sequences, read_streamed
from seqclass.sequence import alphabets

BATCH_RECORDS = 1024  # table rows read at a time
ALPHABET_SAMPLE = 200  # records whose alphabet is checked against the model's
SAMPLE_RESIDUES = 10_000  # of each, so that 200 contigs of a megabase are not held for it


def records(paths: list[Path], alphabet: str) -> Iterator[tuple[str, str]]:
    """(id, normalised sequence) from every input, checked against the model's alphabet."""
    for rid, seq in _records(paths, alphabet, stream=False):
        assert isinstance(seq, str)
        yield rid, seq


def streamed_records(paths: list[Path], alphabet: str) -> Iterator[tuple[str, str | LongSequence]]:
    """records(), but a FASTA record longer than a block comes as a LongSequence, normalised
    as it is read (for scoring, which consumes it once, in order)."""
    return _records(paths, alphabet, stream=True)


def _records(paths: list[Path], alphabet: str,
             stream: bool) -> Iterator[tuple[str, str | LongSequence]]:
    for path in paths:
        sample: list[str] = []
        for rid, raw in _raw(path, stream):
            if isinstance(raw, LongSequence):
                parts = _normalised(raw, alphabet, sample, path, rid)
                first = next(parts)
                _sampled(sample, first, alphabet, path)
                yield rid, LongSequence(itertools.chain([first], parts), raw.min_length)
                continue
            seq = _normalise(raw, alphabet, sample, path, rid)
            _sampled(sample, seq, alphabet, path)
            yield rid, seq
        if 0 < len(sample) < ALPHABET_SAMPLE:
            _check_alphabet(sample, alphabet, path)


def _normalised(parts: Iterable[str], alphabet: str, sample: list[str], path: Path,
                rid: str) -> Iterator[str]:
    """The parts of one long sequence normalised, each knowing its offset and whether it is last."""
    offset, pending = 0, None
    for part in itertools.chain(parts, [None]):
        if pending is not None:
            yield _normalise(pending, alphabet, sample, path, rid, offset, last=part is None)
            offset += len(pending)
        pending = part


def _normalise(seq: str, alphabet: str, sample: list[str], path: Path, rid: str,
               offset: int = 0, last: bool = True) -> str:
    """A sequence (or part) normalised to the alphabet; an invalid character is named by its
    position in the whole, after the alphabet check (protein for a DNA model says so)."""
    try:
        return alphabets.normalise(seq, alphabet, offset, last)
    except alphabets.InvalidSequence as err:
        _check_alphabet([*sample, seq], alphabet, path)
        raise InputError(str(err), path, rid) from None


def _sampled(sample: list[str], seq: str, alphabet: str, path: Path) -> None:
    """Keep the start of the first records for the alphabet check (a protein shows a letter
    only proteins use within a few residues), and make it once there are enough or one is long."""
    if len(sample) < ALPHABET_SAMPLE:
        sample.append(seq[:SAMPLE_RESIDUES])
        if len(sample) == ALPHABET_SAMPLE or len(seq) > SAMPLE_RESIDUES:
            _check_alphabet(sample, alphabet, path)


def _check_alphabet(sample: list[str], alphabet: str, path: Path) -> None:
    try:
        seen = alphabets.detect(sample)
    except alphabets.MixedAlphabets as err:
        raise InputError(f"input {err}", path) from None
    if seen != alphabet:
        raise InputError(f"input looks like {seen} but the model was trained on {alphabet}", path)


def _raw(path: Path, stream: bool) -> Iterator[tuple[str, str | LongSequence]]:
    if not is_table(path):
        yield from read_streamed(path) if stream else \
            ((rec.id, rec.sequence) for rec in read_sequences(path))
        return
    rows = 0
    for batch in iter_table(path, ["id", "sequence"], BATCH_RECORDS):
        rows += len(batch["id"])
        yield from zip(map(str, batch["id"]), map(str, batch["sequence"]))
    if rows == 0:
        raise InputError("empty table: no rows", path)
