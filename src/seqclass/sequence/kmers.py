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
from scipy import sparse

from seqclass.sequence import windows
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
    codes = encode(seq, alphabet)  # (L,) -1 for ambiguous residues
    n = len(codes) - k + 1  # k-mer starts
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    # Horner's rule over the k shifted views: a few (L,) arrays, never an (L, k) one
    index = np.zeros(len(range(0, n, stride)), dtype=np.int64)
    for j in range(k):
        index = index * core_size(alphabet) + codes[j:j + n:stride]
    ambiguous = np.concatenate([[0], np.cumsum(codes < 0)])  # before each position
    valid = ambiguous[k:k + n:stride] == ambiguous[0:n:stride]
    return index[valid]


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
    data: list[np.ndarray] = []
    for seq in seqs:
        if len(seq) > windows.BLOCK:
            col, count = _row_counts([seq], k, alphabet, stride, remap)
        else:  # a gene: its k-mers as they are, summed below
            col = kmer_indices(seq, k, alphabet, stride)
            col, count = remap[col] if remap is not None else col, np.ones(len(col), dtype=np.int64)
        cols.append(col)
        data.append(count)
        indptr.append(indptr[-1] + len(col))
    col = np.concatenate(cols) if cols else np.empty(0, dtype=np.int64)
    values = np.concatenate(data).astype(np.float32) if data else np.empty(0, dtype=np.float32)
    m = sparse.csr_matrix((values, col, np.asarray(indptr)),
                          shape=(len(indptr) - 1, n_features(k, alphabet)))
    m.sum_duplicates()
    return m


def stream_counts(parts: Iterable[str], k: int, alphabet: str, stride: int = 1,
                  canonical: bool = False) -> sparse.csr_matrix:
    """count_matrix's row for one sequence that arrives in parts (a chromosome read as it is
    scored), counted block by block.  # (1, |A|^k) sparse"""
    col, count = _row_counts(parts, k, alphabet, stride, canonical_columns(k) if canonical else None)
    return sparse.csr_matrix((count.astype(np.float32), col, np.array([0, len(col)])),
                             shape=(1, n_features(k, alphabet)))


def _row_counts(parts: Iterable[str], k: int, alphabet: str, stride: int,
                remap: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """One sequence's k-mer columns, sorted, and their counts, counted block by block (blocks
    start on the stride) into one running total: memory is a block's and the distinct k-mers'."""
    col, count = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    for piece in windows.rejoin(parts, windows.aligned_block(stride), k - 1):
        idx = kmer_indices(piece, k, alphabet, stride)
        new_col, new_count = np.unique(remap[idx] if remap is not None else idx, return_counts=True)
        col, where = np.unique(np.concatenate([col, new_col]), return_inverse=True)
        count = np.bincount(where, weights=np.concatenate([count, new_count]),
                            minlength=len(col)).astype(np.int64)
    return col, count
