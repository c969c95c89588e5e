"""`seqclass interpret`: ISM and occlusion find the planted motifs, edited copies score as
`predict` scores them, the output columns, bad input, the tracks plot and the report section."""

from __future__ import annotations

import json
import random
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import MOTIFS, dna_records, listing, ok, protein_records, write_fasta
from test_bad_input import fails

from seqclass.interpretation import attribution, tracks
from seqclass.models import store
from seqclass.models.inference import score

PNG = b"\x89PNG\r\n\x1a\n"
IDS = ["pos0", "pos2", "pos5"]


def tsv(path):
    return pd.read_csv(path, sep="\t", keep_default_na=False)


def motif_positions(seq: str, motifs) -> set[int]:
    """1-based positions covered by any occurrence of the motifs."""
    return {m.start() + 1 + i for motif in motifs for m in re.finditer(f"(?={motif})", seq)
            for i in range(len(motif))}


@pytest.fixture(scope="module")
def explained(pipeline, tmp_path_factory):
    """interpret of three planted-motif sequences with the whole-sequence k-mer model."""
    out = tmp_path_factory.mktemp("interpret") / "out"
    ok("interpret", "--model", pipeline.model, "--input", pipeline.fastas["pos"],
       pipeline.fastas["neg"], "--ids", *IDS, "--out", out)
    return out


def test_outputs_and_columns(explained):
    assert sorted(p.name for p in explained.iterdir()) == sorted(
        [".seqclass.json", "sequences.tsv", "ism.tsv", "saliency.tsv"] + [f"{i}.saliency.png" for i in IDS])
    seqs = tsv(explained / "sequences.tsv")
    assert list(seqs.columns) == ["id", "length", "target", "score", "prob_neg", "prob_pos", "plot"]
    assert list(seqs["id"]) == IDS and list(seqs["plot"]) == [f"{i}.saliency.png" for i in IDS]
    assert (seqs["target"] == "pos").all()  # the predicted class
    assert np.allclose(seqs["score"], np.log(seqs["prob_pos"]), atol=1e-5)
    for name in seqs["plot"]:
        assert (explained / name).read_bytes()[:8] == PNG
    assert list(tsv(explained / "ism.tsv").columns) == ["id", "position", "ref", "alt", "delta"]
    assert list(tsv(explained / "saliency.tsv").columns) == [
        "id", "position", "ref", "ism_mean", "ism_min", "ism_max", "occlusion_delta"]


def test_ism_has_every_substitution_and_no_reference(explained, pipeline):
    sequences = dict(dna_records()["pos"])
    ism = tsv(explained / "ism.tsv")
    saliency = tsv(explained / "saliency.tsv")
    assert not (ism["ref"] == ism["alt"]).any()
    for rid in IDS:
        seq = sequences[rid]
        mine = ism[ism["id"] == rid]
        assert len(mine) == 3 * len(seq)
        assert mine.groupby("position")["alt"].apply(lambda a: "".join(sorted(a))).tolist() == \
            ["".join(sorted(set("ACGT") - {b})) for b in seq]
        assert "".join(mine.drop_duplicates("position")["ref"]) == seq
        rows = saliency[saliency["id"] == rid]
        assert list(rows["position"]) == list(range(1, len(seq) + 1))
        by_pos = mine.groupby("position")["delta"]
        assert np.allclose(rows["ism_mean"], by_pos.mean(), atol=1e-5)
        assert np.allclose(rows["ism_min"], by_pos.min(), atol=1e-5)
        assert np.allclose(rows["ism_max"], by_pos.max(), atol=1e-5)


def test_saliency_is_highest_at_the_planted_motifs(explained):
    sequences = dict(dna_records()["pos"])
    ism = tsv(explained / "ism.tsv")
    saliency = tsv(explained / "saliency.tsv")
    for rid in IDS:
        motif = motif_positions(sequences[rid], MOTIFS)
        assert motif, rid
        mine = ism[ism["id"] == rid]
        inside = mine["position"].isin(motif)
        strength = mine["delta"].abs()
        assert strength[inside].mean() > 2 * strength[~inside].mean(), rid
        rows = saliency[saliency["id"] == rid]
        inside = rows["position"].isin(motif)
        # occluding the motifs lowers the score of pos more than occluding anything else
        assert rows["occlusion_delta"][inside].mean() < rows["occlusion_delta"][~inside].mean(), rid
        top = rows.nsmallest(10, "ism_mean")["position"]
        near = {p + d for p in motif for d in range(-5, 6)}
        assert top.isin(near).mean() >= 0.8, (rid, sorted(top), sorted(motif))


def test_target_option_explains_the_other_class(pipeline, tmp_path):
    out = tmp_path / "neg_target"
    ok("interpret", "--model", pipeline.model, "--input", pipeline.fastas["pos"], "--ids", "pos0",
       "--target", "neg", "--score", "logit", "--occlusion-fill", "shuffle", "--out", out)
    seqs = tsv(out / "sequences.tsv")
    assert list(seqs["target"]) == ["neg"]
    ism = tsv(out / "ism.tsv")
    motif = motif_positions(dict(dna_records()["pos"])["pos0"], MOTIFS)
    # destroying a promoter box makes the sequence look more like neg
    assert ism[ism["position"].isin(motif)]["delta"].mean() > 0


@pytest.mark.parametrize("aggregate", ["mean", "max"])
def test_edits_score_as_predict_scores_the_edited_sequence(pipeline, aggregate):
    """Only the windows an edit overlaps are rescored; the result must equal scoring the edited
    sequence from scratch with the model's windows (60, stride 30) and aggregation."""
    model = store.load(pipeline.chunk_model)
    rng = random.Random(5)
    seq = "".join(rng.choice("ACGT") for _ in range(250))
    edits = [(0, "T"), (59, "G"), (61, "NNNNNNNNNN"), (200, "AC"), (240, "GGGGGGGGGG"), (120, "A")]
    scorer = attribution.EditScorer(model, seq, aggregate, batch_size=3)
    edited = [(str(i), seq[:s] + r + seq[s + len(r):]) for i, (s, r) in enumerate(edits)]
    expected = np.concatenate([b.logits for b in score(model, edited, aggregate)])
    assert np.allclose(scorer.score(edits), expected, atol=1e-5)
    reference = next(score(model, [("ref", seq)], aggregate)).logits[0]
    assert np.allclose(scorer.reference, reference, atol=1e-5)


@pytest.mark.parametrize("options", [["--aggregate", "max"], ["--window", "80", "--stride", "10"]])
def test_windowed_model_matches_predict(pipeline, tmp_path, options):
    ok("predict", "--model", pipeline.chunk_model, "--input", pipeline.long_fasta,
       "--out", tmp_path / "pred.tsv", *options)
    ok("interpret", "--model", pipeline.chunk_model, "--input", pipeline.long_fasta,
       "--ids", "mixed", "--out", tmp_path / "out", *options)
    pred = tsv(tmp_path / "pred.tsv").set_index("id")
    seqs = tsv(tmp_path / "out" / "sequences.tsv").set_index("id")
    assert np.allclose(seqs.loc["mixed", ["prob_neg", "prob_pos"]].to_numpy(float),
                       pred.loc["mixed", ["prob_neg", "prob_pos"]].to_numpy(float), atol=1e-5)
    if "max" in options:
        # max-pooling: the motifs of the first 120 nt decide the call; the rest barely matters
        rows = tsv(tmp_path / "out" / "saliency.tsv")
        head = rows["position"] <= 120
        assert rows["ism_mean"][head].abs().mean() > 5 * rows["ism_mean"][~head].abs().mean()


def test_protein_model(pipeline, tmp_path):
    ok("train", "--dataset", pipeline.protein_dataset, "--family", "kmer-logreg", "--kmer-size", "2",
       "--out", tmp_path / "protein_model")
    prot = protein_records()
    write_fasta(tmp_path / "q.faa", prot["kinase"][:2] + prot["toxin"][:2])
    ok("interpret", "--model", tmp_path / "protein_model", "--input", tmp_path / "q.faa",
       "--max-sequences", "3", "--occlusion-width", "6", "--out", tmp_path / "out")
    seqs = tsv(tmp_path / "out" / "sequences.tsv")
    assert list(seqs["id"]) == ["kinase0", "kinase1", "toxin0"]
    ism = tsv(tmp_path / "out" / "ism.tsv")
    assert (ism.groupby(["id", "position"]).size() == 19).all()
    assert set(ism["alt"]) == set("ACDEFGHIKLMNPQRSTVWY")
    for rid, motif in (("kinase0", "GKGAAG"), ("toxin0", "CWCWC")):
        seq = dict(prot[rid.rstrip("0123456789")])[rid]
        mine = ism[ism["id"] == rid]
        inside = mine["position"].isin(motif_positions(seq, [motif]))
        assert mine["delta"][inside].abs().mean() > mine["delta"][~inside].abs().mean(), rid


def test_deep_family(pipeline, tmp_path, one_torch_thread):
    """A network goes through the same `logits` contract: its probabilities are predict's."""
    pytest.importorskip("torch")
    ok("train", "--dataset", pipeline.chunks, "--family", "cnn", "--channels", "8", "--max-steps", "20",
       "--batch-size", "32", "--out", tmp_path / "cnn")
    ok("predict", "--model", tmp_path / "cnn", "--input", pipeline.long_fasta, "--out", tmp_path / "p.tsv")
    ok("interpret", "--model", tmp_path / "cnn", "--input", pipeline.long_fasta, "--ids", "long_pos",
       "--batch-size", "100", "--out", tmp_path / "out")
    pred = tsv(tmp_path / "p.tsv").set_index("id")
    seqs = tsv(tmp_path / "out" / "sequences.tsv").set_index("id")
    assert np.allclose(seqs.loc["long_pos", ["prob_neg", "prob_pos"]].to_numpy(float),
                       pred.loc["long_pos", ["prob_neg", "prob_pos"]].to_numpy(float), atol=1e-5)
    assert len(tsv(tmp_path / "out" / "ism.tsv")) == 3 * 600


def test_max_sequences_skips_long_records(pipeline, tmp_path):
    ok("interpret", "--model", pipeline.model, "--input", pipeline.long_fasta, "--max-length", "650",
       "--max-sequences", "5", "--out", tmp_path / "out")
    assert list(tsv(tmp_path / "out" / "sequences.tsv")["id"]) == ["long_pos"]  # mixed is 1020 nt


# ---------------------------------------------------------------- tracks

def test_tracks_plot_from_predict_tracks(pipeline, tmp_path):
    ok("predict", "--model", pipeline.chunk_model, "--input", pipeline.long_fasta,
       "--out", tmp_path / "pred.tsv", "--tracks", tmp_path / "tracks.tsv")
    classes, found = tracks.read_tracks([tmp_path / "tracks.tsv"])
    assert classes == ["neg", "pos"]
    assert [t.id for t in tracks.longest(found, 2)] == ["mixed", "long_neg"]
    assert [t.length for t in found] == [600, 1020, 700]
    ok("interpret", "--tracks", tmp_path / "tracks.tsv", "--max-contigs", "2", "--out", tmp_path / "out")
    assert listing(tmp_path / "out") == {".seqclass.json", "tracks.png"}
    assert (tmp_path / "out" / "tracks.png").read_bytes()[:8] == PNG


# ---------------------------------------------------------------- report

def test_report_interpretation_section(explained, tmp_path):
    ok("report", "--interpretation", explained, "--out", tmp_path / "mqc")
    doc = json.loads((tmp_path / "mqc" / "seqclass_interpretation_mqc.json").read_text())
    assert doc["id"] == "seqclass_interpretation" and doc["plot_type"] == "linegraph"
    assert sorted(doc["data"]) == sorted(IDS)
    saliency = tsv(explained / "saliency.tsv")
    first = saliency[saliency["id"] == IDS[0]]
    assert len(doc["data"][IDS[0]]) == len(first)
    page = (tmp_path / "mqc" / "seqclass_interpretation_plots_mqc.html").read_text()
    header = yaml.safe_load(page.split("<!--", 1)[1].split("-->", 1)[0])
    assert header["id"] == "seqclass_interpretation_plots"
    assert page.count('src="data:image/png;base64,') == len(IDS)
    assert all(f"<figcaption>{i}.saliency</figcaption>" in page for i in IDS)


# ---------------------------------------------------------------- bad input

@pytest.fixture
def dirs(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    return tmp_path / "in", tmp_path / "out"


def test_unknown_ids(capsys, dirs, pipeline):
    src, out = dirs
    fails(capsys, ["interpret", "--model", pipeline.model, "--input", pipeline.fastas["pos"],
                   "--ids", "pos1", "nope", "--out", out / "x"],
          [pipeline.fastas["pos"], "'nope'", "--ids"], [src, out])


def test_unknown_target(capsys, dirs, pipeline):
    src, out = dirs
    fails(capsys, ["interpret", "--model", pipeline.model, "--input", pipeline.fastas["pos"],
                   "--target", "promoter", "--out", out / "x"],
          [pipeline.model, "'promoter'", "neg, pos"], [src, out])


def test_empty_input(capsys, dirs, pipeline):
    src, out = dirs
    (src / "empty.fa").write_text("")
    fails(capsys, ["interpret", "--model", pipeline.model, "--input", src / "empty.fa",
                   "--out", out / "x"], [src / "empty.fa", "empty"], [src, out])


@pytest.mark.parametrize("which", ["protein_on_dna", "dna_on_protein"])
def test_model_of_another_alphabet(capsys, dirs, pipeline, which, tmp_path):
    src, out = dirs
    if which == "protein_on_dna":
        query = write_fasta(src / "p.faa", protein_records()["kinase"][:3])
        model = pipeline.model
    else:
        query = pipeline.fastas["pos"]
        ok("train", "--dataset", pipeline.protein_dataset, "--family", "kmer-logreg", "--kmer-size", "1",
           "--out", tmp_path / "pm")
        model = tmp_path / "pm"
    fails(capsys, ["interpret", "--model", model, "--input", query, "--ids", "kinase0" if
                   which == "protein_on_dna" else "pos0", "--out", out / "x"],
          [query, "the model was trained on"], [src, out])


def test_requested_record_too_long(capsys, dirs, pipeline):
    src, out = dirs
    fails(capsys, ["interpret", "--model", pipeline.model, "--input", pipeline.long_fasta,
                   "--ids", "mixed", "--max-length", "1000", "--out", out / "x"],
          [pipeline.long_fasta, "'mixed'", "--max-length 1000"], [src, out])


@pytest.mark.parametrize("args, mention", [
    ([], "--input"),
    (["--input", "{pos}"], "--input needs --model"),
    (["--model", "{model}", "--input", "{pos}", "--occlusion-width", "0"], "--occlusion-width"),
])
def test_bad_options(capsys, dirs, pipeline, args, mention):
    src, out = dirs
    args = [a.format(pos=pipeline.fastas["pos"], model=pipeline.model) for a in args]
    fails(capsys, ["interpret", *args, "--out", out / "x"], [mention], [src, out])


def test_not_a_tracks_table(capsys, dirs, pipeline):
    src, out = dirs
    ok("predict", "--model", pipeline.model, "--input", pipeline.long_fasta, "--out", src / "p.tsv")
    fails(capsys, ["interpret", "--tracks", src / "p.tsv", "--out", out / "x"],
          [src / "p.tsv", "start"], [out])
