"""Model directories written before the ML-core renovation still load and predict the same.

tests/fixtures/models_v0.1/ holds one tiny model per family as seqclass 0.1.0 wrote it (its
make.sh), with the predictions it gave then: config.json there stores each family's
parameters as they were named and defaulted then, and store.load must rebuild them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from seqclass.cli import main

LEGACY = Path(__file__).parent / "fixtures" / "models_v0.1"
FAMILIES = sorted(p.name for p in LEGACY.iterdir() if (p / "predictions.tsv").is_file())


def test_every_family_of_then_is_kept():
    assert FAMILIES == ["awd-lstm", "bilstm", "cnn", "embedding-bag", "gc-logreg", "kmer-logreg",
                        "similarity", "transformer"]


@pytest.mark.parametrize("family", FAMILIES)
def test_old_model_directory_predicts_as_it_did(family, tmp_path, one_torch_thread):
    out = tmp_path / "predictions.tsv"
    assert main(["predict", "--model", str(LEGACY / family), "--input", str(LEGACY / "queries.fa"),
                 "--out", str(out)]) == 0
    then = pd.read_csv(LEGACY / family / "predictions.tsv", sep="\t")
    now = pd.read_csv(out, sep="\t")
    assert list(now.columns) == list(then.columns)
    assert now["id"].tolist() == then["id"].tolist()
    assert now["label"].tolist() == then["label"].tolist()
    numbers = then.select_dtypes("number").columns
    assert len(numbers) >= 2
    pd.testing.assert_frame_equal(now[numbers], then[numbers], atol=1e-6, rtol=0)
