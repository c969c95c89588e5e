"""What the Nextflow pipeline costs over the same steps run one after another with the CLI.

    python benchmarks/pipeline.py [--repeats 2] [--json benchmarks/pipeline-results.json]

Both sides do the demo's work on the bundled B. subtilis promoter data (assets/demo):
build → split → chunk (window 81) → train (kmer-logreg, k 5) → evaluate → report → MultiQC.
The pipeline side is `nextflow run main.nf -profile test,local` offline, from a fresh launch
directory each time (no -resume); the CLI side runs the commands its tasks run (their
.command.sh), with the same threads, in one scratch directory. Repeats alternate the two
sides; the medians are compared. From the pipeline's trace, the tasks' own run time is summed
too, which splits Nextflow's cost into starting up (JVM, compiling the scripts, validating the
parameters) and running tasks one after another (staging, polling, publishing).

Needs `nextflow` (make install) and MultiQC (the `pipeline` extra) on PATH or in .venv/bin.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "assets" / "demo"
THREADS = "2"  # the test profile's cap on a task's CPUs, which the steps are given as --threads


def tool(name: str) -> str:
    found = shutil.which(name, path=f"{REPO / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        sys.exit(f"benchmarks/pipeline.py: {name} not found (make install)")
    return found


def cli_steps(out: Path) -> list[list[str]]:
    """The commands the pipeline's tasks run, with the CLI, in one directory."""
    seqclass = tool("seqclass")
    return [
        [seqclass, "build", "--input", f"non_promoter={DEMO / 'bacillus_non_promoter.fa'}",
         f"promoter={DEMO / 'bacillus_promoter.fa'}", "--out", f"{out}/seqclass.dataset.parquet",
         "--rename-duplicate-ids"],
        [seqclass, "split", "--dataset", f"{out}/seqclass.dataset.parquet", "--threads", THREADS,
         "--out", f"{out}/seqclass.split.parquet"],
        [seqclass, "chunk", "--dataset", f"{out}/seqclass.split.parquet", "--window", "81",
         "--out", f"{out}/seqclass.chunks.parquet"],
        [seqclass, "train", "--dataset", f"{out}/seqclass.chunks.parquet", "--out", f"{out}/seqclass.model",
         "--threads", THREADS, "--kmer-size", "5"],
        [seqclass, "evaluate", "--model", f"{out}/seqclass.model",
         "--dataset", f"{out}/seqclass.split.parquet", "--out", f"{out}/seqclass.evaluation",
         "--threads", THREADS],
        [seqclass, "report", "--out", f"{out}/seqclass_mqc",
         "--dataset-summary", f"{out}/seqclass.dataset.summary.json",
         "--split-summary", f"{out}/seqclass.split.summary.json",
         "--leakage", f"{out}/seqclass.split.leakage.tsv", "--evaluation", f"{out}/seqclass.evaluation"],
        [tool("multiqc"), "--force", "--quiet", "--config", str(REPO / "assets" / "multiqc_config.yml"),
         "--title", "seqclass train", "--outdir", f"{out}/multiqc", f"{out}/seqclass_mqc"],
    ]


def run_cli(scratch: Path) -> dict:
    out = scratch / "cli"
    out.mkdir()
    start = time.perf_counter()
    for command in cli_steps(out):
        subprocess.run(command, check=True, capture_output=True, cwd=out)
    return {"wall_s": time.perf_counter() - start}


def run_pipeline(scratch: Path) -> dict:
    launch = scratch / "pipeline"
    launch.mkdir()
    env = {**os.environ, "NXF_OFFLINE": "true", "NXF_ANSI_LOG": "false",
           "NXF_HOME": str(scratch / "nxf_home"),
           "PATH": f"{REPO / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    start = time.perf_counter()
    subprocess.run([tool("nextflow"), "run", str(REPO / "main.nf"), "-profile", "test,local",
                    "--outdir", str(launch / "results"), "--trace_report_suffix", "bench"],
                   check=True, capture_output=True, cwd=launch, env=env)
    wall = time.perf_counter() - start
    with open(launch / "results" / "pipeline_info" / "execution_trace_bench.txt") as fh:
        tasks = list(csv.DictReader(fh, delimiter="\t"))
    return {"wall_s": wall, "tasks": len(tasks),
            "task_realtime_s": sum(duration_s(task["realtime"]) for task in tasks)}


def duration_s(text: str) -> float:
    """Nextflow's trace durations: '1.2s', '350ms', '1m 3s'."""
    total = 0.0
    for part in text.split():
        for suffix, scale in (("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)):
            if part.endswith(suffix):
                total += float(part[: -len(suffix)]) * scale
                break
    return total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="runs of each side (default: 2)")
    parser.add_argument("--json", type=Path, help="write every number here")
    args = parser.parse_args(argv)

    runs: dict[str, list[dict]] = {"cli": [], "pipeline": []}
    for repeat in range(args.repeats):
        for side, run in (("cli", run_cli), ("pipeline", run_pipeline)):
            with tempfile.TemporaryDirectory() as scratch:
                runs[side].append(run(Path(scratch)))
            print(f"repeat {repeat + 1}: {side} {runs[side][-1]['wall_s']:.1f} s", flush=True)

    cli = statistics.median(r["wall_s"] for r in runs["cli"])
    pipeline = statistics.median(r["wall_s"] for r in runs["pipeline"])
    tasks = statistics.median(r["task_realtime_s"] for r in runs["pipeline"])
    print(f"CLI, the 7 steps one after another:  {cli:6.1f} s (median of {args.repeats})")
    print(f"pipeline, -profile test,local:       {pipeline:6.1f} s; its 7 tasks ran {tasks:.1f} s of it")
    print(f"pipeline/CLI wall-time ratio: {pipeline / cli:.2f}")
    if args.json:
        args.json.write_text(json.dumps({
            "runs": runs, "median_wall_s": {"cli": cli, "pipeline": pipeline},
            "ratio_pipeline_over_cli": pipeline / cli,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "load_average": os.getloadavg()},
        }, indent=2) + "\n")


if __name__ == "__main__":
    main()
