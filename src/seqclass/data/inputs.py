"""The sequences a trained model is applied to: FASTA/FASTQ files or tables with id and
sequence columns, normalised to the model's alphabet.

An input whose first records look like another alphabet than the model's (protein for a DNA
model) is refused with that said, rather than failing on its first unexpected residue.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from seqclass.errors import InputError
from seqclass.io.sequences import is_table, iter_table, read_sequences
from seqclass.sequence import alphabets

BATCH_RECORDS = 1024  # table rows read at a time
ALPHABET_SAMPLE = 200  # records whose alphabet is checked against the model's


def records(paths: list[Path], alphabet: str) -> Iterator[tuple[str, str]]:
    """(id, normalised sequence) from every input, checked against the model's alphabet."""
    for path in paths:
        sample: list[str] = []
        for rid, seq in _raw(path):
            if len(sample) < ALPHABET_SAMPLE:
                sample.append(seq)
                if len(sample) == ALPHABET_SAMPLE or len(seq) > 10_000:
                    _check_alphabet(sample, alphabet, path)
            try:
                yield rid, alphabets.normalise(seq, alphabet)
            except alphabets.InvalidSequence as err:
                _check_alphabet(sample, alphabet, path)  # protein for a DNA model says so
                raise InputError(str(err), path, rid) from None
        if 0 < len(sample) < ALPHABET_SAMPLE:
            _check_alphabet(sample, alphabet, path)


def _check_alphabet(sample: list[str], alphabet: str, path: Path) -> None:
    try:
        seen = alphabets.detect(sample)
    except alphabets.MixedAlphabets as err:
        raise InputError(f"input {err}", path) from None
    if seen != alphabet:
        raise InputError(f"input looks like {seen} but the model was trained on {alphabet}", path)


def _raw(path: Path) -> Iterator[tuple[str, str]]:
    if not is_table(path):
        for rec in read_sequences(path):
            yield rec.id, rec.sequence
        return
    rows = 0
    for batch in iter_table(path, ["id", "sequence"], BATCH_RECORDS):
        rows += len(batch["id"])
        yield from zip(map(str, batch["id"]), map(str, batch["sequence"]))
    if rows == 0:
        raise InputError("empty table: no rows", path)
