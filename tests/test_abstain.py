"""Abstaining (`predict --min-prob`, `--negative-class`) and out-of-distribution scores (ood.json)."""

from __future__ import annotations

import json
import random
import shutil

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import ok, run, write_fasta

from seqclass.evaluation import abstain
from seqclass.models import ood


def tsv(path):
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=["NA"])


def n_valid(split_path) -> int:
    return int((pq.read_table(split_path).to_pandas()["split"] == "valid").sum())


# ---------------------------------------------------------------- the library

def test_energy_sign_and_shape():
    logits = np.array([[10.0, -10.0], [0.0, 0.0], [1.0, 1.0]])
    e = ood.energy(logits, "multiclass")
    assert e.shape == (3,)
    assert e[0] < e[2] < e[1]  # confident lowest; equal logits: the larger, the lower
    assert np.isclose(e[1], -np.log(2.0))
    assert np.allclose(ood.energy(np.array([[0.0, 0.0]]), "multilabel"), [-2 * np.log(2.0)])
    assert ood.energy(np.array([[-9.0, -9.0]]), "multilabel")[0] > \
        ood.energy(np.array([[9.0, -9.0]]), "multilabel")[0]


def test_threshold_without_scores():
    doc = ood.fit_threshold(np.zeros(0), 0.95, "multiclass")
    assert doc["fitted"] is False and doc["threshold"] is None and doc["n_valid"] == 0
    assert doc["quantiles"] == {}
    doc = ood.fit_threshold(np.arange(101.0), 0.9, "multiclass")
    assert doc["fitted"] and doc["threshold"] == pytest.approx(90.0) and doc["n_valid"] == 101


def test_call_abstains():
    probs = np.array([[0.9, 0.1], [0.55, 0.45], [0.2, 0.8]])
    labels = ["neg", "pos"]
    assert abstain.call(probs, labels, "multiclass") == ["neg", "neg", "pos"]
    assert abstain.call(probs, labels, "multiclass", min_prob=0.8) == ["neg", "uncertain", "pos"]
    assert abstain.call(probs, labels, "multiclass", min_prob=0.85, negative="neg") == \
        ["neg", "neg", "neg"]
    multi = np.array([[0.9, 0.6], [0.3, 0.2]])
    assert abstain.call(multi, labels, "multilabel", min_prob=0.7) == ["neg", ""]
    assert abstain.call(multi, labels, "multilabel", min_prob=0.5, negative="neg") == \
        ["neg;pos", "neg"]


def test_abstain_table_by_hand():
    probs = np.array([[0.95, 0.05], [0.6, 0.4], [0.3, 0.7], [0.1, 0.9]])
    truth = np.array([0, 1, 1, 1])  # neg, pos, pos, pos
    t = abstain.table(truth, probs, ["neg", "pos"], "multiclass", negative="neg",
                      grid=(0.0, 0.65, 0.8))
    assert list(t["n_called"]) == [4, 3, 2]
    assert list(t["accuracy"]) == pytest.approx([0.75, 1.0, 1.0])
    assert list(t["false_positive_rate"]) == [0.0, 0.0, 0.0]
    assert list(t["recall"]) == pytest.approx([2 / 3, 2 / 3, 1 / 3])


# ---------------------------------------------------------------- train: ood.json

@pytest.mark.parametrize("which", ["model", "gc_model", "chunk_model", "multilabel_model"])
def test_ood_json_written_from_valid_rows(pipeline, which):
    doc = json.loads((getattr(pipeline, which) / "ood.json").read_text())
    assert doc["method"] == "energy" and doc["quantile"] == 0.95 and doc["fitted"] is True
    split = pipeline.multilabel_split if which == "multilabel_model" else pipeline.split
    assert doc["n_valid"] == n_valid(split)  # chunk model: windows aggregated per parent
    q = doc["quantiles"]
    assert q["0.5"] <= q["0.9"] <= q["0.95"] <= q["0.99"]
    assert doc["threshold"] == pytest.approx(q["0.95"])


def test_ood_quantile_flag_and_no_valid_rows(tmp_path, pipeline):
    ok("train", "--dataset", pipeline.split, "--family", "gc-logreg", "--out", tmp_path / "m",
       "--ood-quantile", "0.5")
    doc = json.loads((tmp_path / "m" / "ood.json").read_text())
    assert doc["quantile"] == 0.5 and doc["threshold"] == pytest.approx(doc["quantiles"]["0.5"])
    assert json.loads((tmp_path / "m" / "training.json").read_text()).get("ood") is None
    # a table without a split column: every row trains, no validation rows, no threshold
    ok("train", "--dataset", pipeline.dataset, "--family", "gc-logreg", "--out", tmp_path / "n")
    doc = json.loads((tmp_path / "n" / "ood.json").read_text())
    assert doc["fitted"] is False and doc["threshold"] is None and doc["n_valid"] == 0
    ok("predict", "--model", tmp_path / "n", "--input", pipeline.fastas["pos"],
       "--out", tmp_path / "p.tsv")
    preds = tsv(tmp_path / "p.tsv")
    assert preds["ood"].isna().all() and preds["ood_score"].notna().all()
    assert run("train", "--dataset", pipeline.split, "--family", "gc-logreg",
               "--out", tmp_path / "bad", "--ood-quantile", "1.5") == 1


# ---------------------------------------------------------------- predict

def test_predict_columns(tmp_path, pipeline):
    ok("predict", "--model", pipeline.model, "--input", pipeline.fastas["pos"],
       pipeline.fastas["neg"], "--out", tmp_path / "p.tsv")
    preds = tsv(tmp_path / "p.tsv")
    assert list(preds.columns)[-2:] == ["ood_score", "ood"]
    threshold = json.loads((pipeline.model / "ood.json").read_text())["threshold"]
    assert preds["ood"].map(str).isin(["True", "False"]).all()
    assert (preds["ood"].astype(bool) == (preds["ood_score"] > threshold)).all()
    p = preds[["prob_neg", "prob_pos"]].to_numpy()
    logit_gap = np.log(p[:, 1] / p[:, 0])  # binary kmer-logreg logits are ±gap/2
    assert np.allclose(preds["ood_score"], -np.logaddexp(logit_gap / 2, -logit_gap / 2), atol=1e-4)
    ok("predict", "--model", pipeline.model, "--input", pipeline.fastas["pos"],
       "--out", tmp_path / "p.parquet")
    schema = pq.read_schema(tmp_path / "p.parquet")
    assert str(schema.field("ood_score").type) == "double" and str(schema.field("ood").type) == "bool"


def test_tracks_have_ood_columns(tmp_path, pipeline):
    ok("predict", "--model", pipeline.chunk_model, "--input", pipeline.long_fasta,
       "--out", tmp_path / "p.tsv", "--tracks", tmp_path / "t.tsv", "--min-prob", "0.99")
    rows = tsv(tmp_path / "t.tsv")
    assert list(rows.columns)[-2:] == ["ood_score", "ood"]
    assert rows["ood_score"].notna().all()


def _top_prob(preds):
    return preds[["prob_neg", "prob_pos"]].max(axis=1)


def test_min_prob_makes_low_confidence_calls_uncertain(tmp_path, pipeline):
    fastas = [pipeline.fastas["pos"], pipeline.fastas["neg"]]
    ok("predict", "--model", pipeline.model, "--input", *fastas, "--out", tmp_path / "a.tsv")
    plain = tsv(tmp_path / "a.tsv")
    assert "uncertain" not in set(plain["label"])  # no abstaining by default
    p = float(_top_prob(plain).median())
    ok("predict", "--model", pipeline.model, "--input", *fastas, "--out", tmp_path / "b.tsv",
       "--min-prob", str(p))
    calls = tsv(tmp_path / "b.tsv")
    low = _top_prob(calls) < p
    assert 0 < low.sum() < len(calls)
    assert (calls.loc[low, "label"] == "uncertain").all()
    assert (calls.loc[~low, "label"] == plain.loc[~low, "label"]).all()
    assert np.allclose(calls["prob_pos"], plain["prob_pos"])

    ok("predict", "--model", pipeline.model, "--input", *fastas, "--out", tmp_path / "c.tsv",
       "--min-prob", str(p), "--negative-class", "neg")
    neg = tsv(tmp_path / "c.tsv")
    assert (neg.loc[low, "label"] == "neg").all()
    assert (neg.loc[~low, "label"] == plain.loc[~low, "label"]).all()


def test_unknown_negative_class_is_one_line_error(tmp_path, pipeline, capsys):
    rc = run("predict", "--model", pipeline.model, "--input", pipeline.fastas["pos"],
             "--out", tmp_path / "p.tsv", "--min-prob", "0.8", "--negative-class", "nope")
    err = capsys.readouterr().err.strip()
    assert rc == 1 and "\n" not in err and "nope" in err and "neg, pos" in err
    assert not (tmp_path / "p.tsv").exists()
    assert run("evaluate", "--model", pipeline.model, "--dataset", pipeline.split,
               "--out", tmp_path / "ev", "--negative-class", "nope") == 1


def test_model_without_ood_json_still_predicts(tmp_path, pipeline):
    old = tmp_path / "old_model"
    shutil.copytree(pipeline.model, old)
    (old / "ood.json").unlink()
    ok("predict", "--model", old, "--input", pipeline.fastas["pos"], "--out", tmp_path / "p.tsv",
       "--tracks", tmp_path / "t.tsv")
    preds = tsv(tmp_path / "p.tsv")
    assert preds["ood"].isna().all() and preds["ood_score"].notna().all()
    assert (tmp_path / "p.tsv").read_text().splitlines()[1].endswith("\tNA")
    assert tsv(tmp_path / "t.tsv")["ood"].isna().all()
    ok("predict", "--model", old, "--input", pipeline.fastas["pos"], "--out", tmp_path / "p.parquet")
    table = pq.read_table(tmp_path / "p.parquet")
    assert str(table.schema.field("ood").type) == "bool" and table.column("ood").null_count == 40


def test_other_composition_scores_higher(tmp_path, pipeline):
    """AT-rich random DNA (90% A/T) carries neither class's evidence; its energy is higher on
    average than the in-distribution test sequences'. (GC-rich random DNA does NOT: with this
    binary linear model the energy only measures confidence, and G/C leans to `neg`.)"""
    split = pq.read_table(pipeline.split).to_pandas()
    test = split[split["split"] == "test"]
    write_fasta(tmp_path / "test.fa", list(zip(test["id"], test["sequence"])))
    rng = random.Random(11)
    at_rich = [(f"at{i}", "".join(rng.choice("AT" * 9 + "GC") for _ in range(rng.randint(60, 300))))
               for i in range(40)]
    write_fasta(tmp_path / "at.fa", at_rich)
    ok("predict", "--model", pipeline.model, "--input", tmp_path / "test.fa",
       "--out", tmp_path / "id.tsv")
    ok("predict", "--model", pipeline.model, "--input", tmp_path / "at.fa",
       "--out", tmp_path / "ood.tsv")
    inside, outside = tsv(tmp_path / "id.tsv"), tsv(tmp_path / "ood.tsv")
    assert outside["ood_score"].mean() > inside["ood_score"].mean()
    assert outside["ood"].astype(bool).mean() > inside["ood"].astype(bool).mean()


# ---------------------------------------------------------------- evaluate: abstain.tsv

def test_abstain_tsv(pipeline):
    t = tsv(pipeline.evaluation / "abstain.tsv")
    assert list(t.columns) == abstain.COLUMNS
    assert list(t["min_prob"]) == list(abstain.GRID)
    assert (np.diff(t["coverage"]) <= 1e-12).all()  # monotone: higher P, fewer calls
    assert t["coverage"].iloc[0] == 1.0
    metrics = json.loads((pipeline.evaluation / "metrics.json").read_text())
    assert t["accuracy"].iloc[0] == pytest.approx(metrics["accuracy"], abs=1e-6)
    assert t["false_positive_rate"].isna().all() and t["recall"].isna().all()
    assert (t["n"] == metrics["n"]).all()


def test_abstain_tsv_with_negative_class(tmp_path, pipeline):
    ok("evaluate", "--model", pipeline.model, "--dataset", pipeline.split, "--out", tmp_path / "ev",
       "--negative-class", "neg")
    t = tsv(tmp_path / "ev" / "abstain.tsv")
    assert t["false_positive_rate"].notna().all() and t["recall"].notna().all()
    assert (np.diff(t["false_positive_rate"]) <= 1e-12).all()  # abstentions become `neg`
    assert (np.diff(t["recall"]) <= 1e-12).all()
    cm = json.loads((tmp_path / "ev" / "metrics.json").read_text())["confusion_matrix"]["matrix"]
    assert t["false_positive_rate"].iloc[0] == pytest.approx(cm[0][1] / sum(cm[0]), abs=1e-6)
    assert t["recall"].iloc[0] == pytest.approx(cm[1][1] / sum(cm[1]), abs=1e-6)


def test_abstain_tsv_multilabel(tmp_path, pipeline):
    ok("evaluate", "--model", pipeline.multilabel_model, "--dataset", pipeline.multilabel_split,
       "--out", tmp_path / "ev", "--negative-class", "C")
    t = tsv(tmp_path / "ev" / "abstain.tsv")
    assert len(t) == len(abstain.GRID)
    assert (np.diff(t["coverage"]) <= 1e-12).all()
