"""k-mer counting into a sparse matrix whose columns index every k-mer of the core alphabet.

Column j is the base-|A| number of the k-mer (A = ACGT for DNA, the 20 residues for
protein), so the vocabulary needs no storage and no fitting; k-mers containing an
ambiguous residue are skipped. `stride` takes every stride-th k-mer start. With
`canonical`, a DNA k-mer and its reverse complement share the column of the smaller
index, so a gene scores the same on either strand of a contig.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import sparse

from seqclass.sequence.alphabets import DNA, core_size, encode

MAX_FEATURES = 1 << 22


def n_features(k: int, alphabet: str) -> int:
    return core_size(alphabet) ** k


def check_k(k: int, alphabet: str, flag: str) -> None:
    """Refuse a k below 1 or with too many features, naming the `flag` that set it."""
    if k < 1 or n_features(k, alphabet) > MAX_FEATURES:
        raise ValueError(
            f"{flag} {k} gives {core_size(alphabet)}^{k} features for alphabet {alphabet}; "
            f"choose k with at most {MAX_FEATURES} features"
        )


def kmer_indices(seq: str, k: int, alphabet: str, stride: int = 1) -> np.ndarray:
    """Column index of every valid k-mer, in order.  # (n_kmers,)"""
    codes = encode(seq, alphabet)
    if len(codes) < k:
        return np.empty(0, dtype=np.int64)
    windows = sliding_window_view(codes, k)[::stride]  # (n, k)
    valid = (windows >= 0).all(axis=1)
    powers = core_size(alphabet) ** np.arange(k - 1, -1, -1, dtype=np.int64)
    return windows[valid] @ powers


@functools.lru_cache(maxsize=8)
def canonical_columns(k: int) -> np.ndarray:
    """Column of each DNA k-mer's canonical form: min(index, index of its reverse complement)."""
    index = np.arange(4 ** k, dtype=np.int64)
    place = 4 ** np.arange(k - 1, -1, -1, dtype=np.int64)
    digits = (index[:, None] // place[None, :]) % 4  # (4^k, k), A=0 C=1 G=2 T=3
    reverse_complement = ((3 - digits[:, ::-1]) * place[None, :]).sum(axis=1)
    return np.minimum(index, reverse_complement)


def count_matrix(seqs: Iterable[str], k: int, alphabet: str, stride: int = 1,
                 canonical: bool = False) -> sparse.csr_matrix:
    """k-mer counts, one row per sequence.  # (N, |A|^k) sparse"""
    if canonical and alphabet != DNA:
        raise ValueError("canonical k-mers need DNA")
    remap = canonical_columns(k) if canonical else None
    indptr = [0]
    cols: list[np.ndarray] = []
    for seq in seqs:
        idx = kmer_indices(seq, k, alphabet, stride)
        if remap is not None:
            idx = remap[idx]
        cols.append(idx)
        indptr.append(indptr[-1] + len(idx))
    col = np.concatenate(cols) if cols else np.empty(0, dtype=np.int64)
    data = np.ones(len(col), dtype=np.float32)
    m = sparse.csr_matrix((data, col, np.asarray(indptr)), shape=(len(indptr) - 1, n_features(k, alphabet)))
    m.sum_duplicates()
    return m
