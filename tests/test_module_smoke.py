"""Every local module's script: and stub: block, rendered as Nextflow would and run with bash.

Nextflow cannot run here, so tests/nf_render/render.groovy plays its part with the real Groovy
engine (one JVM for the session): it takes each section's source text out of
modules/local/<step>/main.nf, evaluates it with a binding of `task` (task.ext.* are the real
closures of conf/modules.config, evaluated against the params of nextflow.config plus the
overrides of conf/test.config), `meta` and the declared inputs, staged under the names Nextflow
gives them (stageAs patterns included). The rendered script then runs with `bash -ue` (as
.command.sh does) in a scratch task directory with the staged inputs linked in and `seqclass` on
PATH; every declared output pattern must match what it wrote and versions.yml must be YAML keyed
by the process name. Outputs feed the next module as in the pipeline:

    BUILD -> SPLIT -> CHUNK -> TRAIN -> EVALUATE -> REPORT (train mode) -> MULTIQC
                                     \\-> PREDICT  -> INTERPRET -> REPORT (predict mode)
                                     \\-> PREDICT (short model: the same model again)
    BWA_INDEX -> BWA_MEM_SORT (x2) -> BUILD (aligned reads: tests/fixtures/nf/simulated_tb)

The stub: blocks form a second chain of the same shape (what `nextflow run -stub` does). The two
chains run side by side on a small thread pool. MULTIQC is only rendered unless `multiqc` is on
PATH; the script: blocks of the BWA modules (and the build they feed) skip without bwa and
samtools. Without java or the Groovy 4 jars (installed by ../shared/tools/nf-check) the tests skip.
"""

from __future__ import annotations

import glob
import json
import os
import random
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
RENDERER = REPO / "tests" / "nf_render" / "render.groovy"
PARAMS_CONFIGS = ("nextflow.config", "conf/test.config")  # -profile test
NF_CHECK = REPO.parent / "shared" / "tools" / "nf-check"
CPUS = 2
HAS_MULTIQC = shutil.which("multiqc") is not None

# process -> (module file, task.process: the fully qualified name it has in the pipeline)
PROCESSES = {
    "SEQCLASS_BUILD": ("modules/local/build/main.nf", "SEQCLASS:PREPARE_DATA:SEQCLASS_BUILD"),
    "SEQCLASS_SPLIT": ("modules/local/split/main.nf", "SEQCLASS:PREPARE_DATA:SEQCLASS_SPLIT"),
    "SEQCLASS_CHUNK": ("modules/local/chunk/main.nf", "SEQCLASS:PREPARE_DATA:SEQCLASS_CHUNK"),
    "SEQCLASS_PRETRAIN": ("modules/local/pretrain/main.nf", "SEQCLASS:SEQCLASS_PRETRAIN"),
    "SEQCLASS_TRAIN": ("modules/local/train/main.nf", "SEQCLASS:TRAIN_EVALUATE:SEQCLASS_TRAIN"),
    "SEQCLASS_EVALUATE": ("modules/local/evaluate/main.nf", "SEQCLASS:TRAIN_EVALUATE:SEQCLASS_EVALUATE"),
    "SEQCLASS_PREDICT": ("modules/local/predict/main.nf", "SEQCLASS:PREDICT:SEQCLASS_PREDICT"),
    "SEQCLASS_INTERPRET": ("modules/local/interpret/main.nf", "SEQCLASS:PREDICT:SEQCLASS_INTERPRET"),
    "SEQCLASS_REPORT": ("modules/local/report/main.nf", "SEQCLASS:SEQCLASS_REPORT"),
    "MULTIQC": ("modules/local/multiqc/main.nf", "SEQCLASS:MULTIQC"),
    "BWA_INDEX": ("modules/local/bwa_index/main.nf", "SEQCLASS:ALIGN_READS:BWA_INDEX"),
    "BWA_MEM_SORT": ("modules/local/bwa_mem_sort/main.nf", "SEQCLASS:ALIGN_READS:BWA_MEM_SORT"),
}
# tools a script: block needs besides seqclass (stub: blocks need none); without them its test skips
TOOLS = {"BWA_INDEX": ("bwa",), "BWA_MEM_SORT": ("bwa", "samtools")}
SIMULATED = REPO / "tests" / "fixtures" / "nf" / "simulated_tb"  # reads of two simulated samples
TRAIN_META = {"id": "seqclass"}  # PREPARE_DATA gives the one dataset this meta
QUERY_META = {"id": "query"}     # predict mode: the input file name without its suffix


# ---------------------------------------------------------------- Groovy renderer

class RenderError(Exception):
    pass


def _jar_dir() -> Path:
    cache = Path(os.environ.get("NF_CHECK_CACHE") or Path.home() / ".cache" / "nf-check")
    return cache / "node_modules" / "npm-groovy-lint" / "lib" / "java" / "groovy" / "lib"


class Renderer:
    """One JVM running render.groovy; one JSON request per line, one answer per line."""

    PREFIX = "@@nfrender "

    def __init__(self, jars: Path, log: Path):
        self._log = log
        self._stderr = open(log, "w")  # closed in close()
        self._proc = subprocess.Popen(
            ["java", "-cp", f"{jars}/*", "groovy.ui.GroovyMain", str(RENDERER), str(REPO),
             *PARAMS_CONFIGS],
            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            text=True, encoding="utf-8")
        self._lock = threading.Lock()

    def ask(self, **request) -> dict:
        with self._lock:
            try:
                self._proc.stdin.write(json.dumps(request) + "\n")
                self._proc.stdin.flush()
                line = self._proc.stdout.readline()
                while line and not line.startswith(self.PREFIX):
                    line = self._proc.stdout.readline()
            except BrokenPipeError:
                line = ""
        if not line:
            raise RenderError(f"render.groovy exited: {self._log.read_text()[-3000:]}")
        answer = json.loads(line[len(self.PREFIX):])
        if "error" in answer:
            raise RenderError(f"{answer['error']}\n{answer.get('trace', '')}")
        return answer

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._stderr.close()


@pytest.fixture(scope="session")
def groovy_jars() -> Path:
    if shutil.which("java") is None:
        pytest.skip("java is not on PATH: module scripts are rendered with Groovy "
                    "(apt-get install openjdk-17-jre-headless)")
    jars = _jar_dir()
    if not any(jars.glob("groovy-4*.jar")) and NF_CHECK.is_file():
        # nf-check installs npm-groovy-lint (and with it the Groovy 4 jars) on first use;
        # its verdict on the pipeline is not this test's business
        subprocess.run([str(NF_CHECK), str(REPO)], cwd=REPO, capture_output=True, timeout=900)
    if not any(jars.glob("groovy-4*.jar")):
        pytest.skip(f"no Groovy 4 jars in {jars}: run ../shared/tools/nf-check once, it installs them")
    return jars


@pytest.fixture(scope="session")
def renderer(groovy_jars, tmp_path_factory):
    r = Renderer(groovy_jars, tmp_path_factory.mktemp("nf_render") / "render.log")
    yield r
    r.close()


@pytest.fixture(scope="session")
def params(renderer) -> dict:
    return renderer.ask(op="params")["params"]


# ---------------------------------------------------------------- tiny inputs

@dataclass
class RawInputs:
    pos: Path
    neg: Path
    query: Path
    reads: Path


def _write_fasta(path: Path, records: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f">{rid}\n{seq}\n" for rid, seq in records))
    return path


def _raw_inputs(root: Path) -> RawInputs:
    """Two classes of DNA, 'pos' carrying the promoter boxes, and two query contigs."""
    rng = random.Random(11)

    def dna(n: int) -> str:
        return "".join(rng.choice("ACGT") for _ in range(n))

    def plant(seq: str, motif: str) -> str:
        p = rng.randrange(len(seq) - len(motif))
        return seq[:p] + motif + seq[p + len(motif):]

    pos = []
    for i in range(24):
        seq = dna(rng.randint(120, 240))
        for motif in ("TTGACA", "TATAAT", "TTGACA", "TATAAT"):
            seq = plant(seq, motif)
        pos.append((f"pos{i}", seq))
    neg = [(f"neg{i}", dna(rng.randint(120, 240))) for i in range(24)]
    root.mkdir(parents=True, exist_ok=True)
    # a file name with a blank and parentheses: Nextflow backslash-escapes staged paths
    reads = root / "reads.fq"
    reads.write_text("".join(f"@read{i}\n{seq}\n+\n{'I' * len(seq)}\n" for i, seq in enumerate(
        [plant(dna(100), "TATAAT"), dna(100)])))
    return RawInputs(pos=_write_fasta(root / "pos set (1).fa", pos), neg=_write_fasta(root / "neg.fa", neg),
                     query=_write_fasta(root / "query.fa", [("contig1", plant(dna(400), "TATAAT")),
                                                            ("contig2", dna(300))]),
                     reads=reads)


# ---------------------------------------------------------------- one task, as Nextflow runs it

@dataclass
class TaskResult:
    key: str
    process: str
    section: str
    workdir: Path
    script: str = ""
    ext: dict = field(default_factory=dict)
    staged: list = field(default_factory=list)
    rc: int | None = None
    log: str = ""
    ran: bool = False
    skipped: str = ""  # why the script did not run: a tool is missing here
    problems: list[str] = field(default_factory=list)
    emits: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def emit(self, name: str) -> list[str]:
        if name not in self.emits:
            raise KeyError(f"{self.process} has no output emitted as {name!r}: {sorted(self.emits)}")
        return self.emits[name]

    def report(self) -> str:
        text = f"{self.process} {self.section}: " + "; ".join(self.problems)
        if self.script:
            text += f"\n--- rendered {self.section} (in {self.workdir}) ---\n{self.script}"
        if self.log:
            text += f"--- output (exit status {self.rc}) ---\n{self.log[-4000:]}"
        return text


def _task_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), str(REPO / "bin"),
                                   env.get("PATH", "")])
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _collect_outputs(result: TaskResult, outputs: list[dict]) -> None:
    """Match each declared output as Nextflow does: glob in the task directory, staged inputs
    excluded, `type:` honoured, `optional: true` allowed to match nothing."""
    staged = {name for name, _ in result.staged}
    for decl in outputs:
        items = decl["items"] if decl["kind"] == "tuple" else [decl]
        emit = decl["opts"].get("emit")
        optional = decl["opts"].get("optional") in (True, "true")
        paths: list[str] = []
        for item in items:
            if item["kind"] != "path":
                continue
            pattern, kind = item["name"], item["opts"].get("type", "any")
            hits = [h for h in sorted(glob.glob(pattern, root_dir=result.workdir, recursive=True))
                    if h not in staged]
            if kind == "dir":
                hits = [h for h in hits if (result.workdir / h).is_dir()]
            elif kind == "file":
                hits = [h for h in hits if (result.workdir / h).is_file()]
            if not hits and not optional:
                present = sorted(str(p.relative_to(result.workdir)) for p in result.workdir.rglob("*")
                                 if not p.name.startswith("."))
                result.problems.append(f"output path({pattern!r}{'' if kind == 'any' else ', type: ' + kind})"
                                       f" (emit: {emit}) matched nothing; the task wrote {present}")
            paths += [str(result.workdir / h) for h in hits]
        if emit:
            result.emits[emit] = paths
        else:
            result.problems.append(f"output {decl} has no emit:")


def _check_versions(result: TaskResult, fq_name: str) -> None:
    files = result.emits.get("versions") or []
    if len(files) != 1:
        result.problems.append(f"emit versions: expected one versions.yml, got {files}")
        return
    try:
        data = yaml.safe_load(Path(files[0]).read_text())
    except yaml.YAMLError as err:
        result.problems.append(f"versions.yml is not YAML: {err}")
        return
    if not isinstance(data, dict) or list(data) != [fq_name] or not isinstance(data[fq_name], dict) \
            or not data[fq_name]:
        result.problems.append(f"versions.yml should map {fq_name!r} to tool versions, got {data!r}")


def run_task(renderer: Renderer, key: str, process: str, section: str, inputs: dict,
             workroot: Path, execute: bool = True) -> TaskResult:
    module, fq_name = PROCESSES[process]
    workdir = workroot / section / key.replace(" ", "_").replace("(", "").replace(")", "")
    workdir.mkdir(parents=True)
    result = TaskResult(key=key, process=process, section=section, workdir=workdir)
    try:
        answer = renderer.ask(op="render", module=module, section=section, process=fq_name, cpus=CPUS,
                              inputs=inputs, workDir=str(workdir))
    except RenderError as err:
        result.problems.append(f"rendering {module} {section}: failed: {err}")
        return result
    result.script, result.ext, result.staged = answer["script"], answer["ext"], answer["staged"]
    if not answer["when"]:
        result.problems.append("the when: guard is false with the test config")
    for name, source in result.staged:
        target = workdir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(source)
    command = workdir / ".command.sh"
    command.write_text("#!/bin/bash -ue\n" + result.script)  # Nextflow's default shell: bash -ue
    if not execute:
        return result
    proc = subprocess.run(["bash", "-ue", str(command)], cwd=workdir, env=_task_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    result.ran, result.rc, result.log = True, proc.returncode, proc.stdout
    if proc.returncode != 0:
        result.problems.append(f"exit status {proc.returncode}")
        return result
    _collect_outputs(result, answer["outputs"])
    _check_versions(result, fq_name)
    return result


# ---------------------------------------------------------------- the pipeline, twice

Inputs = Callable[[dict[str, TaskResult]], dict]


def chain_spec(raw: RawInputs) -> list[tuple[str, str, tuple[str, ...], Inputs]]:
    """(key, process, upstream keys, inputs from upstream results) in topological order,
    wired as workflows/seqclass.nf and subworkflows/local/* wire them for -profile test."""
    def versions(*keys):
        return lambda r: [v for k in keys for v in r[k].emit("versions")]

    upstream_train = ("SEQCLASS_BUILD", "SEQCLASS_SPLIT", "SEQCLASS_CHUNK", "SEQCLASS_TRAIN",
                      "SEQCLASS_EVALUATE")
    return [
        ("SEQCLASS_BUILD", "SEQCLASS_BUILD", (),
         lambda r: {"meta": TRAIN_META, "labels": ["pos", ""],  # '' = label from the file name
                    "files": [str(raw.pos), str(raw.neg)], "bams": [], "bais": [], "regions": [],
                    "reference": [], "phenotypes": []}),
        # train mode with --reads: align each sample, then build --bam from the BAMs
        ("BWA_INDEX", "BWA_INDEX", (),
         lambda r: {"meta": {"id": "reference"}, "fasta": [str(SIMULATED / "reference.fa")]}),
        *[(f"BWA_MEM_SORT ({sample})", "BWA_MEM_SORT", ("BWA_INDEX",),
           lambda r, sample=sample: {"meta": {"id": sample}, "reads": [
               str(SIMULATED / "reads" / f"{sample}_{mate}.fq.gz") for mate in (1, 2)],
               "meta2": {"id": "reference"}, "index": r["BWA_INDEX"].emit("index")})
          for sample in ("sim001", "sim002")],
        ("SEQCLASS_BUILD (aligned reads)", "SEQCLASS_BUILD",
         ("BWA_MEM_SORT (sim001)", "BWA_MEM_SORT (sim002)"),
         lambda r: {"meta": TRAIN_META, "labels": [], "files": [],
                    "bams": [p for k in ("sim001", "sim002") for p in r[f"BWA_MEM_SORT ({k})"].emit("bam")
                             if p.endswith(".bam")],
                    "bais": [p for k in ("sim001", "sim002") for p in r[f"BWA_MEM_SORT ({k})"].emit("bam")
                             if p.endswith(".bai")],
                    "regions": [str(SIMULATED / "regions.bed")],
                    "reference": [str(SIMULATED / "reference.fa")],
                    "phenotypes": [str(SIMULATED / "phenotypes.csv")]}),
        ("SEQCLASS_SPLIT", "SEQCLASS_SPLIT", ("SEQCLASS_BUILD",),
         lambda r: {"meta": TRAIN_META, "dataset": r["SEQCLASS_BUILD"].emit("dataset")}),
        ("SEQCLASS_CHUNK", "SEQCLASS_CHUNK", ("SEQCLASS_SPLIT",),
         lambda r: {"meta": TRAIN_META, "dataset": r["SEQCLASS_SPLIT"].emit("split")}),
        # a language model on unlabelled contigs, with conf/test.config's small pretrain_args
        ("SEQCLASS_PRETRAIN", "SEQCLASS_PRETRAIN", (),
         lambda r: {"meta": TRAIN_META, "sequences": [str(raw.query)]}),
        ("SEQCLASS_TRAIN", "SEQCLASS_TRAIN", ("SEQCLASS_CHUNK",),  # test profile sets a window
         lambda r: {"meta": TRAIN_META, "dataset": r["SEQCLASS_CHUNK"].emit("chunks"),
                    "pretrained": []}),
        ("SEQCLASS_EVALUATE", "SEQCLASS_EVALUATE", ("SEQCLASS_TRAIN", "SEQCLASS_SPLIT"),
         lambda r: {"meta": TRAIN_META, "model": r["SEQCLASS_TRAIN"].emit("model"),
                    "dataset": r["SEQCLASS_SPLIT"].emit("split")}),
        ("SEQCLASS_PREDICT", "SEQCLASS_PREDICT", ("SEQCLASS_TRAIN",),
         lambda r: {"meta": QUERY_META, "sequences": [str(raw.query)],
                    "model": r["SEQCLASS_TRAIN"].emit("model"), "short_model": []}),
        # predict mode with --short_model: the query contigs (longer than the 81-nt window) go to
        # the model, the reads to the short-read one (here the same model, staged apart)
        ("SEQCLASS_PREDICT (short model)", "SEQCLASS_PREDICT", ("SEQCLASS_TRAIN",),
         lambda r: {"meta": QUERY_META, "sequences": [str(raw.query), str(raw.reads)],
                    "model": r["SEQCLASS_TRAIN"].emit("model"),
                    "short_model": r["SEQCLASS_TRAIN"].emit("model")}),
        ("SEQCLASS_REPORT", "SEQCLASS_REPORT", upstream_train,
         lambda r: {"meta": TRAIN_META, "dataset_summary": r["SEQCLASS_BUILD"].emit("summary"),
                    "split_summary": r["SEQCLASS_SPLIT"].emit("summary"),
                    "leakage": r["SEQCLASS_SPLIT"].emit("leakage"),
                    "evaluations": r["SEQCLASS_EVALUATE"].emit("evaluation"),
                    "predictions": [], "versions": versions(*upstream_train)(r),
                    "training_logs": [], "interpretations": []}),
        # predict mode with --interpret: one task over every input file and every track
        ("SEQCLASS_INTERPRET", "SEQCLASS_INTERPRET", ("SEQCLASS_TRAIN", "SEQCLASS_PREDICT"),
         lambda r: {"meta": TRAIN_META, "model": r["SEQCLASS_TRAIN"].emit("model"),
                    "sequences": [str(raw.query)], "tracks": r["SEQCLASS_PREDICT"].emit("tracks")}),
        ("SEQCLASS_REPORT (predict mode)", "SEQCLASS_REPORT", ("SEQCLASS_PREDICT", "SEQCLASS_INTERPRET"),
         lambda r: {"meta": TRAIN_META, "dataset_summary": [], "split_summary": [], "leakage": [],
                    "evaluations": [], "predictions": r["SEQCLASS_PREDICT"].emit("predictions"),
                    "versions": versions("SEQCLASS_PREDICT", "SEQCLASS_INTERPRET")(r),
                    "training_logs": [],
                    "interpretations": r["SEQCLASS_INTERPRET"].emit("interpretation")}),
        ("MULTIQC", "MULTIQC", ("SEQCLASS_REPORT",),
         lambda r: {"multiqc_files": r["SEQCLASS_REPORT"].emit("multiqc_files"),
                    "multiqc_config": str(REPO / "assets" / "multiqc_config.yml")}),
    ]


KEYS = ["SEQCLASS_BUILD", "SEQCLASS_SPLIT", "SEQCLASS_CHUNK", "SEQCLASS_PRETRAIN", "SEQCLASS_TRAIN",
        "SEQCLASS_EVALUATE",
        "SEQCLASS_PREDICT", "SEQCLASS_PREDICT (short model)", "SEQCLASS_INTERPRET", "SEQCLASS_REPORT",
        "SEQCLASS_REPORT (predict mode)",
        "BWA_INDEX", "BWA_MEM_SORT (sim001)", "BWA_MEM_SORT (sim002)", "SEQCLASS_BUILD (aligned reads)"]


@pytest.fixture(scope="session")
def chain(renderer, tmp_path_factory) -> dict[str, dict[str, TaskResult]]:
    """Both chains (script and stub), run once per session on a small thread pool."""
    root = tmp_path_factory.mktemp("module_smoke")
    raw = _raw_inputs(root / "raw")
    spec = chain_spec(raw)
    results: dict[str, dict[str, TaskResult]] = {"script": {}, "stub": {}}
    futures: dict[tuple[str, str], Future] = {}

    def job(section, key, process, deps, make_inputs):
        upstream = {d: futures[(section, d)].result() for d in deps}
        failed = [d for d, res in upstream.items() if not res.ok]
        if failed:
            res = TaskResult(key=key, process=process, section=section, workdir=root / section)
            res.problems.append(f"not run: upstream {', '.join(failed)} failed")
            return res
        lacking = [t for t in TOOLS.get(process, ()) if section == "script" and not shutil.which(t)]
        skipped = [d for d, res in upstream.items() if res.skipped]
        if lacking or skipped:
            res = TaskResult(key=key, process=process, section=section, workdir=root / section)
            res.skipped = (f"not on PATH: {', '.join(lacking)}" if lacking
                           else f"upstream {skipped[0]} skipped")
            return res
        return run_task(renderer, key, process, section, make_inputs(upstream), root,
                        execute=process != "MULTIQC" or HAS_MULTIQC)

    workers = max(2, min(4, os.cpu_count() or 2))
    # submitted in topological order, so a job only ever waits on jobs already started
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for key, process, deps, make_inputs in spec:
            for section in ("script", "stub"):
                futures[(section, key)] = pool.submit(job, section, key, process, deps, make_inputs)
    for (section, key), fut in futures.items():
        results[section][key] = fut.result()
    return results


# ---------------------------------------------------------------- tests

def test_every_local_module_is_smoke_tested():
    modules = {str(p.relative_to(REPO)) for p in (REPO / "modules" / "local").glob("*/main.nf")}
    covered = {module for module, _ in PROCESSES.values()}
    assert modules == covered, f"modules without a smoke test: {sorted(modules - covered)}; " \
                               f"gone: {sorted(covered - modules)}"


@pytest.mark.parametrize("key", KEYS)
def test_script_block_runs_and_writes_declared_outputs(chain, key):
    result = chain["script"][key]
    if result.skipped:
        pytest.skip(result.skipped)
    if not result.ok:
        pytest.fail(result.report(), pytrace=False)
    assert result.ran


@pytest.mark.parametrize("key", KEYS)
def test_stub_block_runs_and_writes_declared_outputs(chain, key):
    result = chain["stub"][key]
    if not result.ok:
        pytest.fail(result.report(), pytrace=False)
    assert result.ran


def test_ext_args_are_the_modules_config_closures_under_the_test_profile(chain, params):
    """task.ext.args came from conf/modules.config, evaluated with -profile test's params."""
    assert params["window"] is not None and params["kmer_size"] is not None, \
        "conf/test.config should set window and kmer_size"
    expected = {
        "SEQCLASS_BUILD": "--rename-duplicate-ids" if params["rename_duplicate_ids"] else None,
        "SEQCLASS_CHUNK": f"--window {params['window']}",
        "SEQCLASS_TRAIN": f"--k {params['kmer_size']}",
        "MULTIQC": f"--title 'seqclass {params['mode']}'",
    }
    problems = []
    for key, flag in expected.items():
        result = chain["script"][key]
        args = result.ext.get("args") or ""
        if not result.script:
            problems.append(f"{key}: not rendered ({'; '.join(result.problems)})")
        elif flag is None:
            continue
        elif f" {flag} " not in f" {args} ":
            problems.append(f"{key}: task.ext.args is {args!r}, expected it to hold {flag!r}")
        elif flag not in result.script:
            problems.append(f"{key}: {flag!r} is missing from the rendered script:\n{result.script}")
    for key in ("SEQCLASS_SPLIT", "SEQCLASS_TRAIN", "SEQCLASS_EVALUATE", "SEQCLASS_PREDICT"):
        script = chain["script"][key].script
        if f"--threads {CPUS}" not in script:
            problems.append(f"{key}: --threads is not task.cpus ({CPUS}):\n{script}")
    assert not problems, "\n".join(problems)


def test_predict_passes_the_short_model_only_when_given(chain):
    plain, routed = chain["script"]["SEQCLASS_PREDICT"], chain["script"]["SEQCLASS_PREDICT (short model)"]
    for result in (plain, routed):
        if not result.ok:
            pytest.fail(result.report(), pytrace=False)
    assert "--short-model" not in plain.script, plain.script
    assert "--short-model short/seqclass.model" in routed.script, routed.script
    rows = [line.split("\t") for line in Path(routed.emit("predictions")[0]).read_text().splitlines()]
    assert rows[0][-1] == "model"
    assert [(row[0], row[-1]) for row in rows[1:]] == [("contig1", "long"), ("contig2", "long"),
                                                        ("read0", "short"), ("read1", "short")]


@pytest.mark.parametrize("module, alias, inputs, expected", [
    ("modules/local/train/main.nf", "SEQCLASS:TRAIN_EVALUATE:SEQCLASS_TRAIN_SHORT",
     {"dataset": ["seqclass_short.chunks.parquet"], "pretrained": []}, "--out seqclass_short.model"),
    ("modules/local/evaluate/main.nf", "SEQCLASS:TRAIN_EVALUATE:SEQCLASS_EVALUATE_SHORT",
     {"model": ["seqclass_short.model"], "dataset": ["seqclass_short.chunks.parquet"]},
     "--out seqclass_short.evaluation"),
])
def test_short_read_aliases_take_their_own_withname_settings(renderer, chain, module, alias, inputs, expected,
                                                             tmp_path):
    """--short_window's aliases: files named <id>_short, the train options of the long model (here
    the test profile's --k), and the short-read model scored on single reads."""
    answer = renderer.ask(op="render", module=module, section="script", process=alias, cpus=CPUS,
                          inputs={"meta": TRAIN_META, **inputs}, workDir=str(tmp_path))
    assert expected in answer["script"], answer["script"]
    if alias.endswith("TRAIN_SHORT"):
        assert answer["ext"]["args"] == chain["script"]["SEQCLASS_TRAIN"].ext["args"], answer["ext"]
    else:
        assert "--level window" in answer["ext"]["args"], answer["ext"]
        assert "--level" not in (chain["script"]["SEQCLASS_EVALUATE"].ext.get("args") or "")


def test_build_stages_inputs_under_their_stageas_names(chain):
    result = chain["script"]["SEQCLASS_BUILD"]
    assert [name for name, _ in result.staged] == ["inputs/1/pos set (1).fa", "inputs/2/neg.fa"], \
        result.staged
    # the label is quoted, the staged path comes escaped by Nextflow (quoting it would break it)
    assert "--input 'pos'=inputs/1/pos\\ set\\ \\(1\\).fa inputs/2/neg.fa" in result.script, result.script


def test_report_passes_only_the_files_it_received(chain):
    train, predict = chain["script"]["SEQCLASS_REPORT"], chain["script"]["SEQCLASS_REPORT (predict mode)"]
    for flag in ("--dataset-summary", "--split-summary", "--leakage", "--evaluation", "--versions"):
        assert flag in train.script, f"train-mode report lacks {flag}:\n{train.script}"
    assert "--predictions" not in train.script, train.script
    assert "--predictions predictions/query.predictions.tsv" in predict.script, predict.script
    assert "--interpretation interpretations/seqclass.interpretation" in predict.script, predict.script
    assert "--interpretation" not in train.script, train.script
    for flag in ("--dataset-summary", "--split-summary", "--leakage", "--evaluation"):
        assert flag not in predict.script, f"predict-mode report passes {flag} without a file:\n" \
                                           f"{predict.script}"


@pytest.mark.parametrize("section", ["script", "stub"])
def test_multiqc_renders(chain, section):
    """Rendered always; run (and its outputs checked) only where multiqc is on PATH."""
    result = chain[section]["MULTIQC"]
    if not result.ok:
        pytest.fail(result.report(), pytrace=False)
    assert "multiqc" in result.script and "versions.yml" in result.script, result.script
    if section == "script":
        assert "--config multiqc_config.yml" in result.script, result.script
    if HAS_MULTIQC:
        assert result.ran


def test_build_of_aligned_reads_stages_bams_beside_their_indexes(chain):
    """--reads: BWA_MEM_SORT's BAMs (read group SM = sample) reach `seqclass build --bam`."""
    result = chain["script"]["SEQCLASS_BUILD (aligned reads)"]
    if result.skipped:
        pytest.skip(result.skipped)
    if not result.ok:
        pytest.fail(result.report(), pytrace=False)
    assert sorted(name for name, _ in result.staged)[:4] == [
        "bam/sim001.bam", "bam/sim001.bam.bai", "bam/sim002.bam", "bam/sim002.bam.bai"], result.staged
    assert "--bam bam/sim001.bam bam/sim002.bam --regions regions.bed --reference reference.fa " \
           "--phenotypes phenotypes.csv" in result.script, result.script
    summary = json.loads(Path(result.emit("summary")[0]).read_text())
    assert sorted(summary["consensus"]["samples"]) == ["sim001", "sim002"]
    assert summary["task"] == "multilabel"
