"""`seqclass predict`: TSV/Parquet output, tracks, window aggregation, every input form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import dna_records, ok, write_fasta, write_fastq, write_table

from seqclass.models import store
from seqclass.sequence.windows import sliding
from seqclass.spec import to_probabilities


def tsv(path):
    return pd.read_csv(path, sep="\t", keep_default_na=False)


def test_tsv_output(tmp_path, pipeline):
    out = tmp_path / "pred.tsv"
    ok("predict", "--model", pipeline.model, "--input", pipeline.fastas["pos"],
       pipeline.fastas["neg"], "--out", out)
    preds = tsv(out)
    assert list(preds.columns) == ["id", "label", "prob_neg", "prob_pos", "ood_score", "ood"]
    assert list(preds["id"]) == [f"pos{i}" for i in range(40)] + [f"neg{i}" for i in range(40)]
    assert ((preds["prob_neg"] + preds["prob_pos"]) - 1).abs().max() < 1e-4
    truth = preds["id"].str.extract(r"^([a-z]+)")[0]
    assert (preds["label"] == truth).mean() >= 0.9  # mostly training data


def test_parquet_output(tmp_path, pipeline):
    out = tmp_path / "pred.parquet"
    ok("predict", "--model", pipeline.model, "--input", pipeline.fastas["pos"], "--out", out)
    table = pq.read_table(out)
    assert table.column_names == ["id", "label", "prob_neg", "prob_pos", "ood_score", "ood"]
    assert table.num_rows == 40
    ok("predict", "--model", pipeline.model, "--input", pipeline.fastas["pos"],
       "--out", tmp_path / "pred.tsv")
    a, b = table.to_pandas(), tsv(tmp_path / "pred.tsv")
    assert list(a["id"]) == list(b["id"]) and list(a["label"]) == list(b["label"])
    assert np.allclose(a["prob_pos"], b["prob_pos"], atol=1e-5)


@pytest.mark.parametrize("aggregate", ["mean", "max"])
def test_prob_columns_are_float64(tmp_path, pipeline, aggregate):
    out = tmp_path / "pred.parquet"
    ok("predict", "--model", pipeline.chunk_model, "--input", pipeline.long_fasta, "--out", out,
       "--aggregate", aggregate)
    schema = pq.read_schema(out)
    assert str(schema.field("prob_pos").type) == "double"
    assert str(schema.field("prob_neg").type) == "double"


def test_tracks(tmp_path, pipeline):
    out, tracks = tmp_path / "pred.tsv", tmp_path / "tracks.tsv"
    ok("predict", "--model", pipeline.chunk_model, "--input", pipeline.long_fasta, "--out", out,
       "--tracks", tracks)
    rows = tsv(tracks)
    assert list(rows.columns) == ["id", "start", "end", "label", "prob_neg", "prob_pos",
                            "ood_score", "ood"]
    lengths = {"long_pos": 600, "mixed": 1020, "long_neg": 700}
    for rid, length in lengths.items():
        mine = rows[rows["id"] == rid]
        assert list(zip(mine["start"], mine["end"])) == sliding(length, 60, 30)
        assert mine["end"].iloc[-1] == length
    assert len(tsv(out)) == 3


def test_tracks_of_whole_sequence_model(tmp_path, pipeline):
    ok("predict", "--model", pipeline.model, "--input", pipeline.long_fasta,
       "--out", tmp_path / "p.tsv", "--tracks", tmp_path / "t.tsv")
    rows = tsv(tmp_path / "t.tsv")
    assert list(rows["start"]) == [0, 0, 0]
    assert list(rows["end"]) == [600, 1020, 700]


def _expected(model_dir, fasta, aggregate):
    model = store.load(model_dir)
    from seqclass.io.sequences import read_sequences

    out = {}
    for rec in read_sequences(fasta):
        pieces = [rec.sequence[s:e] for s, e in sliding(len(rec.sequence), 60, 30)]
        logits = model.logits(pieces)
        agg = logits.mean(axis=0) if aggregate == "mean" else logits.max(axis=0)
        out[rec.id] = to_probabilities(agg[None, :].astype(np.float64), "multiclass")[0]
    return out


def test_long_sequences_aggregated_mean_vs_max(tmp_path, pipeline):
    got = {}
    for aggregate in ("mean", "max"):
        out = tmp_path / f"{aggregate}.parquet"
        ok("predict", "--model", pipeline.chunk_model, "--input", pipeline.long_fasta,
           "--out", out, "--aggregate", aggregate)
        frame = pq.read_table(out).to_pandas().set_index("id")
        got[aggregate] = frame
        for rid, probs in _expected(pipeline.chunk_model, pipeline.long_fasta, aggregate).items():
            assert np.allclose(frame.loc[rid, ["prob_neg", "prob_pos"]].to_numpy(float), probs,
                               atol=1e-5), (aggregate, rid)
    assert not np.allclose(got["mean"]["prob_pos"], got["max"]["prob_pos"])
    assert got["mean"].loc["long_pos", "label"] == "pos"
    assert got["mean"].loc["long_neg", "label"] == "neg"


def test_window_and_stride_override(tmp_path, pipeline):
    ok("predict", "--model", pipeline.chunk_model, "--input", pipeline.long_fasta,
       "--out", tmp_path / "p.tsv", "--tracks", tmp_path / "t.tsv", "--window", "100",
       "--stride", "100")
    rows = tsv(tmp_path / "t.tsv")
    mine = rows[rows["id"] == "long_pos"]
    assert list(zip(mine["start"], mine["end"])) == sliding(600, 100, 100)


def test_fastq_and_gzip_input(tmp_path, pipeline):
    recs = dna_records(seed=3, n_per_class=5)
    write_fastq(tmp_path / "reads.fq.gz", recs["pos"])
    write_fasta(tmp_path / "genes.fa.gz", recs["neg"])
    write_fastq(tmp_path / "plain.fastq", recs["neg"][:2])
    out = tmp_path / "p.tsv"
    ok("predict", "--model", pipeline.model, "--input", tmp_path / "reads.fq.gz",
       tmp_path / "genes.fa.gz", tmp_path / "plain.fastq", "--out", out)
    preds = tsv(out)
    assert list(preds["id"]) == [r for r, _ in recs["pos"]] + [r for r, _ in recs["neg"]] + \
        [r for r, _ in recs["neg"][:2]]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_table_input(tmp_path, pipeline, suffix):
    recs = dna_records(seed=4, n_per_class=3)
    rows = [(rid, seq) for label in recs for rid, seq in recs[label]]
    table = write_table(tmp_path / f"in{suffix}", rows, columns=("id", "sequence"))
    out = tmp_path / "p.tsv"
    ok("predict", "--model", pipeline.model, "--input", table, "--out", out)
    assert list(tsv(out)["id"]) == [r for r, _ in rows]


def test_multilabel_predict(tmp_path, pipeline):
    out = tmp_path / "p.tsv"
    ok("predict", "--model", pipeline.multilabel_model, "--input", pipeline.fastas["pos"],
       "--out", out, "--threshold", "0.0")
    preds = tsv(out)
    assert list(preds.columns) == ["id", "label", "call_A", "call_B", "call_C", "prob_A", "prob_B",
                                    "prob_C", "ood_score", "ood"]
    assert (preds["label"] == "A;B;C").all()
    assert (preds[["call_A", "call_B", "call_C"]] == 1).all().all()  # one 0/1 column per class
    assert ((preds[["prob_A", "prob_B", "prob_C"]] >= 0) & (preds[["prob_A", "prob_B",
                                                                  "prob_C"]] <= 1)).all().all()


def test_rna_and_lower_case_input(tmp_path, pipeline):
    write_fasta(tmp_path / "rna.fa", [("r1", "acguacguuugacaggcuauaauccg" * 4)])
    ok("predict", "--model", pipeline.model, "--input", tmp_path / "rna.fa",
       "--out", tmp_path / "p.tsv")
    assert list(tsv(tmp_path / "p.tsv")["id"]) == ["r1"]


def test_short_model_routes_by_length_and_reads(tmp_path, pipeline):
    """NucArg routing: long inputs to the window model, short ones and FASTQ reads to the other."""
    recs = dna_records(n_per_class=3)
    genes = [(f"gene{i}", seq * 3) for i, (_, seq) in enumerate(recs["pos"])]  # ≥ 60: long model
    frags = [(f"frag{i}", seq[:40]) for i, (_, seq) in enumerate(recs["neg"])]  # < 60: short model
    fasta = write_fasta(tmp_path / "mixed.fa", genes + frags)
    reads = write_fastq(tmp_path / "reads.fq", [(f"read{i}", seq * 3) for i, (_, seq) in
                                                enumerate(recs["neg"])])  # long, but reads
    out = tmp_path / "routed.tsv"
    ok("predict", "--model", pipeline.chunk_model, "--short-model", pipeline.model,
       "--input", fasta, reads, "--out", out, "--tracks", tmp_path / "tracks.tsv")
    routed = pd.read_csv(out, sep="\t").set_index("id")
    assert routed.model.to_dict() == {**{r: "long" for r, _ in genes},
                                      **{r: "short" for r, _ in frags},
                                      **{f"read{i}": "short" for i in range(3)}}
    assert list(routed.index[:3]) == [r for r, _ in genes]  # the long model's rows first
    for model, ids in ((pipeline.chunk_model, [r for r, _ in genes]),
                       (pipeline.model, [r for r, _ in frags])):
        alone = tmp_path / f"{model.name}.tsv"
        ok("predict", "--model", model, "--input", fasta, "--out", alone)
        expected = pd.read_csv(alone, sep="\t").set_index("id").loc[ids]
        np.testing.assert_allclose(routed.loc[ids, ["prob_neg", "prob_pos"]],
                                   expected[["prob_neg", "prob_pos"]], rtol=1e-5)
    assert set(pd.read_csv(tmp_path / "tracks.tsv", sep="\t").model) == {"long", "short"}
    # --short-below moves the boundary: at 10 every FASTA record is long
    ok("predict", "--model", pipeline.chunk_model, "--short-model", pipeline.model, "--short-below", "10",
       "--input", fasta, "--out", tmp_path / "b.tsv")
    assert set(pd.read_csv(tmp_path / "b.tsv", sep="\t").model) == {"long"}


def test_short_model_must_match(tmp_path, pipeline, capsys):
    from conftest import run

    assert run("predict", "--model", pipeline.chunk_model, "--short-model", pipeline.gc_model,
               "--input", pipeline.long_fasta, "--out", tmp_path / "x.tsv") == 0  # same classes
    assert run("predict", "--model", pipeline.model, "--short-model", pipeline.chunk_model,
               "--input", pipeline.long_fasta, "--out", tmp_path / "y.tsv") == 1
    assert "give --short-below" in capsys.readouterr().err
    assert run("predict", "--model", pipeline.model, "--short-below", "50",
               "--input", pipeline.long_fasta, "--out", tmp_path / "z.tsv") == 1
    assert "--short-below needs --short-model" in capsys.readouterr().err
    assert not (tmp_path / "y.tsv").exists() and not (tmp_path / "z.tsv").exists()
