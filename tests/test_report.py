"""`seqclass report`: the MultiQC custom content of the steps' outputs."""

from __future__ import annotations

import json

import yaml
from conftest import ok


def write_log(model_dir, losses):
    model_dir.mkdir(parents=True)
    (model_dir / "training_log.jsonl").write_text("".join(
        json.dumps({"step": step, "epoch": step / 10, "lr": 1e-3, "train_loss": loss}) + "\n"
        for step, loss in losses))
    return model_dir / "training_log.jsonl"


def test_training_curves_of_two_models_share_one_section(tmp_path):
    """With --short_window a run trains two models: both curves show, one button each (two
    sections with one id would leave MultiQC only the last)."""
    long_log = write_log(tmp_path / "seqclass.model", [(1, 0.9), (2, 0.5)])
    short_log = write_log(tmp_path / "seqclass_short.model", [(1, 0.8), (2, 0.7), (3, 0.6)])
    ok("report", "--training-log", long_log, short_log, "--out", tmp_path / "mqc")
    assert sorted(p.name for p in (tmp_path / "mqc").iterdir()) == [".seqclass.json",
                                                                    "seqclass_training_mqc.json"]
    doc = json.loads((tmp_path / "mqc" / "seqclass_training_mqc.json").read_text())
    assert doc["id"] == "seqclass_training"
    names = [label["name"] for label in doc["pconfig"]["data_labels"]]
    assert names == ["seqclass.model", "seqclass_short.model"]
    # losses and metrics by step; the epoch counter and the learning rate are left out
    assert doc["data"] == [{"train_loss": {"1": 0.9, "2": 0.5}},
                           {"train_loss": {"1": 0.8, "2": 0.7, "3": 0.6}}]


def test_metrics_table_shows_three_decimals(tmp_path):
    evaluation = tmp_path / "x.evaluation"
    evaluation.mkdir()
    (evaluation / "metrics.json").write_text(json.dumps({"split": "test", "n": 10, "accuracy": 0.8123,
                                                         "mcc": 0.64}))
    ok("report", "--evaluation", evaluation, "--out", tmp_path / "mqc")
    text = (tmp_path / "mqc" / "seqclass_metrics_mqc.tsv").read_text()
    config = yaml.safe_load("\n".join(line[2:] for line in text.splitlines() if line.startswith("# ")))
    assert config["headers"]["mcc"] == {"format": "{:,.3f}", "min": -1, "max": 1, "scale": "RdYlGn"}
    assert config["headers"]["accuracy"]["min"] == 0
    assert "x.evaluation (test)\t10\t0.8123\t" in text
