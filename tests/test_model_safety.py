"""A model directory is data: loading it never runs its code without the user's
--trust-remote-code, and a tampered directory is refused in one line naming the file.

Model directories here are copies of tests/fixtures/models_v0.1 (written by seqclass 0.1.0)
edited the way a careless or hostile sender would, and a Hugging Face bundle whose auto_map
points at a Python file that leaves a marker file if it is ever imported.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import fails
from safetensors.numpy import load_file, save_file

from seqclass.cli import main
from seqclass.errors import InputError
from seqclass.models import store

LEGACY = Path(__file__).parent / "fixtures" / "models_v0.1"
QUERIES = LEGACY / "queries.fa"


def _predict(model: Path, out: Path, *flags: str) -> int:
    return main(["predict", "--model", str(model), "--input", str(QUERIES), "--out", str(out), *flags])


def _predict_fails(capsys, model: Path, out: Path, *mentions: str, flags=()) -> str:
    """predict (with `flags`) refuses `model` in one line holding `mentions` (conftest.fails)."""
    return fails(capsys, ["predict", "--model", model, "--input", QUERIES, "--out", out, *flags],
                 mentions)


def _copy(family: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(LEGACY / family, tmp_path / family))


# ---------------------------------------------------------------- code in a model directory

def _planted_hf_model(root: Path, marker: Path) -> Path:
    """An `hf` model directory whose bundle maps AutoConfig to code that writes `marker`."""
    model = root / "shared_model"
    (model / "hf").mkdir(parents=True)
    params = {"pretrained": "some/hub-model", "trust_remote_code": True}  # the file's say
    (model / "config.json").write_text(json.dumps({
        "format_version": 1, "family": "hf", "alphabet": "dna", "task": "multiclass",
        "window": None, "stride": None, "params": params}))
    (model / "labels.json").write_text(json.dumps(["neg", "pos"]))
    (model / "training.json").write_text(json.dumps({"seed": 0}))
    (model / "hf" / "config.json").write_text(json.dumps({
        "model_type": "evil", "auto_map": {"AutoConfig": "evil.EvilConfig",
                                           "AutoModelForSequenceClassification": "evil.EvilModel"}}))
    (model / "hf" / "tokenizer_config.json").write_text(json.dumps({
        "auto_map": {"AutoTokenizer": ["evil.EvilTokenizer", None]}}))
    (model / "hf" / "evil.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    return model


@pytest.mark.parametrize("flags", [(), ("--trust-remote-code",)])
def test_a_model_directory_never_runs_its_code_unasked_or_unrecorded(tmp_path, capsys, flags):
    """Without the flag the code is refused; with it, code not recorded at training is too."""
    pytest.importorskip("transformers")
    marker = tmp_path / "code_ran"
    model = _planted_hf_model(tmp_path, marker)
    line = _predict_fails(capsys, model, tmp_path / "p.tsv", str(model), "hf/evil.py",
                          "auto_map in hf/config.json", flags=flags)
    assert ("--trust-remote-code only if you trust" in line) == (not flags)
    assert not marker.exists()
    assert not (tmp_path / "p.tsv").exists()


def test_code_runs_only_as_recorded_at_training(tmp_path):
    """check_code: the recorded hashes of the bundle's Python files, nothing else."""
    model = tmp_path / "m"
    (model / "hf").mkdir(parents=True)
    code = model / "hf" / "modeling_x.py"
    code.write_text("X = 1\n")
    (model / "training.json").write_text(json.dumps({"code_sha256": store.code_files(model / "hf")}))
    store.check_code(model, "hf", trust_remote_code=True)  # as recorded: allowed
    with pytest.raises(InputError, match="trust-remote-code"):
        store.check_code(model, "hf", trust_remote_code=False)
    code.write_text("X = 2\n")  # changed after training
    with pytest.raises(InputError, match="not the code recorded"):
        store.check_code(model, "hf", trust_remote_code=True)


def test_no_step_reads_a_pickle(tmp_path, capsys):
    """A pickle beside the weights is never loaded (a planted one would leave its marker)."""
    model = _copy("kmer-logreg", tmp_path)
    marker = tmp_path / "unpickled"
    payload = (b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR.")
    for name in ("model.pkl", "pytorch_model.bin", "model.pt"):
        (model / name).write_bytes(payload)
    assert _predict(model, tmp_path / "p.tsv") == 0
    assert not marker.exists()


# ---------------------------------------------------------------- tampered directories

@pytest.mark.parametrize("labels", [["only"], ["a", "a"], {"a": 0, "b": 1}, ["a", ""], "ab"])
def test_tampered_labels_are_refused(tmp_path, capsys, labels):
    model = _copy("kmer-logreg", tmp_path)
    (model / "labels.json").write_text(json.dumps(labels))
    _predict_fails(capsys, model, tmp_path / "p.tsv", "labels.json", "two or more distinct class names")
    assert not (tmp_path / "p.tsv").exists()


@pytest.mark.parametrize("family", ["kmer-logreg", "cnn"])
def test_a_nan_weight_is_refused(tmp_path, capsys, family):
    model = _copy(family, tmp_path)
    tensors = load_file(str(model / "model.safetensors"))
    name = sorted(n for n, v in tensors.items() if np.issubdtype(v.dtype, np.floating))[0]
    tensors[name] = tensors[name].copy()
    tensors[name].flat[0] = np.nan
    save_file(tensors, str(model / "model.safetensors"))
    _predict_fails(capsys, model, tmp_path / "p.tsv", "model.safetensors", f"tensor {name} holds NaN")


@pytest.mark.parametrize("family, edit, mentions", [
    ("kmer-logreg", {"window": -5}, "window -5"),
    ("kmer-logreg", {"stride": 0}, "stride 0"),
    ("kmer-logreg", {"task": "regression"}, "task 'regression'"),
    ("kmer-logreg", {"alphabet": "rna"}, "alphabet 'rna'"),
    ("kmer-logreg", {"params": {"k": -1}}, "--kmer-size -1"),
    ("kmer-logreg", {"params": {"k": 99}}, "--kmer-size 99"),
    ("kmer-logreg", {"params": {"k": 4}}, "tensor idf has shape"),  # weights of another k
    ("cnn", {"params": {"batch_size": 0}}, "--batch-size 0: must be at least 1"),
    ("cnn", {"params": {"channels": 7}}, "do not fit"),
])
def test_a_tampered_config_is_refused(tmp_path, capsys, family, edit, mentions):
    model = _copy(family, tmp_path)
    config = json.loads((model / "config.json").read_text())
    params = {**config["params"], **edit.pop("params", {})}
    (model / "config.json").write_text(json.dumps({**config, **edit, "params": params}))
    _predict_fails(capsys, model, tmp_path / "p.tsv", mentions)
    assert not (tmp_path / "p.tsv").exists()


@pytest.mark.parametrize("family, edit, mention", [
    ("cnn", {"channels": 0}, "--channels 0: must be at least 1"),
    ("cnn", {"pooling": "flatten", "max_len": 0}, "--pooling flatten needs --max-len"),
    ("kmer-logreg", {"kmer_stride": 0}, "--kmer-stride 0: must be at least 1"),
])
def test_a_tampered_family_option_is_refused_naming_config_json(tmp_path, capsys, family, edit,
                                                                 mention):
    """The family Params' own checks (__post_init__) run on config.json's values too."""
    model = _copy(family, tmp_path)
    config = json.loads((model / "config.json").read_text())
    config["params"].update(edit)
    (model / "config.json").write_text(json.dumps(config))
    _predict_fails(capsys, model, tmp_path / "p.tsv", f"{model / 'config.json'}: params: {mention}")
    assert not (tmp_path / "p.tsv").exists()


def test_a_tampered_class_count_is_refused(tmp_path, capsys):
    """labels.json naming three classes for weights of two."""
    model = _copy("kmer-logreg", tmp_path)
    (model / "labels.json").write_text(json.dumps(["a", "b", "c"]))
    _predict_fails(capsys, model, tmp_path / "p.tsv", "tensor coef has shape")


# ---------------------------------------------------------------- evaluate's rows and labels

def test_evaluate_without_a_split_column_needs_split_all(pipeline, tmp_path, capsys):
    """A dataset table has no split: scoring it all as "test" would count training rows."""
    args = ["evaluate", "--model", str(pipeline.gc_model), "--dataset", str(pipeline.dataset),
            "--out", str(tmp_path / "e")]
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has no split column" in err[0] and "--split all" in err[0], err
    assert not (tmp_path / "e").exists()
    assert main([*args, "--split", "all"]) == 0
    assert json.loads((tmp_path / "e" / "metrics.json").read_text())["split"] == "all"


def test_a_multilabel_dataset_under_a_multiclass_model_is_refused(pipeline, tmp_path, capsys):
    """A test row labelled with both of the model's classes ("neg;pos")."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(pipeline.split)
    labels = table.column("label").to_pylist()
    first_test = table.column("split").to_pylist().index("test")
    labels[first_test] = "neg;pos"
    table = table.set_column(table.schema.get_field_index("label"), "label", pa.array(labels))
    pq.write_table(table, tmp_path / "multi.parquet")
    assert main(["evaluate", "--model", str(pipeline.model), "--dataset",
                 str(tmp_path / "multi.parquet"), "--out", str(tmp_path / "e")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is multi-class (one class per sequence)" in err[0], err


# ---------------------------------------------------------------- --alphabet auto

def test_auto_alphabet_reports_a_mixed_file_instead_of_guessing(tmp_path, capsys):
    from conftest import write_fasta

    fasta = write_fasta(tmp_path / "mixed.fa", [(f"d{i}", "ACGTACGTTAGC" * 5) for i in range(9)]
                        + [("p1", "MKVLEFIPQRSTWY" * 4)])
    assert main(["build", "--input", str(fasta), "--out", str(tmp_path / "d.parquet")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "mixes DNA (9 records) and protein (1" in err[0], err
    assert str(fasta) in err[0] and "'p1'" in err[0] and "--alphabet" in err[0]
    assert not (tmp_path / "d.parquet").exists()


def test_auto_alphabet_keeps_iupac_heavy_dna_and_honours_an_explicit_one(tmp_path):
    import pyarrow.parquet as pq
    from conftest import write_fasta

    iupac = "ACGTNNRYSWKMACGTNNNNRYKM" * 4  # a quarter A/C/G/T: was taken for protein
    fasta = write_fasta(tmp_path / "iupac.fa", [("a", iupac), ("b", iupac[::-1])])
    assert main(["build", "--input", str(fasta), "--out", str(tmp_path / "auto.parquet"),
                 "--max-ambiguous", "1"]) == 0
    meta = json.loads(pq.read_schema(tmp_path / "auto.parquet").metadata[b"seqclass"])
    assert meta["alphabet"] == "dna"
    assert main(["build", "--input", str(fasta), "--alphabet", "protein",
                 "--out", str(tmp_path / "prot.parquet")]) == 0
    meta = json.loads(pq.read_schema(tmp_path / "prot.parquet").metadata[b"seqclass"])
    assert meta["alphabet"] == "protein"


def test_weights_are_as_readable_as_the_files_beside_them(pipeline, tmp_path):
    """safetensors writes 0600 whatever the umask: a shared model directory hid its weights."""
    out = tmp_path / "m"
    assert main(["train", "--dataset", str(pipeline.split), "--family", "kmer-logreg",
                 "--kmer-size", "3", "--out", str(out)]) == 0
    modes = {p.name: p.stat().st_mode & 0o777 for p in out.iterdir() if p.is_file()}
    assert modes["model.safetensors"] == modes["config.json"], modes
    lm = tmp_path / "lm"  # the language model of pretrain, written by another writer
    assert main(["pretrain", "--input", str(QUERIES), "--kmer-size", "3", "--kmer-stride", "1",
                 "--embed-dim", "8", "--hidden", "8", "--layers", "1", "--bptt", "10",
                 "--batch-size", "4", "--max-steps", "1", "--device", "cpu", "--out", str(lm)]) == 0
    modes = {p.name: p.stat().st_mode & 0o777 for p in lm.iterdir() if p.is_file()}
    assert modes["model.safetensors"] == modes["config.json"], modes


# ---------------------------------------------------------------- readers

def _build_fails(tmp_path, capsys, argv, *mentions):
    out = tmp_path / "d.parquet"
    fails(capsys, ["build", *argv, "--out", out], mentions)
    assert not out.exists()


def test_a_non_ascii_byte_is_named_by_line_offset_and_record(tmp_path, capsys):
    """Past the reader's first 8 kB buffer, where the offset used to be the buffer's."""
    body = b"".join(b">rec%d\n" % i + b"ACGT" * 30 + b"\n" for i in range(300))
    bad = body + b">bad_one\nACGT\xe9ACGT\n"
    (tmp_path / "pos.fa").write_bytes(bad)
    (tmp_path / "neg.fa").write_text(">n\nACGTACGTAAAA\n")
    offset = bad.index(bytes([0xE9]))
    _build_fails(tmp_path, capsys, ["--input", f"pos={tmp_path / 'pos.fa'}", f"neg={tmp_path / 'neg.fa'}"],
                 "'bad_one'", "0xe9", "line 602", f"byte {offset}")


def test_an_empty_id_in_a_table_is_refused(tmp_path, capsys):
    (tmp_path / "t.csv").write_text("id,sequence,label\n,ACGTACGT,pos\nb,ACGTTTTT,neg\n")
    _build_fails(tmp_path, capsys, ["--input", str(tmp_path / "t.csv")], "row 2", "empty id")


def test_an_empty_samplesheet_label_is_refused(tmp_path, capsys):
    (tmp_path / "a.fa").write_text(">a\nACGTACGTAAAC\n")
    (tmp_path / "s.csv").write_text(f"sample,label,file\nS1,,{tmp_path / 'a.fa'}\n")
    _build_fails(tmp_path, capsys, ["--samplesheet", str(tmp_path / "s.csv")], "row 2",
                 "empty 'label'")


# ---------------------------------------------------------------- family options

def test_deep_training_options_are_refused_before_any_file_is_read(tmp_path, capsys):
    """The dataset does not exist: the refusal comes from the Params' own checks."""
    for flags, message in ((["--batch-size", "0"], "--batch-size 0: must be at least 1"),
                           (["--epochs", "0"], "give --epochs of at least 1 or --max-steps"),
                           (["--dropout", "1"], "--dropout 1.0: must be in [0, 1)")):
        assert main(["train", "--dataset", str(tmp_path / "missing.parquet"), "--family", "cnn",
                     *flags, "--out", str(tmp_path / "m")]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"seqclass train: error: {message}"], err


def test_a_parameter_of_the_wrong_type_in_config_json_is_refused(tmp_path, capsys):
    model = _copy("cnn", tmp_path)
    config = json.loads((model / "config.json").read_text())
    config["params"]["batch_size"] = "32"
    (model / "config.json").write_text(json.dumps(config))
    _predict_fails(capsys, model, tmp_path / "p.tsv", "config.json", "params: batch_size '32' is not of type")
