"""Property-based fuzzing of what seqclass reads: the only outcomes allowed are success, or one
line on stderr naming the problem with exit status 1: never a traceback, never a file left at
the output path of a failed command.

Inputs are drawn by hypothesis: FASTA and FASTQ text built from valid and broken pieces
(headers without sequence, stray bytes, non-ASCII, truncation, gzip cut short; also read as
chromosomes, in blocks of a few residues, by predict), CSV/TSV
tables and samplesheets with missing or empty cells, and copies of a model directory of
tests/fixtures/models_v0.1 with its JSON edited. The budget is fixed (EXAMPLES per property,
derandomized, so CI sees the same cases every run); SEQCLASS_FUZZ_EXAMPLES raises it for a
longer local run.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqclass.cli import main

EXAMPLES = int(os.environ.get("SEQCLASS_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
LEGACY = Path(__file__).parent / "fixtures" / "models_v0.1"


def run(argv: list[str], out: Path) -> tuple[int, list[str]]:
    """main(argv) with stderr captured; checks the allowed outcomes and returns them."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exit_:  # argparse: usage errors
            rc = exit_.code if isinstance(exit_.code, int) else 2
    lines = [line for line in err.getvalue().splitlines() if "error" in line or "Traceback" in line]
    assert "Traceback" not in err.getvalue(), err.getvalue()
    if rc == 0:
        assert out.exists(), f"rc 0 but no {out}"
    else:
        assert rc == 1, (rc, err.getvalue())
        assert len(lines) == 1 and lines[0].startswith(f"seqclass {argv[0]}: error:"), err.getvalue()
        assert not out.exists(), f"{out} left behind after: {lines[0]}"
    return rc, lines


# ---------------------------------------------------------------- sequence files

RESIDUES = st.text(alphabet="ACGTNacgtRYKM-*XEFILPQ \t", min_size=0, max_size=80)
HEADERS = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=30)
JUNK = st.binary(max_size=12)


@st.composite
def fasta_bytes(draw) -> bytes:
    records = draw(st.lists(st.tuples(HEADERS, RESIDUES, st.booleans()), max_size=6))
    text = "".join((f">{h}\n" if with_header else "") + f"{s}\n" for h, s, with_header in records)
    data = text.encode("utf-8", errors="surrogatepass")
    if draw(st.booleans()):  # a stray byte run somewhere
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(JUNK) + data[at:]
    if draw(st.booleans()):  # cut short
        data = data[:draw(st.integers(0, len(data)))]
    return data


@st.composite
def fastq_bytes(draw) -> bytes:
    n = draw(st.integers(0, 4))
    parts = []
    for i in range(n):
        seq = draw(st.text(alphabet="ACGTN", max_size=30))
        qual = draw(st.text(alphabet="!#5?I", min_size=0, max_size=35))
        parts.append(f"@r{i}\n{seq}\n{draw(st.sampled_from(['+', '', '-']))}\n{qual}\n")
    data = "".join(parts).encode()
    return data[:draw(st.integers(0, len(data)))] if draw(st.booleans()) else data


@FUZZ
@given(data=fasta_bytes(), gz=st.booleans(), label=st.sampled_from(["pos", "", "a=b"]))
def test_build_on_fuzzed_fasta(data, gz, label):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("in.fa.gz" if gz else "in.fa")
        payload = gzip.compress(data) if gz else data
        if gz and data and len(payload) > 20:
            payload = payload[:-7]  # a gzip cut short
        path.write_bytes(payload)
        other = Path(tmp) / "neg.fa"
        other.write_text(">n1\nACGTACGTACGTAAAA\n>n2\nTTTTACGTACGTAGGA\n")
        out = Path(tmp) / "d.parquet"
        source = f"{label}={path}" if label else str(path)
        run(["build", "--input", source, f"neg={other}", "--out", str(out)], out)


@st.composite
def chromosome_fasta_bytes(draw) -> bytes:
    """Records of several DNA lines (so that, in blocks of 16, most are read as chromosomes),
    one in five with a drawn line of any residues, a stray byte or a cut."""
    dna = st.text(alphabet="ACGTNacgtn", min_size=1, max_size=40)
    header = st.text(alphabet="abcXYZ019_|.: ", min_size=1, max_size=20)
    records = [(draw(header), draw(st.lists(dna, min_size=1, max_size=8)))
               for _ in range(draw(st.integers(1, 4)))]
    if draw(st.integers(0, 4)) == 0:
        lines = records[-1][1]
        lines.insert(draw(st.integers(0, len(lines))), draw(RESIDUES))
    text = "".join(f">{h}\n" + "".join(f"{x}\n" for x in lines) for h, lines in records)
    data = text.encode()
    if draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(JUNK) + data[at:]
    if draw(st.integers(0, 4)) == 0:
        data = data[:draw(st.integers(0, len(data)))]
    return data


@FUZZ
@given(data=chromosome_fasta_bytes(), family=st.sampled_from(["kmer-logreg", "cnn"]),
       whole=st.booleans())
def test_predict_on_fuzzed_fasta_read_as_chromosomes(data, family, whole):
    """Blocks of 16 residues: every record over 16 is read, checked and scored as it streams."""
    from seqclass.io import sequences
    from seqclass.sequence import windows

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as patches:
        for module, name in ((sequences, "JOIN_BLOCK"), (windows, "BLOCK")):
            patches.enter_context(_patched(module, name, 16))
        model = Path(tmp) / "model"
        shutil.copytree(LEGACY / family, model)
        if whole:
            config = json.loads((model / "config.json").read_text())
            config["window"] = config["stride"] = None
            (model / "config.json").write_text(json.dumps(config))
        path = Path(tmp) / "in.fa"
        path.write_bytes(data)
        out = Path(tmp) / "p.tsv"
        run(["predict", "--model", str(model), "--input", str(path), "--out", str(out)], out)


@contextlib.contextmanager
def _patched(module, name: str, value):
    before = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, before)


@FUZZ
@given(data=fastq_bytes())
def test_build_on_fuzzed_fastq(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reads.fq"
        path.write_bytes(data)
        other = Path(tmp) / "neg.fa"
        other.write_text(">n1\nACGTACGTACGTAAAA\n")
        out = Path(tmp) / "d.parquet"
        run(["build", "--input", f"pos={path}", f"neg={other}", "--out", str(out)], out)


# ---------------------------------------------------------------- tables and samplesheets

CELLS = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\n\r,\t\""), max_size=12)


@FUZZ
@given(header=st.lists(st.sampled_from(["id", "sequence", "label", "x", ""]), min_size=1,
                       max_size=4),
       rows=st.lists(st.lists(CELLS, min_size=0, max_size=5), max_size=5),
       sep=st.sampled_from([",", "\t"]))
def test_build_on_fuzzed_tables(header, rows, sep):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("t.csv" if sep == "," else "t.tsv")
        path.write_text("\n".join(sep.join(r) for r in [header, *rows]) + "\n")
        out = Path(tmp) / "d.parquet"
        run(["build", "--input", str(path), "--out", str(out)], out)


@FUZZ
@given(header=st.sampled_from(["sample,label,file", "sample,file", "label,file", "file,label,sample"]),
       rows=st.lists(st.tuples(CELLS, CELLS, st.sampled_from(["a.fa", "", "missing.fa", "."])),
                     max_size=4))
def test_build_on_fuzzed_samplesheets(header, rows):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "a.fa").write_text(">a1\nACGTACGTAAAC\n>a2\nACGTTTGTAAAC\n")
        sheet = Path(tmp) / "sheet.csv"
        sheet.write_text("\n".join([header, *(",".join(r) for r in rows)]) + "\n")
        out = Path(tmp) / "d.parquet"
        run(["build", "--samplesheet", str(sheet), "--out", str(out)], out)


# ---------------------------------------------------------------- model directories

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10 ** 6) | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6)


@FUZZ
@given(family=st.sampled_from(["kmer-logreg", "gc-logreg", "cnn", "awd-lstm"]),
       target=st.sampled_from(["config.json", "labels.json", "params"]),
       key=st.sampled_from(["family", "alphabet", "task", "window", "stride", "format_version",
                            "k", "channels", "max_len", "token_k", "batch_size", "kmer_stride"]),
       value=JSON_VALUES, drop=st.booleans())
def test_predict_with_a_fuzzed_model_directory(family, target, key, value, drop):
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(shutil.copytree(LEGACY / family, Path(tmp) / "m"))
        if target == "labels.json":
            (model / "labels.json").write_text(json.dumps(value))
        else:
            config = json.loads((model / "config.json").read_text())
            doc = config if target == "config.json" else config["params"]
            if drop:
                doc.pop(key, None)
            else:
                doc[key] = value
            (model / "config.json").write_text(json.dumps(config))
        out = Path(tmp) / "p.tsv"
        run(["predict", "--model", str(model), "--input", str(LEGACY / "queries.fa"),
             "--out", str(out)], out)
