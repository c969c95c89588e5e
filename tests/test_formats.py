"""docs/formats.md against real outputs: every column/key documented with its type, and present.

The document is parsed simply: a `##`–`####` heading names a file (backticks ignored); the
first markdown table below it, before the next heading, lists that file's columns, keys or
tensors as `| name | type | description |`. A name with `<...>` is a pattern. A description
starting with "Only `tag`." marks an entry present exactly when that tag applies.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ok
from safetensors.numpy import load_file

FORMATS = Path(__file__).resolve().parents[1] / "docs" / "formats.md"

SECTIONS = [
    "dataset.parquet", "dataset.summary.json", "split.parquet", "split.leakage.tsv",
    "split.summary.json", "chunks.parquet", "seqclass metadata", "model/config.json",
    "model/labels.json", "model/model.safetensors (kmer-logreg)",
    "model/model.safetensors (gc-logreg)", "model/training.json", "eval/metrics.json",
    "eval/predictions.tsv", "predictions.tsv", "tracks.tsv", "model/ood.json", "eval/abstain.tsv",
    "interpret/sequences.tsv", "interpret/ism.tsv", "interpret/saliency.tsv",
]
TABLE_TYPES = {"string", "int64", "float64", "bool"}
TENSOR_TYPES = {"float32", "float64", "int64", "uint8"}
JSON_TYPES = {"string", "integer", "number", "boolean", "object", "array", "null"}


# ---------------------------------------------------------------- parsing the document

@dataclass
class Entry:
    name: str
    type: str
    description: str

    @property
    def pattern(self) -> re.Pattern | None:
        if "<" not in self.name:
            return None
        parts = re.split(r"<[^>]+>", self.name)
        return re.compile(".+".join(re.escape(p) for p in parts))

    @property
    def only(self) -> set[str] | None:
        m = re.match(r"Only ((?:`[^`]+`(?:,\s*|\s+or\s+)?)+)\.", self.description)
        return set(re.findall(r"`([^`]+)`", m.group(1))) if m else None

    def applies(self, tags: set[str]) -> bool:
        return self.only is None or bool(self.only & tags)


@dataclass
class Section:
    kind: str  # the first header cell: column | key | tensor
    entries: list[Entry]


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse(text: str) -> dict[str, Section]:
    sections: dict[str, Section] = {}
    current: str | None = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = re.match(r"^#{2,4}\s+(.+?)\s*$", line)
        if heading:
            current = heading.group(1).replace("`", "")
        elif line.startswith("|") and current is not None and current not in sections:
            table = []
            while i < len(lines) and lines[i].startswith("|"):
                table.append(lines[i])
                i += 1
            header = [c.lower() for c in _cells(table[0])]
            assert header[1:] == ["type", "description"], f"{current}: header {header}"
            assert set(_cells(table[1])[0]) <= set("-: "), f"{current}: no separator row"
            entries = []
            for row in table[2:]:
                cells = _cells(row)
                assert len(cells) == 3, f"{current}: row needs 3 cells: {row}"
                entries.append(Entry(cells[0].replace("`", ""), cells[1].replace("`", "").lower(),
                                     cells[2]))
            sections[current] = Section(header[0], entries)
            current = None
            continue
        i += 1
    return sections


@pytest.fixture(scope="module")
def doc() -> dict[str, Section]:
    return parse(FORMATS.read_text())


# ---------------------------------------------------------------- observed types

def arrow_type(t: pa.DataType) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_boolean(t):
        return "bool"
    return {"int64": "int64", "double": "float64", "float": "float32"}.get(str(t), str(t))


def parquet_columns(path: Path) -> dict[str, str]:
    schema = pq.read_schema(path)
    return {f.name: arrow_type(f.type) for f in schema}


def _is(values, conv) -> bool:
    try:
        for v in values:
            conv(v)
    except ValueError:
        return False
    return True


def tsv_columns(path: Path) -> dict[str, str]:
    """Each column's type as written: bool, int64, float64 (NA allowed), string, or null (all NA)."""
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    assert len(frame), f"{path} has no rows to check"
    out = {}
    for name in frame.columns:
        values = list(frame[name])
        present = [v for v in values if v != "NA"]
        if not present:
            out[name] = "null"
        elif all(v in ("True", "False") for v in present):
            out[name] = "bool"
        elif _is(present, int):
            out[name] = "int64"
        elif _is(present, float):
            out[name] = "float64"
        else:
            out[name] = "string"
    return out


def table_type_ok(documented: str, observed: str, text: bool) -> bool:
    if documented == observed or observed == "null":
        return True
    if text:  # a text column holds numbers as well as names; integers are valid floats
        return documented == "string" or (documented == "float64" and observed == "int64")
    return False


def json_type_ok(documented: str, value) -> bool:
    checks = {
        "null": lambda v: v is None,
        "boolean": lambda v: isinstance(v, bool),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "string": lambda v: isinstance(v, str),
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
    }
    return any(checks[t.strip()](value) for t in documented.split(" or "))


# ---------------------------------------------------------------- checks

def check_columns(section: Section, observed: dict[str, str], where: str, text: bool,
                  tags: frozenset[str] = frozenset()) -> None:
    entries = [e for e in section.entries if e.applies(set(tags))]
    for name, typ in observed.items():
        match = next((e for e in entries if e.pattern is None and e.name == name), None) or next(
            (e for e in entries if e.pattern is not None and e.pattern.fullmatch(name)), None)
        assert match is not None, f"{where}: column {name!r} is not documented"
        assert table_type_ok(match.type, typ, text), \
            f"{where}: column {name!r} is {typ}, documented {match.type}"
    for e in entries:
        if e.pattern is None:
            assert e.name in observed, f"{where}: documented column {e.name!r} is missing"
        else:
            assert any(e.pattern.fullmatch(n) for n in observed), \
                f"{where}: no column matches the documented pattern {e.name!r}"
    for e in section.entries:
        if not e.applies(set(tags)):
            assert e.name not in observed, f"{where}: {e.name!r} present, documented as {e.only}"


def check_json(section: Section, doc_json, where: str, tags: frozenset[str] = frozenset()) -> None:
    if [e.name for e in section.entries] == ["[i]"]:
        assert isinstance(doc_json, list) and doc_json, f"{where}: expected a JSON array"
        for v in doc_json:
            assert json_type_ok(section.entries[0].type, v), f"{where}: element {v!r}"
        return
    assert isinstance(doc_json, dict), f"{where}: expected a JSON object"
    documented = {e.name: e for e in section.entries}
    for key, value in doc_json.items():
        assert key in documented, f"{where}: key {key!r} is not documented"
        e = documented[key]
        assert e.applies(set(tags)), f"{where}: key {key!r} present, documented as {e.only}"
        assert json_type_ok(e.type, value), f"{where}: {key!r} = {value!r} is not {e.type}"
    for e in section.entries:
        if e.applies(set(tags)):
            assert e.name in doc_json, f"{where}: documented key {e.name!r} is missing"


def read_json(path: Path):
    def no_nan(token):
        raise AssertionError(f"{path}: {token} is not JSON")
    return json.loads(path.read_text(), parse_constant=no_nan)


def parquet_meta(path: Path) -> dict:
    return json.loads(pq.read_schema(path).metadata[b"seqclass"])


# ---------------------------------------------------------------- the document itself

def test_document_parses(doc):
    for name in SECTIONS:
        assert name in doc, f"docs/formats.md has no section {name!r} with a table"
    for name, section in doc.items():
        assert section.kind in ("column", "key", "tensor"), name
        assert section.entries, name
        names = [e.name for e in section.entries]
        assert len(names) == len(set(names)), f"{name}: a name is documented twice"
        vocabulary = {"column": TABLE_TYPES, "tensor": TENSOR_TYPES, "key": JSON_TYPES}[section.kind]
        for e in section.entries:
            for t in e.type.split(" or "):
                assert t.strip() in vocabulary, f"{name}: {e.name} has unknown type {e.type!r}"


def test_coordinates_are_stated(doc):
    text = FORMATS.read_text()
    assert "0-based" in text and "half-open" in text


def test_parser_sees_patterns_and_conditions(doc):
    prob = next(e for e in doc["predictions.tsv"].entries if e.name == "prob_<class>")
    assert prob.pattern.fullmatch("prob_pos") and not prob.pattern.fullmatch("label")
    metrics = {e.name: e for e in doc["eval/metrics.json"].entries}
    assert metrics["threshold"].only == {"multilabel"}
    assert metrics["positive_class"].only == {"binary"}
    assert metrics["accuracy"].only is None


# ---------------------------------------------------------------- real outputs

@pytest.fixture(scope="module")
def outputs(pipeline, tmp_path_factory):
    """Outputs the session pipeline does not make: predictions, tracks, multilabel evaluation."""
    root = tmp_path_factory.mktemp("formats")
    ok("predict", "--model", pipeline.chunk_model, "--input", pipeline.long_fasta,
       "--out", root / "predictions.tsv", "--tracks", root / "tracks.tsv")
    ok("predict", "--model", pipeline.chunk_model, "--input", pipeline.long_fasta,
       "--out", root / "predictions.parquet", "--aggregate", "max")
    ok("predict", "--model", pipeline.multilabel_model, "--input", pipeline.long_fasta,
       "--out", root / "multi_predictions.parquet")
    ok("evaluate", "--model", pipeline.multilabel_model, "--dataset", pipeline.multilabel_split,
       "--out", root / "multi_eval")
    ok("evaluate", "--model", pipeline.chunk_model, "--dataset", pipeline.split,
       "--out", root / "window_eval", "--level", "window")
    ok("chunk", "--dataset", pipeline.dataset, "--out", root / "chunks_nosplit.parquet",
       "--window", "100", "--samples-per-seq", "2", "--rc-prob", "0.5", "--augment-splits", "")
    return root


def test_dataset_parquet(doc, pipeline):
    check_columns(doc["dataset.parquet"], parquet_columns(pipeline.dataset), "dataset.parquet",
                  text=False)


def test_split_parquet(doc, pipeline):
    check_columns(doc["split.parquet"], parquet_columns(pipeline.split), "split.parquet", text=False)
    check_columns(doc["split.parquet"], parquet_columns(pipeline.multilabel_split),
                  "multi_split.parquet", text=False)


def test_chunks_parquet(doc, pipeline, outputs):
    check_columns(doc["chunks.parquet"], parquet_columns(pipeline.chunks), "chunks.parquet",
                  text=False)
    check_columns(doc["chunks.parquet"], parquet_columns(outputs / "chunks_nosplit.parquet"),
                  "chunks_nosplit.parquet", text=False)


@pytest.mark.parametrize("which, tags", [
    ("dataset", frozenset()), ("split", frozenset({"split"})),
    ("chunks", frozenset({"split", "chunk"})), ("protein_dataset", frozenset()),
    ("multilabel_split", frozenset({"split"}))])
def test_seqclass_metadata(doc, pipeline, which, tags):
    path = getattr(pipeline, which)
    check_json(doc["seqclass metadata"], parquet_meta(path), f"{path.name} metadata", tags)


def test_seqclass_metadata_of_unsplit_chunks(doc, outputs):
    path = outputs / "chunks_nosplit.parquet"
    check_json(doc["seqclass metadata"], parquet_meta(path), f"{path.name} metadata",
               frozenset({"chunk"}))


def test_build_summary(doc, pipeline):
    for name in ("dataset.summary.json", "multi.summary.json", "protein.summary.json"):
        check_json(doc["dataset.summary.json"], read_json(pipeline.root / name), name)


def test_split_outputs(doc, pipeline):
    check_columns(doc["split.leakage.tsv"], tsv_columns(pipeline.root / "split.leakage.tsv"),
                  "split.leakage.tsv", text=True)
    for name in ("split.summary.json", "multi_split.summary.json"):
        check_json(doc["split.summary.json"], read_json(pipeline.root / name), name)


@pytest.mark.parametrize("which", ["model", "chunk_model", "gc_model", "multilabel_model"])
def test_model_directory(doc, pipeline, which):
    model = getattr(pipeline, which)
    check_json(doc["model/config.json"], read_json(model / "config.json"), f"{which}/config.json")
    check_json(doc["model/labels.json"], read_json(model / "labels.json"), f"{which}/labels.json")
    check_json(doc["model/training.json"], read_json(model / "training.json"),
               f"{which}/training.json")
    check_json(doc["model/ood.json"], read_json(model / "ood.json"), f"{which}/ood.json")
    config = read_json(model / "config.json")
    section = doc[f"model/model.safetensors ({config['family']})"]
    tensors = load_file(str(model / "model.safetensors"))
    check_columns(section, {k: str(v.dtype) for k, v in tensors.items()},
                  f"{which}/model.safetensors", text=False)


def test_metrics_json(doc, pipeline, outputs):
    check_json(doc["eval/metrics.json"], read_json(pipeline.evaluation / "metrics.json"),
               "metrics.json (binary)", frozenset({"multiclass", "binary"}))
    check_json(doc["eval/metrics.json"], read_json(outputs / "window_eval" / "metrics.json"),
               "metrics.json (window level)", frozenset({"multiclass", "binary"}))
    check_json(doc["eval/metrics.json"], read_json(outputs / "multi_eval" / "metrics.json"),
               "metrics.json (multilabel)", frozenset({"multilabel"}))


def test_evaluation_predictions(doc, pipeline, outputs):
    for path in (pipeline.evaluation / "predictions.tsv", outputs / "multi_eval" / "predictions.tsv",
                 outputs / "window_eval" / "predictions.tsv"):
        check_columns(doc["eval/predictions.tsv"], tsv_columns(path), str(path), text=True)


def test_abstain_tsv(doc, pipeline, outputs):
    for path in (pipeline.evaluation / "abstain.tsv", outputs / "multi_eval" / "abstain.tsv",
                 outputs / "window_eval" / "abstain.tsv"):
        check_columns(doc["eval/abstain.tsv"], tsv_columns(path), str(path), text=True)


def test_predictions(doc, outputs, pipeline, tmp_path):
    section = doc["predictions.tsv"]
    check_columns(section, tsv_columns(outputs / "predictions.tsv"), "predictions.tsv", text=True,
                  tags=frozenset({"multiclass"}))
    ok("predict", "--model", pipeline.chunk_model, "--short-model", pipeline.model,
       "--input", pipeline.long_fasta, "--out", tmp_path / "routed.tsv")
    check_columns(section, tsv_columns(tmp_path / "routed.tsv"), "routed predictions.tsv", text=True,
                  tags=frozenset({"multiclass", "--short-model"}))
    for name, task in (("predictions.parquet", "multiclass"), ("multi_predictions.parquet", "multilabel")):
        check_columns(section, parquet_columns(outputs / name), name, text=False, tags=frozenset({task}))


def test_tracks(doc, outputs):
    check_columns(doc["tracks.tsv"], tsv_columns(outputs / "tracks.tsv"), "tracks.tsv", text=True)


@pytest.mark.parametrize("which, extra", [
    ("chunk_model", ["--ids", "long_pos", "--max-length", "700"]),
    ("multilabel_model", ["--max-sequences", "2", "--target", "B", "--score", "logit"]),
])
def test_interpretation(doc, pipeline, tmp_path, which, extra):
    out = tmp_path / "interp"
    ok("interpret", "--model", getattr(pipeline, which), "--input", pipeline.long_fasta,
       "--out", out, *extra)
    for name in ("sequences.tsv", "ism.tsv", "saliency.tsv"):
        check_columns(doc[f"interpret/{name}"], tsv_columns(out / name), f"{which} {name}",
                      text=True)
