"""DNA → protein with the standard genetic code (NCBI table 1; table 11, the bacterial one,
differs only in its start codons, which a translation of a whole frame does not use).

Contract: input is a normalised DNA sequence (upper case, ACGT plus IUPAC codes). A codon
holding an ambiguity code becomes `X`, a stop codon `*`; trailing bases that do not fill a
codon are dropped. Frames are numbered as BLAST numbers them: +1, +2, +3 start at the first,
second and third base of the sequence, -1, -2, -3 at the same offsets of its reverse complement.
"""

from __future__ import annotations

import numpy as np

from seqclass.sequence.alphabets import DNA, encode, reverse_complement

# amino acid of codon 16·a + 4·b + c with bases indexed T, C, A, G (the textbook table's order)
_TCAG_ORDER = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
_ACGT_TO_TCAG = np.array([2, 1, 3, 0])  # encode() numbers A, C, G, T as 0..3
# the same table indexed by ACGT codes, with index 64 for a codon holding an ambiguity code
_TABLE = np.frombuffer("".join(
    _TCAG_ORDER[16 * _ACGT_TO_TCAG[a] + 4 * _ACGT_TO_TCAG[b] + _ACGT_TO_TCAG[c]]
    for a in range(4) for b in range(4) for c in range(4)).encode() + b"X", dtype=np.uint8)
FRAMES = (1, 2, 3, -1, -2, -3)


def translate(seq: str, frame: int = 1) -> str:
    """The protein of one reading frame (see the module docstring for frame numbers)."""
    if frame not in FRAMES:
        raise ValueError(f"frame must be one of {FRAMES}, not {frame}")
    strand = seq if frame > 0 else reverse_complement(seq)
    codes = encode(strand[abs(frame) - 1:], DNA)  # (L,) 0..3, -1 ambiguous
    codons = codes[: len(codes) // 3 * 3].reshape(-1, 3)  # (L // 3, 3)
    index = np.where((codons >= 0).all(axis=1), codons @ np.array([16, 4, 1]), 64)
    return _TABLE[index].tobytes().decode("ascii")


def most_open_frame(seq: str) -> tuple[int, str]:
    """The frame with the fewest stop codons, a final one not counted, and its protein; ties go
    to the earlier frame in FRAMES, so a complete coding sequence given 5'→3' gets +1."""
    proteins = [(frame, translate(seq, frame)) for frame in FRAMES]
    return min(proteins, key=lambda fp: fp[1][:-1].count("*"))


def coding_protein(seq: str) -> str:
    """The protein of the most open frame without its final stop: a gene's product, for a gene or
    a window of one."""
    return most_open_frame(seq)[1].removesuffix("*")
