"""Alphabets and per-residue checks.

Contract: a normalised sequence is upper case; DNA uses A, C, G, T and the IUPAC
ambiguity codes (U is rewritten to T); protein uses the 20 standard residues plus
the IUPAC extras B, Z, J, U, O and X, with one trailing stop `*` removed. Any other
character is an error that names the record and the position (1-based, as people count).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

DNA = "dna"
PROTEIN = "protein"
ALPHABETS = (DNA, PROTEIN)

DNA_CORE = "ACGT"
DNA_IUPAC = "NRYSWKMBDHV"
PROTEIN_CORE = "ACDEFGHIKLMNPQRSTVWY"
PROTEIN_EXTRA = "BZJUOX"

_PROTEIN_ONLY = set(PROTEIN_CORE) - set(DNA_CORE + DNA_IUPAC)  # E F I L P Q
_ALLOWED = {DNA: set(DNA_CORE + DNA_IUPAC), PROTEIN: set(PROTEIN_CORE + PROTEIN_EXTRA)}
_AMBIGUOUS = {DNA: set(DNA_IUPAC), PROTEIN: set(PROTEIN_EXTRA)}
_INVALID_RE = {
    alpha: re.compile("[^" + re.escape("".join(sorted(chars))) + "]")
    for alpha, chars in _ALLOWED.items()
}
_COMPLEMENT = str.maketrans("ACGTNRYSWKMBDHV", "TGCANYRSWMKVHDB")


class InvalidSequence(ValueError):
    """A sequence with a character outside its alphabet; the caller adds file and record."""


def normalise(seq: str, alphabet: str, offset: int = 0, last: bool = True) -> str:
    """Upper-case, U→T for DNA, drop one trailing protein stop; raise on any other character.
    A part of a longer sequence gives its `offset` (for the error's position) and whether it is
    the `last` part (the only one whose stop is dropped)."""
    if not seq.isupper():  # a copy only where there is lower case (a chromosome is 200 MB)
        seq = seq.upper()
    if alphabet == DNA:
        seq = seq.replace("U", "T")
    elif last and seq.endswith("*"):
        seq = seq[:-1]
    bad = _INVALID_RE[alphabet].search(seq)
    if bad:
        raise InvalidSequence(f"invalid character {bad.group()!r} at position "
                              f"{offset + bad.start() + 1} for alphabet {alphabet}")
    return seq


def count_ambiguous(seq: str, alphabet: str) -> int:
    ambiguous = _AMBIGUOUS[alphabet]
    return sum(1 for c in seq if c in ambiguous)


class MixedAlphabets(ValueError):
    """Sampled records of both alphabets; `first_protein` indexes the first protein-like one."""

    def __init__(self, n_dna: int, n_protein: int, first_protein: int):
        self.first_protein = first_protein
        super().__init__(f"mixes DNA ({n_dna} records) and protein ({n_protein}, the first at "
                         f"record {first_protein + 1}); give --alphabet, or split the file")


def looks_like(seq: str) -> str | None:
    """Protein when a letter only amino acids use appears (E, F, I, L, P, Q: a protein has one
    within a few residues), else DNA (A/C/G/T/U, IUPAC codes, and characters that the
    alphabet check refuses later with their position); None without letters."""
    letters = {c.upper() for c in set(seq) if c.isalpha()}
    if not letters:
        return None
    return PROTEIN if letters & _PROTEIN_ONLY else DNA


def detect(samples: list[str]) -> str:
    """The alphabet of sampled records, DNA when there are none; MixedAlphabets when some look
    like DNA and others like protein, rather than a guess."""
    kinds = [looks_like(s) for s in samples]
    n_dna, n_protein = kinds.count(DNA), kinds.count(PROTEIN)
    if n_dna and n_protein:
        raise MixedAlphabets(n_dna, n_protein, kinds.index(PROTEIN))
    return PROTEIN if n_protein else DNA


def reverse_complement(seq: str) -> str:
    return seq.translate(_COMPLEMENT)[::-1]


def gc_fraction(seq: str) -> float:
    """G+C over the unambiguous bases; 0.0 for a sequence without any."""
    return gc_fraction_of([seq])


def gc_fraction_of(parts: Iterable[str]) -> float:
    """gc_fraction of the sequence that `parts` make together."""
    a = c = g = t = 0
    for part in parts:
        a, c, g, t = a + part.count("A"), c + part.count("C"), g + part.count("G"), t + part.count("T")
    acgt = a + c + g + t
    return (g + c) / acgt if acgt else 0.0


def encode(seq: str, alphabet: str) -> np.ndarray:
    """Residue codes 0..len(core)-1 for the core alphabet, -1 for anything ambiguous.  # (L,)"""
    core = DNA_CORE if alphabet == DNA else PROTEIN_CORE
    table = np.full(256, -1, dtype=np.int64)
    table[np.frombuffer(core.encode(), dtype=np.uint8)] = np.arange(len(core))
    return table[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]


def core_size(alphabet: str) -> int:
    return len(DNA_CORE if alphabet == DNA else PROTEIN_CORE)
