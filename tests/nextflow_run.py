"""Real `nextflow run`s for the tests: the pipeline (tests/test_pipeline.py) and single modules
through the harness tests/modules/main.nf (tests/test_modules_nextflow.py).

Nextflow is the one `make install` puts into .venv/bin (tools/nextflow/: jars from Maven
Central), or any `nextflow` on PATH; without one the tests skip with the reason. Every run is
offline (NXF_OFFLINE=true) with a Nextflow home of its own session, from a launch directory of
its own, with `seqclass` and MultiQC from the running Python's environment first on PATH.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def nextflow_binary() -> str | None:
    venv = REPO / ".venv" / "bin" / "nextflow"
    return str(venv) if venv.exists() else shutil.which("nextflow")


def require_nextflow() -> str:
    """The nextflow to run, or a skip that says how to get one."""
    binary = nextflow_binary()
    if binary is None:
        pytest.skip("no nextflow: `make install` resolves it from Maven Central into .venv/bin")
    if shutil.which("java") is None:
        pytest.skip("no java on PATH: Nextflow needs Java 17 or later")
    return binary


@dataclass
class Run:
    """One finished `nextflow run`: its exit status, output and where it ran."""
    returncode: int
    output: str
    launch_dir: Path
    outdir: Path | None

    def trace(self) -> list[dict[str, str]]:
        """The rows of the run's execution trace (pipeline_info/execution_trace_*.txt)."""
        traces = sorted((self.outdir / "pipeline_info").glob("execution_trace_*.txt"))
        assert traces, f"no execution trace in {self.outdir}/pipeline_info"
        with open(traces[-1]) as fh:
            return list(csv.DictReader(fh, delimiter="\t"))

    def problems(self) -> list[str]:
        """What the run printed between Nextflow's banner and its log pointer."""
        skip = ("N E X T F L O W", "Launching `", " -- Check ")
        return [line for line in self.output.splitlines() if line.strip() and not line.startswith(skip)]


def nextflow_env(home: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(NXF_OFFLINE="true", NXF_HOME=str(home), NXF_ANSI_LOG="false",
               PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}")
    env.pop("NXF_SYNTAX_PARSER", None)
    env.update(extra)
    return env


def nextflow(args: list[str], launch_dir: Path, home: Path, outdir: Path | None = None,
             timeout: float = 900, **env: str) -> Run:
    """`nextflow <args>` in launch_dir; returns whether or not it succeeded."""
    launch_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([require_nextflow(), *args], cwd=launch_dir, env=nextflow_env(home, **env),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return Run(proc.returncode, proc.stdout, launch_dir, outdir)


def run_pipeline(args: list[str], launch_dir: Path, home: Path, outdir: Path, **env: str) -> Run:
    """`nextflow run main.nf <args> --outdir outdir` from launch_dir."""
    return nextflow(["run", str(REPO / "main.nf"), *args, "--outdir", str(outdir)],
                    launch_dir, home, outdir, **env)


def run_module(process: str, inputs: list, launch_dir: Path, home: Path,
               params: dict | None = None, stub: bool = False,
               config: str | None = None) -> tuple[Run, dict]:
    """One module on `inputs` (see tests/modules/main.nf for their encoding) with pipeline
    `params`, under -profile test as nf-test.config runs every nf-test case, and `config` (a
    path in the repository: a module test's own `config "./nextflow.config"`) on top; returns
    the run and what each output emitted ({} when the run failed)."""
    launch_dir.mkdir(parents=True, exist_ok=True)
    inputs_json, record = launch_dir / "inputs.json", launch_dir / "outputs.json"
    inputs_json.write_text(json.dumps(inputs))
    args = ["run", str(REPO / "tests" / "modules" / "main.nf"), "-profile", "test",
            "--process", process, "--inputs", str(inputs_json), "--record", str(record),
            "--outdir", str(launch_dir / "results")]
    if config:
        args += ["-c", str(REPO / config)]
    for name, value in (params or {}).items():
        args += [f"--{name}", str(value)]
    if stub:
        args.append("-stub")
    # a run of one small task is over before the optimising JIT compiler pays off: without it
    # each run starts 2-3 s sooner (options of the caller's NXF_OPTS come after, and win)
    jvm = f"-XX:TieredStopAtLevel=1 {os.environ.get('NXF_OPTS', '')}".strip()
    run = nextflow(args, launch_dir, home, launch_dir / "results", NXF_OPTS=jvm)
    outputs = json.loads(record.read_text()) if run.returncode == 0 and record.exists() else {}
    return run, outputs


def fixture(name: str) -> dict:
    """An input file of tests/fixtures/nf, for run_module."""
    return {"path": f"tests/fixtures/nf/{name}"}


def fixture_dir(name: str) -> dict:
    """An input directory of tests/fixtures/nf, for run_module."""
    return {"dir": f"tests/fixtures/nf/{name}"}
