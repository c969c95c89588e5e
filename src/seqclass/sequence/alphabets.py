"""Alphabets and per-residue checks.

Contract: a normalised sequence is upper case; DNA uses A, C, G, T and the IUPAC
ambiguity codes (U is rewritten to T); protein uses the 20 standard residues plus
the IUPAC extras B, Z, J, U, O and X, with one trailing stop `*` removed. Any other
character is an error that names the record and the position (1-based, as people count).
"""

from __future__ import annotations

import re

import numpy as np

DNA = "dna"
PROTEIN = "protein"
ALPHABETS = (DNA, PROTEIN)

DNA_CORE = "ACGT"
DNA_IUPAC = "NRYSWKMBDHV"
PROTEIN_CORE = "ACDEFGHIKLMNPQRSTVWY"
PROTEIN_EXTRA = "BZJUOX"

_ALLOWED = {DNA: set(DNA_CORE + DNA_IUPAC), PROTEIN: set(PROTEIN_CORE + PROTEIN_EXTRA)}
_AMBIGUOUS = {DNA: set(DNA_IUPAC), PROTEIN: set(PROTEIN_EXTRA)}
_INVALID_RE = {
    alpha: re.compile("[^" + re.escape("".join(sorted(chars))) + "]")
    for alpha, chars in _ALLOWED.items()
}
_COMPLEMENT = str.maketrans("ACGTNRYSWKMBDHV", "TGCANYRSWMKVHDB")


class InvalidSequence(ValueError):
    """A sequence with a character outside its alphabet; the caller adds file and record."""


def normalise(seq: str, alphabet: str) -> str:
    """Upper-case, U→T for DNA, drop one trailing protein stop; raise on any other character."""
    seq = seq.upper()
    if alphabet == DNA:
        seq = seq.replace("U", "T")
    elif seq.endswith("*"):
        seq = seq[:-1]
    bad = _INVALID_RE[alphabet].search(seq)
    if bad:
        raise InvalidSequence(
            f"invalid character {bad.group()!r} at position {bad.start() + 1} for alphabet {alphabet}"
        )
    return seq


def count_ambiguous(seq: str, alphabet: str) -> int:
    ambiguous = _AMBIGUOUS[alphabet]
    return sum(1 for c in seq if c in ambiguous)


def detect(samples: list[str]) -> str:
    """DNA when at least 90% of the sampled residues are A/C/G/T/U/N, protein otherwise."""
    total = sum(len(s) for s in samples)
    if total == 0:
        return DNA
    nucleotide = sum(sum(s.upper().count(c) for c in "ACGTUN") for s in samples)
    return DNA if nucleotide / total >= 0.9 else PROTEIN


def reverse_complement(seq: str) -> str:
    return seq.translate(_COMPLEMENT)[::-1]


def gc_fraction(seq: str) -> float:
    """G+C over the unambiguous bases; 0.0 for a sequence without any."""
    a, c, g, t = (seq.count(b) for b in "ACGT")
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
