"""Sequence clustering and nearest-neighbour identity, for leakage-free splits.

Three backends behind one interface:
- `mmseqs`  MMseqs2 easy-cluster / easy-search (DNA or protein),
- `cdhit`   CD-HIT (cd-hit-est for DNA, cd-hit for protein); clustering only,
- `builtin` MinHash sketches of k-mer sets; identity estimated from the Jaccard
            index with the Mash formula, clusters by single linkage.
`auto` takes mmseqs, then cd-hit, then builtin, whichever is first on PATH.
Clusters are returned as one integer per input sequence, in input order.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from seqclass.errors import ClusterError
from seqclass.sequence.alphabets import DNA
from seqclass.sequence.kmers import kmer_indices

CLUSTERERS = ("auto", "mmseqs", "cdhit", "builtin")
_MERSENNE = (1 << 61) - 1


def resolve_clusterer(name: str, alphabet: str, identity: float) -> str:
    if name != "auto":
        if name == "mmseqs" and not shutil.which("mmseqs"):
            raise ClusterError("--clusterer mmseqs: mmseqs is not on PATH")
        if name == "cdhit" and not shutil.which(_cdhit_binary(alphabet)):
            raise ClusterError(f"--clusterer cdhit: {_cdhit_binary(alphabet)} is not on PATH")
        return name
    if shutil.which("mmseqs"):
        return "mmseqs"
    if shutil.which(_cdhit_binary(alphabet)) and _cdhit_word(alphabet, identity) is not None:
        return "cdhit"
    return "builtin"


def cluster(seqs: list[str], alphabet: str, identity: float, method: str,
            threads: int = 1, coverage: float = 0.8) -> np.ndarray:
    """Cluster id per sequence.  # (N,) int64"""
    if method == "mmseqs":
        return _mmseqs_cluster(seqs, alphabet, identity, threads, coverage)
    if method == "cdhit":
        return _cdhit_cluster(seqs, alphabet, identity, threads)
    return _builtin_cluster(seqs, alphabet, identity)


def best_hits(queries: list[str], targets: list[str], alphabet: str, method: str,
              threads: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each query: highest identity to any target, that hit's query coverage, its target index.

    MMseqs2 aligns; the built-in method estimates identity from MinHash sketches and
    reports coverage as NaN. Queries without a hit get identity 0 and target -1.
    # (Q,) float, (Q,) float, (Q,) int
    """
    if not queries or not targets:
        return np.zeros(len(queries)), np.full(len(queries), np.nan), np.full(len(queries), -1)
    if method == "mmseqs":
        return _mmseqs_search(queries, targets, alphabet, threads)
    jaccard, nearest = _max_jaccard(_sketch(queries, alphabet), _sketch(targets, alphabet))
    identity = _mash_identity(jaccard, _builtin_k(alphabet))
    return identity, np.full(len(queries), np.nan), np.where(jaccard > 0, nearest, -1)


# ---------------------------------------------------------------- external tools

def _write_fasta(path: Path, seqs: list[str], prefix: str = "s") -> None:
    with open(path, "w") as fh:
        for i, s in enumerate(seqs):
            fh.write(f">{prefix}{i}\n{s}\n")


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise ClusterError(f"{cmd[0]} failed (exit {proc.returncode}): {' | '.join(tail)}")


def _mmseqs_kmer(alphabet: str) -> list[str]:
    # MMseqs2 picks k=15 for nucleotides, whose index table takes ~8 GB and seconds of page
    # faults even for a few sequences; k=11 finds as many hits at 80% identity in a fraction.
    return ["-k", "11"] if alphabet == DNA else []


def _mmseqs_cluster(seqs: list[str], alphabet: str, identity: float, threads: int,
                    coverage: float) -> np.ndarray:
    """Connected components of the all-against-all hits at identity and coverage.

    Single linkage rather than MMseqs2's own set-cover clustering: two sequences above
    the threshold always share a cluster, so no test sequence can have such a hit in train.
    """
    with tempfile.TemporaryDirectory(prefix="seqclass-mmseqs-") as tmp_name:
        tmp = Path(tmp_name)
        _write_fasta(tmp / "in.fa", seqs)
        cmd = ["mmseqs", "easy-search", "in.fa", "in.fa", "hits.m8", "tmp", "--min-seq-id",
               str(identity), "-c", str(coverage), "--threads", str(threads), "-v", "1",
               "--format-output", "query,target", *_mmseqs_kmer(alphabet)]
        if alphabet == DNA:
            cmd += ["--search-type", "3"]
        _run(cmd, tmp)
        pairs = [line.split() for line in open(tmp / "hits.m8")]
    return _components(len(seqs), ((int(q[1:]), int(t[1:])) for q, t in pairs))


def _components(n: int, edges) -> np.ndarray:
    """Component label per node (union-find over the edges).  # (n,) int64"""
    parent = np.arange(n)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([find(i) for i in range(n)])
    _, labels = np.unique(roots, return_inverse=True)
    return labels.astype(np.int64)


def _mmseqs_search(queries: list[str], targets: list[str], alphabet: str,
                   threads: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    identity = np.zeros(len(queries))
    qcov = np.full(len(queries), np.nan)
    nearest = np.full(len(queries), -1)
    with tempfile.TemporaryDirectory(prefix="seqclass-mmseqs-") as tmp_name:
        tmp = Path(tmp_name)
        _write_fasta(tmp / "q.fa", queries, "q")
        _write_fasta(tmp / "t.fa", targets, "t")
        cmd = ["mmseqs", "easy-search", "q.fa", "t.fa", "hits.m8", "tmp", "--threads", str(threads),
               "--format-output", "query,target,fident,qcov", "-v", "1"]
        if alphabet == DNA:
            cmd += ["--search-type", "3"]
        cmd += _mmseqs_kmer(alphabet)
        _run(cmd, tmp)
        for line in open(tmp / "hits.m8"):
            q, t, fident, cov = line.split()
            i = int(q[1:])
            if float(fident) > identity[i]:
                identity[i], qcov[i], nearest[i] = float(fident), float(cov), int(t[1:])
    return identity, qcov, nearest


def _cdhit_binary(alphabet: str) -> str:
    return "cd-hit-est" if alphabet == DNA else "cd-hit"


def _cdhit_word(alphabet: str, identity: float) -> int | None:
    """CD-HIT's word size for an identity threshold (its user guide's table); None if unsupported."""
    table = ([(0.95, 10), (0.9, 8), (0.88, 7), (0.85, 6), (0.8, 5), (0.75, 4)] if alphabet == DNA
             else [(0.7, 5), (0.6, 4), (0.5, 3), (0.4, 2)])
    return next((word for floor, word in table if identity >= floor), None)


def _cdhit_cluster(seqs: list[str], alphabet: str, identity: float, threads: int) -> np.ndarray:
    word = _cdhit_word(alphabet, identity)
    if word is None:
        raise ClusterError(f"cd-hit cannot cluster {alphabet} at identity {identity}")
    with tempfile.TemporaryDirectory(prefix="seqclass-cdhit-") as tmp_name:
        tmp = Path(tmp_name)
        _write_fasta(tmp / "in.fa", seqs)
        _run([_cdhit_binary(alphabet), "-i", "in.fa", "-o", "out", "-c", str(identity),
              "-n", str(word), "-d", "0", "-M", "0", "-T", str(threads)], tmp)
        labels = np.full(len(seqs), -1, dtype=np.int64)
        current = -1
        for line in open(tmp / "out.clstr"):
            if line.startswith(">Cluster"):
                current += 1
            else:
                member = line.split(">", 1)[1].split("...", 1)[0]
                labels[int(member[1:])] = current
    return _fill_singletons(labels)


def _fill_singletons(labels: np.ndarray) -> np.ndarray:
    """Sequences a tool dropped (too short to index) become clusters of their own."""
    missing = labels < 0
    labels[missing] = labels.max(initial=-1) + 1 + np.arange(missing.sum())
    return labels


# ---------------------------------------------------------------- built-in MinHash

N_HASHES = 128


def _builtin_k(alphabet: str) -> int:
    # k-mers long enough that unrelated sequences share few, short enough that 80%
    # identical ones still share many (0.8^8 ≈ 17% of 8-mers survive, 0.8^3 ≈ 51% of 3-mers).
    return 8 if alphabet == DNA else 3


def _sketch(seqs: list[str], alphabet: str) -> np.ndarray:
    """MinHash signature of each sequence's k-mer set.  # (N, N_HASHES) uint64"""
    k = _builtin_k(alphabet)
    rng = np.random.default_rng(0x5EC)
    a = rng.integers(1, _MERSENNE, N_HASHES, dtype=np.uint64)
    b = rng.integers(0, _MERSENNE, N_HASHES, dtype=np.uint64)
    out = np.full((len(seqs), N_HASHES), np.iinfo(np.uint64).max, dtype=np.uint64)
    for i, s in enumerate(seqs):
        kmers = np.unique(kmer_indices(s, k, alphabet)).astype(np.uint64)
        if len(kmers):
            # multiply-add in uint64 wraps mod 2^64: a cheap universal-enough hash family
            out[i] = (kmers[:, None] * a[None, :] + b[None, :]).min(axis=0)
        else:
            # no k-mer at all (shorter than k): a random signature matches nothing
            out[i] = rng.integers(0, _MERSENNE, N_HASHES, dtype=np.uint64)
    return out


def _max_jaccard(q: np.ndarray, t: np.ndarray, block: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Highest estimated Jaccard index of each query sketch to any target, and that target."""
    best = np.zeros(len(q))
    which = np.zeros(len(q), dtype=np.int64)
    for start in range(0, len(q), block):
        eq = (q[start:start + block, None, :] == t[None, :, :]).mean(axis=2)  # (b, T)
        which[start:start + block] = eq.argmax(axis=1)
        best[start:start + block] = eq.max(axis=1)
    return best, which


def _mash_identity(jaccard: np.ndarray, k: int) -> np.ndarray:
    with np.errstate(divide="ignore"):
        d = -np.log(2 * jaccard / (1 + jaccard)) / k
    return np.clip(1 - d, 0.0, 1.0)


def _builtin_cluster(seqs: list[str], alphabet: str, identity: float, block: int = 64) -> np.ndarray:
    k = _builtin_k(alphabet)
    # identity → the Jaccard index the Mash formula maps to it
    j = math.exp(-(1 - identity) * k)
    jaccard_min = j / (2 - j)
    sig = _sketch(seqs, alphabet)

    def edges():
        for start in range(0, len(seqs), block):
            eq = (sig[start:start + block, None, :] == sig[None, :, :]).mean(axis=2)  # (b, N)
            rows, cols = np.nonzero(eq >= jaccard_min)
            yield from ((r, c) for r, c in zip(rows + start, cols) if c > r)

    return _components(len(seqs), edges())
