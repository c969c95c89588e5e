"""`seqclass build`: every input form, labels, alphabets, duplicates and the summary JSON."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from conftest import (
    dna_records,
    ok,
    protein_records,
    run,
    write_fasta,
    write_fastq,
    write_table,
)

DATASET_COLUMNS = ["id", "sequence", "label", "source", "length"]


def read(path):
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[b"seqclass"])
    return table.to_pydict(), meta


def summary_of(path):
    return json.loads(path.with_name(path.name.replace(".parquet", ".summary.json")).read_text())


def test_fasta_with_file_name_labels(tmp_path, dna_fastas):
    out = tmp_path / "dataset.parquet"
    assert run("build", "--out", out, "--input", dna_fastas["pos"], dna_fastas["neg"]) == 0
    table = pq.read_table(out)
    assert table.column_names == DATASET_COLUMNS
    rows, meta = read(out)
    assert len(rows["id"]) == 80
    assert set(rows["label"]) == {"pos", "neg"}
    assert rows["length"] == [len(s) for s in rows["sequence"]]
    assert set(rows["source"]) == {str(dna_fastas["pos"]), str(dna_fastas["neg"])}
    assert meta["alphabet"] == "dna" and meta["task"] == "multiclass"
    assert meta["classes"] == ["neg", "pos"]
    assert meta["provenance"][0]["step"] == "build"
    summary = summary_of(out)
    assert summary["records_read"] == 80 and summary["records_kept"] == 80
    assert summary["classes"] == {"neg": 40, "pos": 40}
    assert summary["alphabet"] == "dna"
    assert summary["dropped"] == {"duplicate_sequence": 0} or summary["dropped"] == {}
    assert 60 <= summary["length"]["min"] <= summary["length"]["max"] <= 300


def test_label_equals_path(tmp_path, dna_fastas):
    out = tmp_path / "d.parquet"
    ok("build", "--out", out, "--input", f"promoter={dna_fastas['pos']}",
       f"background={dna_fastas['neg']}")
    rows, meta = read(out)
    assert meta["classes"] == ["background", "promoter"]
    by_id = dict(zip(rows["id"], rows["label"]))
    assert by_id["pos0"] == "promoter" and by_id["neg0"] == "background"
    assert summary_of(out)["inputs"][0]["label"] == "promoter"


def test_fastq_and_gzip(tmp_path):
    recs = dna_records(n_per_class=10)
    write_fastq(tmp_path / "pos.fq.gz", recs["pos"])
    write_fastq(tmp_path / "neg.fastq", recs["neg"])
    write_fasta(tmp_path / "extra.fa.gz", [("x1", "ACGTACGTAAAC"), ("x2", "GGGTTTAAACCC")])
    out = tmp_path / "d.parquet"
    ok("build", "--out", out, "--input", tmp_path / "pos.fq.gz", tmp_path / "neg.fastq",
       tmp_path / "extra.fa.gz")
    rows, _ = read(out)
    assert sorted(set(rows["label"])) == ["extra", "neg", "pos"]
    seqs = dict(zip(rows["id"], rows["sequence"]))
    assert seqs["pos3"] == recs["pos"][3][1]
    assert seqs["x2"] == "GGGTTTAAACCC"


def test_wrapped_fasta_lines_joined(tmp_path):
    seq = "ACGT" * 50
    write_fasta(tmp_path / "a.fa", [("a1", seq)], wrap=7)
    write_fasta(tmp_path / "b.fa", [("b1", seq[::-1])], wrap=None)
    ok("build", "--out", tmp_path / "d.parquet", "--input", tmp_path / "a.fa", tmp_path / "b.fa")
    rows, _ = read(tmp_path / "d.parquet")
    assert dict(zip(rows["id"], rows["sequence"]))["a1"] == seq


def test_header_key(tmp_path, protein_fasta):
    out = tmp_path / "d.parquet"
    ok("build", "--out", out, "--input", protein_fasta, "--label-from", "header-key:class")
    rows, meta = read(out)
    assert meta["alphabet"] == "protein"
    assert set(rows["label"]) == {"kinase", "toxin"}
    assert dict(zip(rows["id"], rows["label"]))["toxin3"] == "toxin"


def test_header_regex(tmp_path):
    recs = dna_records(n_per_class=5)
    write_fasta(tmp_path / "all.fa", recs["pos"] + recs["neg"])
    out = tmp_path / "d.parquet"
    ok("build", "--out", out, "--input", tmp_path / "all.fa", "--label-from",
       r"header-regex:^([a-z]+)\d+")
    rows, _ = read(out)
    assert dict(zip(rows["id"], rows["label"])) == {
        **{f"pos{i}": "pos" for i in range(5)}, **{f"neg{i}": "neg" for i in range(5)}}


def test_argannot_headers(tmp_path, argannot_fasta):
    out = tmp_path / "d.parquet"
    ok("build", "--out", out, "--input", argannot_fasta, "--label-from", "argannot")
    rows, meta = read(out)
    labels = dict(zip(rows["id"], rows["label"]))
    assert labels["argannot~~~(Bla)blaTEM-1~~~AY458016:1-861~~~"] == "Bla"
    assert labels["argannot~~~(AGly_Flqn)aac(6')-Ib-cr~~~DQ303918:1-600~~~"] == "AGly;Flq"
    assert labels["argannot~~~(Tet)tetA~~~AJ517790:1-1200~~~"] == "Tet"
    assert meta["task"] == "multilabel"
    assert meta["classes"] == ["AGly", "Bla", "Flq", "Tet"]
    summary = summary_of(out)
    assert summary["classes"]["AGly"] == 2 and summary["classes"]["Flq"] == 1
    assert summary["label_sets"]["AGly;Flq"] == 1


def test_plasmidfinder_replicon_families(tmp_path):
    import random

    rng = random.Random(3)
    names = {"IncFII_1": "Inc", "FIA(pBK30683)_1": "Inc", "rep7a_1_repC(Cassette)": "rep",
             "RepA_1_pKPC-CAV1321": "rep", "Col440I_1": "Col", "p0111_1": "other"}
    path = write_fasta(tmp_path / "pf.fa", [(f"plasmidfinder~~~{n}~~~AB{i:06d}~~~", "".join(
        rng.choice("ACGT") for _ in range(120))) for i, n in enumerate(names)])
    ok("build", "--out", tmp_path / "d.parquet", "--input", path, "--label-from", "plasmidfinder")
    rows, _ = read(tmp_path / "d.parquet")
    assert {i.split("~~~")[1]: lab for i, lab in zip(rows["id"], rows["label"])} == names


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_table_inputs(tmp_path, suffix):
    recs = dna_records(n_per_class=6)
    rows = [(rid, seq, label) for label in recs for rid, seq in recs[label]]
    table = write_table(tmp_path / f"table{suffix}", rows)
    out = tmp_path / "d.parquet"
    ok("build", "--out", out, "--input", table)
    got, meta = read(out)
    assert len(got["id"]) == 12
    assert dict(zip(got["id"], got["label"]))["neg5"] == "neg"
    assert set(got["source"]) == {str(table)}
    assert meta["classes"] == ["neg", "pos"]


def test_table_label_from_column(tmp_path):
    rows = [("a", "ACGTACGTTT", "x", "one"), ("b", "TTTTGGGGCC", "y", "two")]
    table = write_table(tmp_path / "t.csv", rows, columns=("id", "sequence", "label", "group"))
    ok("build", "--out", tmp_path / "d.parquet", "--input", table, "--label-from", "column:group")
    got, _ = read(tmp_path / "d.parquet")
    assert got["label"] == ["one", "two"]


def test_samplesheet(tmp_path):
    recs = dna_records(n_per_class=5)
    (tmp_path / "reads").mkdir()
    write_fasta(tmp_path / "reads" / "s1.fa", recs["pos"])
    write_fastq(tmp_path / "reads" / "s2.fq.gz", recs["neg"])
    sheet = tmp_path / "samples.csv"
    sheet.write_text("sample,label,file\nS1,promoter,reads/s1.fa\nS2,background,reads/s2.fq.gz\n")
    out = tmp_path / "d.parquet"
    ok("build", "--out", out, "--samplesheet", sheet)
    rows, meta = read(out)
    assert meta["classes"] == ["background", "promoter"]
    assert dict(zip(rows["id"], rows["label"]))["pos2"] == "promoter"
    assert len(rows["id"]) == 10


def test_alphabet_detection_and_override(tmp_path):
    prot = protein_records(n_per_class=4)
    write_fasta(tmp_path / "kinase.faa", prot["kinase"])
    write_fasta(tmp_path / "toxin.faa", prot["toxin"])
    ok("build", "--out", tmp_path / "p.parquet", "--input", tmp_path / "kinase.faa",
       tmp_path / "toxin.faa")
    assert read(tmp_path / "p.parquet")[1]["alphabet"] == "protein"

    write_fasta(tmp_path / "a.fa", [("a1", "ACGTACGTACGTGGA")])
    write_fasta(tmp_path / "b.fa", [("b1", "TTTTACGTACGTGGA")])
    ok("build", "--out", tmp_path / "auto.parquet", "--input", tmp_path / "a.fa", tmp_path / "b.fa")
    assert read(tmp_path / "auto.parquet")[1]["alphabet"] == "dna"
    ok("build", "--out", tmp_path / "forced.parquet", "--input", tmp_path / "a.fa",
       tmp_path / "b.fa", "--alphabet", "protein")
    assert read(tmp_path / "forced.parquet")[1]["alphabet"] == "protein"
    assert summary_of(tmp_path / "forced.parquet")["alphabet"] == "protein"


def test_rna_u_becomes_t_and_lower_case_upper(tmp_path):
    write_fasta(tmp_path / "rna.fa", [("r1", "acguacguuuggcc"), ("r2", "GGGUUUAAACCC")])
    write_fasta(tmp_path / "dna.fa", [("d1", "ACGTTTGGCA")])
    ok("build", "--out", tmp_path / "d.parquet", "--input", tmp_path / "rna.fa", tmp_path / "dna.fa")
    rows, meta = read(tmp_path / "d.parquet")
    seqs = dict(zip(rows["id"], rows["sequence"]))
    assert seqs["r1"] == "ACGTACGTTTGGCC" and seqs["r2"] == "GGGTTTAAACCC"
    assert meta["alphabet"] == "dna"


def test_iupac_codes_counted(tmp_path):
    write_fasta(tmp_path / "a.fa", [("a1", "ACGTNNACGTACGTAC"), ("a2", "ACGTRYACGTACGTAC"),
                                    ("a3", "ACGTACGTACGTACGA")])
    write_fasta(tmp_path / "b.fa", [("b1", "NNNNNNNNNNACGTAC")])
    out = tmp_path / "d.parquet"
    ok("build", "--out", out, "--input", tmp_path / "a.fa", tmp_path / "b.fa")
    summary = summary_of(out)
    assert summary["ambiguous_residues"] == 2 + 2 + 10
    assert summary["records_with_ambiguous_residues"] == 3
    assert summary["records_kept"] == 4

    ok("build", "--out", tmp_path / "strict.parquet", "--input", tmp_path / "a.fa",
       tmp_path / "b.fa", "--max-ambiguous", "0.5")
    summary = summary_of(tmp_path / "strict.parquet")
    assert summary["dropped"]["too_many_ambiguous_residues"] == 1
    assert "b1" not in read(tmp_path / "strict.parquet")[0]["id"]


def test_min_length(tmp_path):
    write_fasta(tmp_path / "a.fa", [("short", "ACGT"), ("long", "ACGTACGTACGT")])
    write_fasta(tmp_path / "b.fa", [("b1", "GGGGCCCCAAAATTTT")])
    ok("build", "--out", tmp_path / "d.parquet", "--input", tmp_path / "a.fa", tmp_path / "b.fa",
       "--min-length", "10")
    rows, _ = read(tmp_path / "d.parquet")
    assert sorted(rows["id"]) == ["b1", "long"]
    assert summary_of(tmp_path / "d.parquet")["dropped"]["shorter_than_min_length"] == 1


def test_exact_duplicates_collapsed(tmp_path):
    write_fasta(tmp_path / "a.fa", [("a1", "ACGTACGTAAAC"), ("a2", "acgtacgtaaac"),
                                    ("a3", "TTTTACGTAAAC")])
    write_fasta(tmp_path / "b.fa", [("b1", "GGGGCCCCAAAA")])
    out = tmp_path / "d.parquet"
    ok("build", "--out", out, "--input", tmp_path / "a.fa", tmp_path / "b.fa")
    rows, _ = read(out)
    assert sorted(rows["id"]) == ["a1", "a3", "b1"]
    summary = summary_of(out)
    assert summary["dropped"]["duplicate_sequence"] == 1
    assert summary["records_read"] == 4 and summary["records_kept"] == 3


def test_conflicting_labels_dropped_and_reported(tmp_path):
    write_fasta(tmp_path / "a.fa", [("a1", "ACGTACGTAAAC"), ("a2", "TTTTACGTAAAC")])
    write_fasta(tmp_path / "b.fa", [("b1", "ACGTACGTAAAC"), ("b2", "GGGGCCCCAAAA")])
    out = tmp_path / "d.parquet"
    ok("build", "--out", out, "--input", tmp_path / "a.fa", tmp_path / "b.fa")
    rows, _ = read(out)
    assert sorted(rows["id"]) == ["a2", "b2"]
    summary = summary_of(out)
    assert summary["dropped"]["conflicting_labels"] == 2
    assert summary["conflicting_labels"] == [{"ids": ["a1", "b1"], "labels": ["a", "b"]}]


def test_multilabel_table(tmp_path, multilabel_csv):
    out = tmp_path / "d.parquet"
    ok("build", "--out", out, "--input", multilabel_csv)
    rows, meta = read(out)
    assert meta["task"] == "multilabel"
    assert meta["classes"] == ["A", "B", "C"]
    assert rows["label"][:4] == ["A", "B", "A;B", "C"]
    summary = summary_of(out)
    assert summary["task"] == "multilabel"
    assert summary["classes"] == {"A": 40, "B": 40, "C": 20}
    assert summary["label_sets"] == {"A": 20, "A;B": 20, "B": 20, "C": 20}


def test_multilabel_labels_sorted_and_deduplicated(tmp_path):
    rows = [("a", "ACGTACGTAC", "B;A"), ("b", "TTGGCCAATT", "A;A"), ("c", "GGGGCCCCTT", "B")]
    write_table(tmp_path / "t.tsv", rows)
    ok("build", "--out", tmp_path / "d.parquet", "--input", tmp_path / "t.tsv")
    got, meta = read(tmp_path / "d.parquet")
    assert got["label"] == ["A;B", "A", "B"]
    assert meta["task"] == "multilabel"


def test_summary_path_option(tmp_path, dna_fastas):
    out = tmp_path / "d.parquet"
    ok("build", "--out", out, "--input", dna_fastas["pos"], dna_fastas["neg"],
       "--summary", tmp_path / "elsewhere.json")
    assert json.loads((tmp_path / "elsewhere.json").read_text())["records_kept"] == 80
    assert not (tmp_path / "d.summary.json").exists()


def test_rename_duplicate_ids(tmp_path):
    write_fasta(tmp_path / "a.fa", [("x", "ACGTACGTAAAC"), ("y", "TTTTACGTAAAC")])
    write_fasta(tmp_path / "b.fa", [("x", "GGGGCCCCAAAA")])
    out = tmp_path / "d.parquet"
    ok("build", "--out", out, "--input", tmp_path / "a.fa", tmp_path / "b.fa",
       "--rename-duplicate-ids")
    rows, _ = read(out)
    assert sorted(rows["id"]) == ["x", "x_2", "y"]
    assert dict(zip(rows["id"], rows["label"]))["x_2"] == "b"
    assert summary_of(out)["renamed_duplicate_ids"] == 1


def test_min_class_size_drops_small_classes(tmp_path):
    big = write_fasta(tmp_path / "big.fa", [(f"b{i}", "ACGT" * 5 + "A" * i) for i in range(6)])
    small = write_fasta(tmp_path / "small.fa", [(f"s{i}", "TTGCA" * 4 + "C" * i) for i in range(2)])
    other = write_fasta(tmp_path / "other.fa", [(f"o{i}", "GGCAT" * 4 + "G" * i) for i in range(5)])
    out = tmp_path / "d.parquet"
    ok("build", "--input", big, small, other, "--min-class-size", "5", "--out", out)
    table = pq.read_table(out)
    assert sorted(set(table.column("label").to_pylist())) == ["big", "other"]
    summary = json.loads((tmp_path / "d.summary.json").read_text())
    assert summary["small_classes_dropped"] == {"small": 2}
    assert summary["dropped"]["class_smaller_than_min_class_size"] == 2
