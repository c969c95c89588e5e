"""`seqclass evaluate`: metrics.json, predictions.tsv and plots at sequence and window level."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import ok

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
METRIC_KEYS = ["accuracy", "balanced_accuracy", "mcc", "f1_macro", "f1_micro", "f1_weighted",
               "precision_macro", "recall_macro", "specificity", "roc_auc", "pr_auc", "per_class",
               "confusion_matrix"]
EVAL_FILES = {"metrics.json", "predictions.tsv", "confusion_matrix.png", "roc.png", "pr.png",
              "abstain.tsv", ".seqclass.json"}


def metrics_of(directory):
    return json.loads((directory / "metrics.json").read_text())


def test_metrics_keys_and_values(pipeline):
    m = metrics_of(pipeline.evaluation)
    for key in METRIC_KEYS:
        assert key in m, key
    for key in METRIC_KEYS[:11]:
        assert m[key] is not None and -1.0 <= m[key] <= 1.0, key
    assert m["task"] == "multiclass" and m["split"] == "test" and m["level"] == "sequence"
    assert m["family"] == "kmer-logreg" and m["positive_class"] == "pos"
    assert set(m["per_class"]) == {"neg", "pos"}
    for stats in m["per_class"].values():
        assert set(stats) >= {"precision", "recall", "f1", "specificity", "support"}
    cm = m["confusion_matrix"]
    assert cm["labels"] == ["neg", "pos"]
    assert sum(map(sum, cm["matrix"])) == m["n"]
    split = pq.read_table(pipeline.split).to_pandas()
    assert m["n"] == int((split["split"] == "test").sum())


def test_planted_motif_is_learnt(pipeline):
    m = metrics_of(pipeline.evaluation)
    assert m["accuracy"] >= 0.8  # chance is 0.5
    assert m["roc_auc"] >= 0.9
    assert m["mcc"] >= 0.6


def test_output_files_and_png_magic(pipeline):
    assert {p.name for p in pipeline.evaluation.iterdir()} == EVAL_FILES
    for name in ("confusion_matrix.png", "roc.png", "pr.png"):
        data = (pipeline.evaluation / name).read_bytes()
        assert data.startswith(PNG_MAGIC), name
        assert len(data) > 1000


def test_predictions_tsv(pipeline):
    preds = pd.read_csv(pipeline.evaluation / "predictions.tsv", sep="\t")
    assert list(preds.columns) == ["id", "true_label", "label", "prob_neg", "prob_pos"]
    assert ((preds["prob_neg"] + preds["prob_pos"]) - 1).abs().max() < 1e-4
    called = preds[["prob_neg", "prob_pos"]].idxmax(axis=1).str.removeprefix("prob_")
    assert (called == preds["label"]).all()
    m = metrics_of(pipeline.evaluation)
    assert abs((preds["label"] == preds["true_label"]).mean() - m["accuracy"]) < 1e-9


def test_split_all(tmp_path, pipeline):
    ok("evaluate", "--model", pipeline.gc_model, "--dataset", pipeline.split, "--out", tmp_path / "ev",
       "--split", "all")
    m = metrics_of(tmp_path / "ev")
    assert m["n"] == 80 and m["split"] == "all" and m["family"] == "gc-logreg"


def test_window_level(tmp_path, pipeline):
    ok("evaluate", "--model", pipeline.chunk_model, "--dataset", pipeline.split,
       "--out", tmp_path / "ev", "--level", "window")
    m = metrics_of(tmp_path / "ev")
    assert m["level"] == "window"
    preds = pd.read_csv(tmp_path / "ev" / "predictions.tsv", sep="\t")
    assert preds["id"].str.fullmatch(r"(pos|neg)\d+:\d+-\d+").all()
    split = pq.read_table(pipeline.split).to_pandas()
    test = split[split["split"] == "test"]
    # every test sequence is cut into the model's windows: at least one window per sequence
    assert m["n"] == len(preds) > len(test)
    parents = preds["id"].str.split(":").str[0]
    assert set(parents) == set(test["id"])
    assert (preds["true_label"] == parents.str.extract(r"^([a-z]+)")[0]).all()


def test_chunk_model_at_sequence_level(tmp_path, pipeline):
    """Windows of a long sequence are aggregated into one row per sequence."""
    ok("evaluate", "--model", pipeline.chunk_model, "--dataset", pipeline.split,
       "--out", tmp_path / "ev")
    preds = pd.read_csv(tmp_path / "ev" / "predictions.tsv", sep="\t")
    split = pq.read_table(pipeline.split).to_pandas()
    assert sorted(preds["id"]) == sorted(split.loc[split["split"] == "test", "id"])
    assert metrics_of(tmp_path / "ev")["accuracy"] >= 0.7


@pytest.mark.parametrize("aggregate", ["mean", "max"])
def test_chunk_table_aggregated_per_parent(tmp_path, pipeline, aggregate):
    ok("evaluate", "--model", pipeline.chunk_model, "--dataset", pipeline.chunks,
       "--out", tmp_path / "ev", "--aggregate", aggregate)
    preds = pd.read_csv(tmp_path / "ev" / "predictions.tsv", sep="\t")
    chunks = pq.read_table(pipeline.chunks).to_pandas()
    test_parents = set(chunks.loc[chunks["split"] == "test", "parent_id"])
    assert set(preds["id"]) == test_parents and len(preds) == len(test_parents)


def test_multilabel_metrics(tmp_path, pipeline):
    ok("evaluate", "--model", pipeline.multilabel_model, "--dataset", pipeline.multilabel_split,
       "--out", tmp_path / "ev")
    m = metrics_of(tmp_path / "ev")
    assert m["task"] == "multilabel"
    for key in METRIC_KEYS[:11] + ["hamming_loss", "threshold", "per_class"]:
        assert key in m, key
    assert set(m["per_class"]) == {"A", "B", "C"}
    for stats in m["per_class"].values():
        assert len(stats["confusion_matrix"]) == 2
    assert m["roc_auc"] >= 0.8
    assert 0.0 <= m["hamming_loss"] <= 1.0
    preds = pd.read_csv(tmp_path / "ev" / "predictions.tsv", sep="\t", keep_default_na=False)
    assert list(preds.columns) == ["id", "true_label", "label", "prob_A", "prob_B", "prob_C"]
    for png in ("confusion_matrix.png", "roc.png", "pr.png"):
        assert (tmp_path / "ev" / png).read_bytes().startswith(PNG_MAGIC)


def test_multilabel_threshold(tmp_path, pipeline):
    ok("evaluate", "--model", pipeline.multilabel_model, "--dataset", pipeline.multilabel_split,
       "--out", tmp_path / "ev", "--threshold", "0.0")
    preds = pd.read_csv(tmp_path / "ev" / "predictions.tsv", sep="\t", keep_default_na=False)
    assert (preds["label"] == "A;B;C").all()
    assert metrics_of(tmp_path / "ev")["threshold"] == 0.0


def test_one_class_present_gives_strict_json(tmp_path, pipeline):
    """Metrics undefined for one class (ROC AUC, specificity) are null, never NaN."""
    from conftest import dna_records, write_fasta

    write_fasta(tmp_path / "pos.fa", dna_records(seed=9, n_per_class=6)["pos"])
    ok("build", "--out", tmp_path / "d.parquet", "--input", tmp_path / "pos.fa")
    ok("evaluate", "--model", pipeline.model, "--dataset", tmp_path / "d.parquet", "--split", "all",
       "--out", tmp_path / "ev")

    def no_nan(token):
        raise AssertionError(f"metrics.json holds {token}")

    m = json.loads((tmp_path / "ev" / "metrics.json").read_text(), parse_constant=no_nan)
    assert m["n"] == 6
    assert m["roc_auc"] is None and m["specificity"] is None
    assert (tmp_path / "ev" / "roc.png").read_bytes().startswith(PNG_MAGIC)
