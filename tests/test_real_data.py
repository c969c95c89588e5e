"""End-to-end checks on the real data in ../shared/data; skipped where that folder is absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ok

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PROMOTERS = DATA / "promoters"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not PROMOTERS.is_dir(), reason=f"real data not found at {DATA}"),
]


def test_bacillus_promoters_homology_split(tmp_path):
    """The k-mer baseline on B. subtilis promoters, homology split at 0.8, seed 0."""
    ok("build", "--input", f"prom={PROMOTERS / 'Bacillus_prom.fa'}",
       f"non={PROMOTERS / 'Bacillus_non_prom.fa'}", "--rename-duplicate-ids",
       "--out", tmp_path / "d.parquet")
    ok("split", "--dataset", tmp_path / "d.parquet", "--identity", "0.8", "--threads", "2",
       "--out", tmp_path / "s.parquet")
    summary = json.loads((tmp_path / "s.summary.json").read_text())
    assert summary["leakage"]["test"]["share_above_threshold"] <= 0.01
    ok("train", "--dataset", tmp_path / "s.parquet", "--out", tmp_path / "m")
    ok("evaluate", "--model", tmp_path / "m", "--dataset", tmp_path / "s.parquet",
       "--out", tmp_path / "ev")
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    # docs/results.md reports 0.7 on average over seeds; one seed on 138 test sequences varies
    assert metrics["mcc"] > 0.55
    assert metrics["roc_auc"] > 0.85
