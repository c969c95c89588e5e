"""assets/recipes/: each seed use case as a pipeline params file and the CLI chain it stands for.

(a) every <name>.yml parses; every key is a param of nextflow.config and nextflow_schema.json,
    the values satisfy the schema (types, enums, patterns, bounds: jsonschema on the schema
    itself), the `seqclass` options inside its *_args values exist, and the files it names exist
    (those in the repository always, those in ../shared/data where that folder is present);
(b) every <name>_samplesheet.csv satisfies assets/schema_input.json and names existing files;
(c) every `seqclass` command of every <name>.sh uses a real step and real options, and
    docs/usage.md quotes each <name>.sh whole, so that the commands exist in one version;
(d) every <name>.sh runs on small slices of ../shared/data (a few dozen sequences per class, cut
    short; tiny training runs through the scripts' size variables) and writes metrics and
    predictions; skipped where ../shared/data is absent. The selected chains run side by side;
    the two that train deep networks at every step are marked `slow` (-m "not slow" skips them).
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
import yaml
from recipe_slices import SIZES, arg_query, read_records, write_fasta, write_slices
from test_nextflow_wiring import cli_options, defined_params, schema

REPO = Path(__file__).resolve().parents[1]
RECIPES = REPO / "assets" / "recipes"
DATA = REPO.parent / "shared" / "data"
USAGE = REPO / "docs" / "usage.md"
YAMLS = sorted(RECIPES.glob("*.yml"))
SCRIPTS = sorted(RECIPES.glob("*.sh"))
SHEETS = sorted(RECIPES.glob("*_samplesheet.csv"))
SEED_USE_CASES = {"arg", "promoter", "protein_localization", "plasmid"}
# params whose value is a `seqclass <step>` command line fragment, passed whole
ARGS_PARAMS = {"train_args": "train", "short_train_args": "train", "pretrain_args": "pretrain"}
FLAG = re.compile(r"(?<![\w-])--([A-Za-z][\w-]*)")
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"real data not found at {DATA}")


def _ids(paths):
    return [p.name for p in paths]


def test_every_seed_use_case_has_a_recipe_and_a_script():
    assert SEED_USE_CASES <= {p.stem for p in YAMLS}, _ids(YAMLS)
    assert SEED_USE_CASES <= {p.stem for p in SCRIPTS}, _ids(SCRIPTS)
    assert set(CHAINS) == {p.stem for p in SCRIPTS}, "every script needs its small run in CHAINS"


# ---------------------------------------------------------------- (a) params files

@pytest.mark.parametrize("path", YAMLS, ids=_ids(YAMLS))
def test_recipe_params_are_pipeline_params_and_valid(path):
    recipe = yaml.safe_load(path.read_text())
    assert isinstance(recipe, dict) and recipe, f"{path.name}: not a mapping of params"
    unknown = set(recipe) - set(defined_params(REPO / "nextflow.config"))
    assert not unknown, f"{path.name}: not params of nextflow.config: {sorted(unknown)}"
    # --input and --outdir come from the command line; outdir is the one required param
    errors = sorted(jsonschema.Draft202012Validator(schema()).iter_errors({**recipe, "outdir": "results"}),
                    key=lambda e: list(e.path))
    assert not errors, f"{path.name}: " + "; ".join(f"{'.'.join(map(str, e.path))}: {e.message}"
                                                   for e in errors)
    for name, step in ARGS_PARAMS.items():
        if name in recipe:
            bad = sorted(set(FLAG.findall(recipe[name])) - cli_options()[step])
            assert not bad, f"{path.name}: {name} passes options `seqclass {step}` lacks: {bad}"


def _named_paths(recipe: dict) -> list[tuple[str, str]]:
    """(param, value) of every param the schema declares a file, directory or path."""
    formats = {name: body.get("format", "") for group in schema()["$defs"].values()
               for name, body in group["properties"].items()}
    return [(k, str(v)) for k, v in recipe.items() if formats.get(k, "").endswith("path")]


@pytest.mark.parametrize("path", YAMLS, ids=_ids(YAMLS))
def test_recipe_files_exist(path):
    """Paths are relative to the launch directory, the repository root. Files in the repository
    must be there; data beside it where ../shared/data is; anything else is written by a tool
    first (tb_resistance: python -m seqclass.data.simulate_tb, checked by tests/test_bam.py)."""
    for name, value in _named_paths(yaml.safe_load(path.read_text())):
        target = (REPO / value).resolve()
        if target.is_relative_to(DATA.resolve()):
            if not DATA.is_dir():
                continue
        elif not (REPO / Path(value).parts[0]).exists():
            continue
        assert glob.glob(str(target)), f"{path.name}: {name}: {value} matches no file"


# ---------------------------------------------------------------- (b) samplesheets

@pytest.mark.parametrize("sheet", SHEETS, ids=_ids(SHEETS))
def test_samplesheets_follow_the_input_schema(sheet):
    rows = pd.read_csv(sheet, dtype=str, keep_default_na=False).to_dict("records")
    item_schema = json.loads((REPO / "assets" / "schema_input.json").read_text())
    errors = list(jsonschema.Draft202012Validator(item_schema).iter_errors(rows))
    assert not errors, f"{sheet.name}: " + "; ".join(e.message for e in errors)
    assert len({row["sample"] for row in rows}) == len(rows), f"{sheet.name}: repeated sample"
    assert sheet.name.removesuffix("_samplesheet.csv") in {p.stem for p in YAMLS}
    if DATA.is_dir():
        missing = [row["file"] for row in rows if not (sheet.parent / row["file"]).is_file()]
        assert not missing, f"{sheet.name}: files not found: {missing}"


# ---------------------------------------------------------------- (c) scripts and docs

def seqclass_commands(script: Path) -> list[tuple[str, str]]:
    """(step, rest of the command line) of each `seqclass` command, continuation lines joined."""
    text = re.sub(r"\\\n", " ", script.read_text())
    return [(m.group(1), m.group(2)) for m in re.finditer(r"(?m)^seqclass (\w+)(.*)$", text)]


@pytest.mark.parametrize("script", SCRIPTS, ids=_ids(SCRIPTS))
def test_script_commands_use_real_steps_and_options(script):
    options = cli_options()
    commands = seqclass_commands(script)
    assert commands, f"{script.name}: no seqclass command"
    problems = []
    for step, rest in commands:
        if step not in options:
            problems.append(f"seqclass {step}: no such step")
            continue
        problems += [f"seqclass {step} has no --{flag}" for flag in set(FLAG.findall(rest)) - options[step]]
    assert not problems, f"{script.name}: " + "; ".join(sorted(problems))


@pytest.mark.parametrize("script", SCRIPTS, ids=_ids(SCRIPTS))
def test_usage_quotes_each_script_whole(script):
    quoted = script.read_text() in USAGE.read_text()
    assert quoted, f"docs/usage.md does not quote {script.relative_to(REPO)} as it is now: copy it " \
                   f"into its ```bash block in the Recipes section"


# ---------------------------------------------------------------- (d) the chains on small slices

@pytest.fixture(scope="module")
def slices(tmp_path_factory) -> Path:
    """DATA's layout with a few dozen sequences per class, cut short."""
    return write_slices(tmp_path_factory.mktemp("recipe_data"), DATA)


def metrics(path: Path) -> dict:
    doc = json.loads(path.read_text())
    for key in ("accuracy", "mcc", "f1_macro"):
        assert math.isfinite(doc[key]), f"{path}: {key} = {doc[key]}"
    return doc


def predictions(path: Path, n: int) -> pd.DataFrame:
    frame = pd.read_csv(path, sep="\t")
    assert len(frame) == n, f"{path}: {len(frame)} rows, expected {n}"
    assert {"id", "label", "ood_score", "ood"} <= set(frame.columns), list(frame.columns)
    probs = frame.filter(like="prob_")
    assert probs.shape[1] >= 2 and ((probs.sum(axis=1) - 1).abs() < 1e-3).all()
    return frame


def check_arg(out: Path, slices: Path) -> None:
    long_eval = metrics(out / "eval_long" / "metrics.json")
    classes = len(json.loads((out / "arg_long" / "labels.json").read_text()))
    assert long_eval["task"] == "multiclass" and classes >= 3
    # BLAST similarity finds distant homologs of the training genes even in this slice
    assert long_eval["f1_macro"] > 1 / classes, long_eval
    assert metrics(out / "eval_short" / "metrics.json")["level"] == "window"
    query = arg_query(slices)
    frame = predictions(out / "predictions.tsv", len(query))
    assert list(zip(frame["id"], frame["model"])) == [(query[0][0], "long"), ("piece", "short"),
                                                      ("read", "short")]
    assert (out / "contig_tracks" / "tracks.png").is_file()


def check_promoter(out: Path, slices: Path) -> None:
    assert json.loads((out / "awd_lstm" / "config.json").read_text())["params"]["pretrained"]
    for model in ("awd_lstm", "cnn"):
        assert metrics(out / f"eval_{model}" / "metrics.json")["n"] > 0
    frame = predictions(out / "predictions.tsv", 1)
    assert {"prob_promoter", "prob_non_promoter"} <= set(frame.columns)
    # the bundled 20 kb of E. coli in the models' 81-nt windows, the last ending at its end
    assert len(pd.read_csv(out / "tracks.tsv", sep="\t")) == 247
    assert len(list((out / "interpret").glob("*.saliency.png"))) == 3
    assert (out / "interpret" / "tracks.png").is_file()


def check_protein_localization(out: Path, slices: Path) -> None:
    doc = metrics(out / "eval" / "metrics.json")
    assert doc["task"] == "multiclass" and doc["n"] > 0
    assert json.loads((out / "model" / "config.json").read_text())["family"] == "bilstm"
    assert len(json.loads((out / "model" / "labels.json").read_text())) == 11
    queries = read_records(slices / "protein_localization" / "peroxisomal.fasta")
    predictions(out / "predictions.tsv", len(queries))


def check_plasmid(out: Path, slices: Path) -> None:
    assert metrics(out / "eval" / "metrics.json")["level"] == "window"
    stretches = pd.read_parquet(out / "stretches.parquet")
    train = stretches["split"] == "train"
    # no replicon has stretches on both sides of the split; K of each; only training ones flipped
    assert not set(stretches.loc[~train, "parent_id"]) & set(stretches.loc[train, "parent_id"])
    assert (stretches.groupby("parent_id").size() == 4).all()
    assert (stretches.loc[~train, "strand"] == "+").all() and (stretches["strand"] == "-").any()
    queries = read_records(slices / "plasmid" / "plasmidfinder.fasta")
    frame = predictions(out / "predictions.tsv", len(queries))
    assert set(frame["label"]) <= {"Inc", "rep", "Col", "other"}


# recipe -> what its outputs must show
CHAINS = {
    "arg": check_arg,
    "promoter": check_promoter,
    "protein_localization": check_protein_localization,
    "plasmid": check_plasmid,
}
# the chains that pretrain or train a deep network on every command take longest
HEAVY = {"promoter", "protein_localization"}


@pytest.fixture(scope="module")
def chain_runs(request, slices, tmp_path_factory) -> dict[str, tuple[Path, subprocess.Popen, object]]:
    """Every selected chain started at once: they are mostly Python start-up and waiting on
    small files, so side by side they take about their CPU time over the cores."""
    wanted = {item.callspec.params["recipe"] for item in request.session.items
              if getattr(item, "originalname", "") == "test_recipe_chain_runs_on_a_slice"}
    root = tmp_path_factory.mktemp("recipe_runs")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "THREADS": "1", "DATA": str(slices)}
    runs = {}
    for recipe in sorted(wanted):
        out = root / recipe / "out"
        out.parent.mkdir()
        extra = {}
        if recipe == "arg":
            extra["QUERY"] = str(out.parent / "query.fa")
            write_fasta(out.parent / "query.fa", arg_query(slices))
        log = open(out.parent / "log.txt", "w")  # closed when the run is collected
        proc = subprocess.Popen(
            ["bash", str(RECIPES / f"{recipe}.sh")], cwd=out.parent, stdout=log, stderr=subprocess.STDOUT,
            env={**env, "OUT": str(out), **extra, **{k: str(v) for k, v in SIZES[recipe].items()}})
        runs[recipe] = (out, proc, log)
    yield runs
    for _, proc, log in runs.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


@needs_data
@pytest.mark.shared_data
@pytest.mark.parametrize("recipe", [pytest.param(r, marks=pytest.mark.slow) if r in HEAVY else r
                                    for r in CHAINS])
def test_recipe_chain_runs_on_a_slice(recipe, chain_runs, slices):
    out, proc, _ = chain_runs[recipe]
    rc = proc.wait(timeout=900)
    assert rc == 0, f"{recipe}.sh failed ({rc}):\n{(out.parent / 'log.txt').read_text()[-4000:]}"
    CHAINS[recipe](out, slices)
