"""A chromosome is scored as it is read: memory bounded by a block and a batch of windows,
and the same predictions as when the whole sequence is in memory.

Blocks are made small here (a few kb instead of 1 Mb, `small_blocks`) so that short test
records take the streaming paths: the FASTA reader's LongSequence, k-mer counts and token
arrays built block by block, windows cut while blocks arrive, sequence aggregates carried
across batches. Each path is compared with the in-memory one it replaces.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import fails, random_dna

from seqclass.cli import main
from seqclass.io import sequences as seqio
from seqclass.models import inference, store
from seqclass.models.base import Classifier
from seqclass.sequence import encoding, kmers, windows

LEGACY = Path(__file__).parent / "fixtures" / "models_v0.1"
WINDOWED = ["awd-lstm", "bilstm", "cnn", "embedding-bag", "gc-logreg", "kmer-logreg",
            "transformer"]  # similarity: see test_similarity (it joins a long sequence for BLAST)
WHOLE = ["cnn", "gc-logreg", "kmer-logreg", "transformer"]  # also trained without windows


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 3 kb (read, count, tokenise): a 20-kb record is a chromosome to the code."""
    monkeypatch.setattr(seqio, "JOIN_BLOCK", 3000)
    monkeypatch.setattr(windows, "BLOCK", 3000)


def whole_sequence_model(family: str, tmp_path: Path, **params) -> Path:
    """A legacy model directory with its window removed (scores sequences whole)."""
    model = tmp_path / f"{family}-whole"
    shutil.copytree(LEGACY / family, model)
    config = json.loads((model / "config.json").read_text())
    config["window"] = config["stride"] = None
    config["params"].update(params)
    (model / "config.json").write_text(json.dumps(config))
    (model / "predictions.tsv").unlink()
    return model


def genome_fasta(path: Path, lower: bool = False) -> Path:
    """A 20-kb 'chromosome' between two short records, in 70-column lines."""
    rng = random.Random(7)
    chrom = random_dna(rng, 20_011)
    if lower:
        chrom = chrom[:5000] + chrom[5000:9000].lower() + chrom[9000:]
    lines = []
    for rid, seq in (("short1", random_dna(rng, 300)), ("chrom", chrom), ("short2", random_dna(rng, 90))):
        lines += [f">{rid} description"] + [seq[i:i + 70] for i in range(0, len(seq), 70)]
    path.write_text("\n".join(lines) + "\n")
    return path


def predict(model: Path, fasta: Path, out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    tracks = out.with_suffix(".tracks.tsv")
    assert main(["predict", "--model", str(model), "--input", str(fasta), "--out", str(out),
                 "--tracks", str(tracks)]) == 0
    return pd.read_csv(out, sep="\t"), pd.read_csv(tracks, sep="\t")


def assert_same(streamed: pd.DataFrame, whole: pd.DataFrame) -> None:
    assert list(streamed.columns) == list(whole.columns)
    words = [c for c in whole.columns if whole[c].dtype == object]
    pd.testing.assert_frame_equal(streamed[words], whole[words])
    numbers = whole.select_dtypes("number").columns
    pd.testing.assert_frame_equal(streamed[numbers], whole[numbers], atol=2e-6, rtol=0)


# ---------------------------------------------------------------- the pieces


def test_windows_cut_while_parts_arrive_are_sliding_windows():
    rng = np.random.default_rng(1)
    for _ in range(500):
        length, window = int(rng.integers(1, 200)), int(rng.integers(1, 30))
        stride = int(rng.integers(1, window + 3))
        seq = "".join(rng.choice(list("ACGT"), size=length))
        cuts = sorted(rng.integers(0, length + 1, size=int(rng.integers(0, 5))).tolist())
        parts = [seq[a:b] for a, b in zip([0, *cuts], [*cuts, length])]
        expected = [(s, seq[s:e]) for s, e in windows.sliding(length, window, stride)]
        assert list(windows.stream_sliding(parts, window, stride)) == expected
        tokens = [np.frombuffer(p.encode(), dtype=np.uint8) for p in parts]
        got = [(s, w.tobytes().decode()) for s, w in windows.stream_sliding(tokens, window, stride)]
        assert got == expected


def test_rejoined_pieces_hold_every_kmer_once():
    rng = np.random.default_rng(2)
    for _ in range(300):
        length, size, overlap = int(rng.integers(0, 120)), int(rng.integers(1, 20)), int(rng.integers(0, 5))
        seq = "".join(rng.choice(list("ACGT"), size=length))
        cuts = sorted(rng.integers(0, length + 1, size=3).tolist())
        pieces = list(windows.rejoin([seq[a:b] for a, b in zip([0, *cuts], [*cuts, length])],
                                     size, overlap))
        k = overlap + 1
        starting = [p[i:i + k] for p in pieces for i in range(min(size, len(p) - overlap))]
        assert starting == [seq[i:i + k] for i in range(length - overlap)]
        assert "".join(p[:size] for p in pieces[:-1]) + pieces[-1] == seq


@pytest.mark.parametrize("k,stride,canonical", [(1, 1, False), (3, 1, True), (4, 3, False), (6, 2, True)])
def test_kmer_counts_block_by_block_are_whole_counts(k, stride, canonical, monkeypatch):
    rng = random.Random(k)
    seqs = [random_dna(rng, n) + "N" + random_dna(rng, 50) for n in (0, 5, 2999, 7001)]
    whole = kmers.count_matrix(seqs, k, "dna", stride, canonical)
    monkeypatch.setattr(windows, "BLOCK", 1000)
    blockwise = kmers.count_matrix(seqs, k, "dna", stride, canonical)
    assert (whole != blockwise).nnz == 0 and whole.nnz > 0
    streamed = kmers.stream_counts([seqs[3][:1234], seqs[3][1234:]], k, "dna", stride, canonical)
    assert (streamed != whole[3]).nnz == 0


@pytest.mark.parametrize("k,stride", [(1, 1), (3, 1), (3, 3), (5, 2)])
def test_tokens_block_by_block_are_whole_tokens(k, stride, monkeypatch):
    from seqclass.models import deep

    class Family:
        @classmethod
        def token_k(cls, spec):
            return k

        @classmethod
        def token_stride(cls, spec):
            return stride

        @classmethod
        def max_tokens(cls, spec):
            return 0

        @classmethod
        def encode(cls, spec, seqs):
            return encoding.encode_all(seqs, "dna", k, stride)

    seq = random_dna(random.Random(3), 9_000) + "NN" + random_dna(random.Random(4), 1_001)
    monkeypatch.setattr(windows, "BLOCK", 1000)
    blocks = list(deep.FamilyTokens(Family, None).blocks([seq[:4321], seq[4321:]]))
    assert len(blocks) > 5
    np.testing.assert_array_equal(np.concatenate(blocks), encoding.tokens(seq, "dna", k, stride))


def test_a_long_record_is_read_as_it_is_consumed(tmp_path, small_blocks):
    fasta = genome_fasta(tmp_path / "g.fa")
    got = list(seqio.read_streamed(fasta))
    assert [rid for rid, _ in got] == ["short1", "chrom", "short2"]
    assert isinstance(got[1][1], seqio.LongSequence)  # left unread: the reader skipped it
    with pytest.raises(RuntimeError, match="moved past it"):
        list(got[1][1])  # not a silently shorter sequence
    whole = {r.id: r.sequence for r in seqio.read_sequences(fasta)}
    long = next(seq for rid, seq in seqio.read_streamed(fasta) if rid == "chrom")
    parts = list(long)
    assert len(parts) > 5 and "".join(parts) == whole["chrom"] and long.length == 20_011


def test_a_bad_residue_deep_in_a_chromosome_is_named_by_its_position(tmp_path, capsys, small_blocks):
    fasta = genome_fasta(tmp_path / "g.fa")
    lines = fasta.read_text().splitlines()
    at = lines.index(">chrom description") + 200  # residue 199 * 70 + 1 of the record
    lines[at] = "J" + lines[at][1:]
    fasta.write_text("\n".join(lines) + "\n")
    out = tmp_path / "p.tsv"
    fails(capsys, ["predict", "--model", LEGACY / "kmer-logreg", "--input", fasta, "--out", out],
          ["record 'chrom'", f"'J' at position {199 * 70 + 1}"], watch=[tmp_path])


# ---------------------------------------------------------------- every family


@pytest.mark.parametrize("family", WINDOWED)
def test_windowed_model_scores_a_chromosome_as_it_did_whole(family, tmp_path, one_torch_thread,
                                                             monkeypatch):
    fasta = genome_fasta(tmp_path / "g.fa", lower=True)
    whole = predict(LEGACY / family, fasta, tmp_path / "whole.tsv")
    with monkeypatch.context() as patch:
        patch.setattr(seqio, "JOIN_BLOCK", 3000)
        patch.setattr(Classifier, "batch_windows", 64)
        streamed = predict(LEGACY / family, fasta, tmp_path / "streamed.tsv")
    for a, b in zip(streamed, whole):
        assert_same(a, b)
    assert len(whole[1]) == sum(len(windows.sliding(n, 41, 20)) for n in (300, 20_011, 90))


@pytest.mark.parametrize("family", WHOLE)
def test_whole_sequence_model_scores_a_chromosome_as_it_did_whole(family, tmp_path,
                                                                  one_torch_thread, request):
    """cnn and transformer: the mean over windows of --max-len, tokenised block by block."""
    model = whole_sequence_model(family, tmp_path)
    fasta = genome_fasta(tmp_path / "g.fa", lower=True)
    whole = predict(model, fasta, tmp_path / "whole.tsv")
    request.getfixturevalue("small_blocks")
    streamed = predict(model, fasta, tmp_path / "streamed.tsv")
    for a, b in zip(streamed, whole):
        assert_same(a, b)
    assert whole[1]["end"].tolist() == [300, 20_011, 90]


def test_a_model_without_a_window_or_max_len_refuses_a_chromosome(tmp_path, capsys, small_blocks):
    """It has no window to cut a streamed record into; a sequence in memory it scores whole."""
    model = whole_sequence_model("cnn", tmp_path, max_len=0, pooling="max")
    fasta = genome_fasta(tmp_path / "g.fa")
    fails(capsys, ["predict", "--model", model, "--input", fasta, "--out", tmp_path / "p.tsv"],
          ["record 'chrom'", "--max-len 0", "--window"], watch=[tmp_path])
    chrom = next(r.sequence for r in seqio.read_sequences(fasta) if r.id == "chrom")
    assert store.load(model, 1, False).logits([chrom]).shape == (1, 2)


# ---------------------------------------------------------------- batches


@pytest.mark.parametrize("how", ["mean", "max"])
def test_sequences_cut_by_batch_boundaries_aggregate_as_in_one_batch(how):
    model = store.load(LEGACY / "kmer-logreg", 1, False)
    rng = random.Random(5)
    records = [(f"r{i}", random_dna(rng, n)) for i, n in enumerate((41, 500, 81, 3000, 61, 41, 700))]
    one = list(inference.score(model, records, how, batch_windows=10**6))
    assert len(one) == 1
    for size in (1, 2, 7, 24, 25, 26):  # 24: a batch ends where a record does
        batches = list(inference.score(model, records, how, batch_windows=size))
        assert sum((b.ids for b in batches), []) == one[0].ids
        np.testing.assert_allclose(np.concatenate([b.logits for b in batches]), one[0].logits,
                                   rtol=0, atol=1e-6)
        np.testing.assert_array_equal(np.concatenate([b.window_logits for b in batches]),
                                      one[0].window_logits)
        assert sum((b.window_ids for b in batches), []) == one[0].window_ids
