"""Token codes for the deep families: residues or k-mers as integers, 0 kept for padding.

Token t of a sequence is its t-th k-mer (stride 1) as a base-|A| number plus one, so
the vocabulary needs no fitting and no storage: 0 is padding, 1..|A|^k the k-mers of
the core alphabet (A = ACGT for DNA, the 20 residues for protein) and |A|^k + 1 any
k-mer holding an ambiguity code (N, X, ...). k = 1 gives one token per residue. A
sequence shorter than k becomes one unknown token, so no sequence is empty. A stride s
keeps every s-th k-mer (k-mers starting at 0, s, 2s, ...), as the Genomic-ULMFiT tokens do.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from seqclass.sequence.alphabets import DNA, core_size, encode

PAD = 0
MAX_VOCAB = 1 << 22


def vocab_size(alphabet: str, k: int) -> int:
    """Padding + every k-mer of the core alphabet + one unknown token."""
    return core_size(alphabet) ** k + 2


def unknown_token(alphabet: str, k: int) -> int:
    return core_size(alphabet) ** k + 1


def check_token_k(alphabet: str, k: int) -> None:
    if k < 1 or vocab_size(alphabet, k) > MAX_VOCAB:
        raise ValueError(f"--token-k {k} gives {core_size(alphabet)}^{k} tokens for alphabet "
                         f"{alphabet}; choose k with at most {MAX_VOCAB} tokens")


def tokens(seq: str, alphabet: str, k: int = 1, stride: int = 1) -> np.ndarray:
    """Token codes of one sequence.  # (max(1, ceil((L - k + 1) / stride)),) int64"""
    if stride > 1:
        return tokens(seq, alphabet, k)[::stride]
    codes = encode(seq, alphabet)  # (L,) 0..|A|-1, -1 ambiguous
    if len(codes) < k:
        return np.array([unknown_token(alphabet, k)], dtype=np.int64)
    if k == 1:
        return np.where(codes < 0, unknown_token(alphabet, 1), codes + 1)
    windows = sliding_window_view(codes, k)  # (L - k + 1, k)
    powers = core_size(alphabet) ** np.arange(k - 1, -1, -1, dtype=np.int64)
    index = windows @ powers + 1
    return np.where((windows >= 0).all(axis=1), index, unknown_token(alphabet, k))


def encode_all(sequences: list[str], alphabet: str, k: int = 1,
               stride: int = 1) -> list[np.ndarray]:
    return [tokens(s, alphabet, k, stride) for s in sequences]


def complement_tokens() -> np.ndarray:
    """DNA residue token → token of its complement (k = 1); padding and unknown map to themselves."""
    # the core order A C G T reversed is its complement T G C A
    return np.array([PAD, 4, 3, 2, 1, unknown_token(DNA, 1)], dtype=np.int64)  # (6,)
