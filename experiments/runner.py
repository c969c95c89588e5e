"""What the accuracy experiments share: running seqclass steps, the command log, results, figures.

Every experiment in this folder is a script that runs the product's own steps as
`python -m seqclass <step> ...` (through `Runner`), in one output folder, and writes there:

  commands.sh    every command run, seqclass steps and other tools (BLAST...), in a fixed order,
                 so that any number can be re-run by hand from that folder
  results.md     the tables the script prints at the end
  results.json   every number behind them (and the settings)
  results.tsv    one row per seed × model (or per model), where the experiment has such rows
  a figure       --figure PATH (default: in the output folder)

`parser` gives their common options (--outdir, --data, --seeds or --seed, --threads, --jobs,
--figure) with the same names and defaults everywhere; `missing_data` makes a script exit 0
with a message when ../shared/data (beside the clone) is absent. Run the scripts as files
(`python experiments/<name>.py`): this module is imported from the script's own folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SEEDS = [0, 1, 2, 3, 4]
NON = "non_resistant"  # the negative class of the ARG experiments


# ---------------------------------------------------------------- running commands

class Runner:
    """Runs `python -m seqclass <step> ...` in outdir and logs each command to commands.sh.

    `run("train", "--seed", 0, ...)` runs one step (arguments are turned into strings);
    `run.many(chains)` runs chains of steps, up to `jobs` chains at once, the steps of a chain
    in order; `run.tool(...)` runs another program (BLAST, say) in outdir, logged beside the
    steps. A failing command ends the script with its stderr. `env` is added to the steps'
    environment (and noted in the log's header); `n` counts the seqclass commands run."""

    def __init__(self, outdir: Path, script: str | Path, jobs: int = 1,
                 env: dict[str, object] | None = None):
        self.outdir = Path(outdir).resolve()
        self.outdir.mkdir(parents=True, exist_ok=True)
        self.jobs = max(1, jobs)
        self.env = {**os.environ, **{k: str(v) for k, v in env.items()}} if env else None
        script = Path(script).resolve()
        name = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script
        note = "".join(f"; {k}={v}" for k, v in (env or {}).items())
        self.log = open(self.outdir / "commands.sh", "w")
        self.log.write(f"# commands run by {name} (cwd: this folder{note})\n")
        self.n = 0
        self.lock = threading.Lock()
        self.t0 = time.time()

    @property
    def elapsed(self) -> float:
        """Seconds since the runner was made."""
        return time.time() - self.t0

    def progress(self, message: str) -> None:
        print(f"[{self.elapsed:.0f} s] {message}", flush=True)

    def _log(self, line: str) -> None:
        self.log.write(line + "\n")
        self.log.flush()

    def _exec(self, args: tuple[str, ...]) -> None:
        proc = subprocess.run([sys.executable, "-m", "seqclass", *args], cwd=self.outdir,
                              capture_output=True, text=True, env=self.env)
        with self.lock:
            self.n += 1
        if proc.returncode != 0:
            raise RuntimeError(f"failed: seqclass {shlex.join(args)}\n{proc.stderr.strip()}")

    def __call__(self, *args: object) -> None:
        self.many([[args]])

    def many(self, chains: Iterable[Iterable[Sequence[object]]]) -> None:
        """Run chains of commands, up to `jobs` chains at once; the commands of a chain in order.

        All commands are logged first, chain by chain, so commands.sh does not depend on timing."""
        chains = [[tuple(str(a) for a in cmd) for cmd in chain] for chain in chains]
        for chain in chains:
            for cmd in chain:
                self._log("seqclass " + shlex.join(cmd))

        def go(chain: list[tuple[str, ...]]) -> None:
            for cmd in chain:
                self._exec(cmd)

        try:
            with ThreadPoolExecutor(max_workers=self.jobs) as pool:
                for f in [pool.submit(go, c) for c in chains]:
                    f.result()
        except RuntimeError as e:
            sys.exit(str(e))

    def tool(self, *args: object, stdout: Path | None = None) -> None:
        """Run a non-seqclass command in outdir (its stdout to a file, or discarded)."""
        args = tuple(str(a) for a in args)
        self._log(shlex.join(args) + (f" > {Path(stdout).relative_to(self.outdir)}" if stdout else ""))
        with open(stdout, "w") if stdout else open(os.devnull, "w") as out:
            proc = subprocess.run(args, cwd=self.outdir, stdout=out, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            sys.exit(f"failed: {shlex.join(args)}\n{proc.stderr.strip()}")


# ---------------------------------------------------------------- options and inputs

def parser(doc: str, *, outdir: bool = True, data: Path | None = None,
           data_help: str = "the shared data folder", seeds: str | None = "many",
           threads_help: str = "threads for `seqclass split`", jobs_help: str | None = None,
           figure: bool = True) -> argparse.ArgumentParser:
    """The options every experiment shares, under the same names: --outdir, --data (default
    `data`, where given), --seeds 0 1 2 3 4 (seeds="many") or --seed 0 (seeds="one"),
    --threads 2, --jobs 2 (where jobs_help is given) and --figure. The description is the first
    line of `doc`."""
    ap = argparse.ArgumentParser(description=doc.strip().split("\n")[0])
    if outdir:
        ap.add_argument("--outdir", type=Path, required=True, help="scratch/output folder (created)")
    if data is not None:
        ap.add_argument("--data", type=Path, default=data, help=data_help)
    if seeds == "many":
        ap.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS),
                        help="split and training seeds (default 0 1 2 3 4)")
    elif seeds == "one":
        ap.add_argument("--seed", type=int, default=0, help="split and training seed")
    ap.add_argument("--threads", type=int, default=2, help=threads_help)
    if jobs_help:
        ap.add_argument("--jobs", type=int, default=2, help=jobs_help)
    if figure:
        ap.add_argument("--figure", type=Path, default=None, help="PNG path (default: outdir)")
    return ap


def missing_data(*paths: Path) -> bool:
    """True (after saying so) when any input is absent: the script then exits 0."""
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        print(f"skipped: data not found ({', '.join(missing)}); it lives in ../shared/data beside "
              "the clone")
    return bool(missing)


def require_tools(*tools: str) -> None:
    """End the script when a program it runs is not on PATH."""
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        sys.exit(f"not on PATH: {', '.join(missing)} (NCBI BLAST+: makeblastdb, blastn, blastx; "
                 "MMseqs2: mmseqs)")


def multiclass_argannot(src: Path, dst: Path) -> list[str]:
    """Copy argannot.fasta without genes of more than one class; return the ids left out.

    The one ARG-ANNOT gene with two classes, (AGly_Flqn)aac(6')-Ib-cr, would make the task
    multilabel; the ARG experiments leave it out so that it is multiclass."""
    from seqclass.data.labels import argannot_label
    from seqclass.io.sequences import read_sequences

    dropped = []
    with open(dst, "w") as fh:
        for rec in read_sequences(src):
            label = argannot_label(f"{rec.id} {rec.description}") or ""
            if ";" in label:
                dropped.append(f"{rec.id} ({label})")
                continue
            fh.write(f">{rec.id} {rec.description}".rstrip() + f"\n{rec.sequence}\n")
    return dropped


# ---------------------------------------------------------------- results

def load(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def metrics(path: Path) -> dict:
    """The headline numbers of a binary `seqclass evaluate` metrics.json (positive class)."""
    m = load(path)
    pos = m["per_class"][m["positive_class"]]
    return {"mcc": m["mcc"], "accuracy": m["accuracy"], "precision": pos["precision"],
            "recall": pos["recall"], "specificity": pos["specificity"], "roc_auc": m["roc_auc"],
            "f1_macro": m["f1_macro"], "n": m["n"]}


def mean_sd(values: list[float]) -> str:
    """`mean ± sd` (sample sd, ddof=1) to 3 decimals; one value alone as itself."""
    if len(values) < 2:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def _plain(value: object) -> object:
    """numpy scalars and other objects with .item() as Python values (for json.dumps)."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_tsv(rows: list[dict], path: Path) -> None:
    """Rows (dicts) as a TSV table: columns in first-seen order; nested values as JSON."""
    cols = list(dict.fromkeys(k for r in rows for k in r))

    def cell(v: object) -> str:
        if v is None:
            return ""
        if isinstance(v, dict | list | tuple):
            return json.dumps(v, default=_plain)
        return str(_plain(v) if hasattr(v, "item") else v)

    Path(path).write_text("\t".join(cols) + "\n" + "".join(
        "\t".join(cell(r.get(c)) for c in cols) + "\n" for r in rows))


def finish(outdir: Path, text: str, payload: dict, figure_path: Path | None = None,
           table: list[dict] | None = None) -> int:
    """Write results.md (text), results.json (payload) and, with table, results.tsv; print the
    text and where the figure is. Returns the script's exit status, 0."""
    outdir = Path(outdir)
    (outdir / "results.md").write_text(text.rstrip("\n") + "\n")
    (outdir / "results.json").write_text(json.dumps(payload, indent=2, default=_plain) + "\n")
    if table:
        write_tsv(table, outdir / "results.tsv")
    print()
    print(text.rstrip("\n"))
    if figure_path is not None:
        print(f"figure: {figure_path}")
    return 0


# ---------------------------------------------------------------- figures

def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path, tight: bool = True) -> None:
    """Save as PNG at 130 dpi (creating the folder) and close."""
    if tight:
        fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    pyplot().close(fig)


def strip_figure(path: Path, ticks: list[str], strips: Iterable[tuple], *, title: str, ylabel: str,
                 figsize: tuple[float, float], lines: Iterable[tuple] = (), dividers: Iterable[float] = (),
                 xlim: tuple[float, float] | None = None, half_width: float = 0.28, dot_size: float = 18,
                 mean_labels: bool = True, tick_size: float = 7, title_size: float = 9,
                 legend: str = "lower left") -> None:
    """One value per seed as dots, and a bar at their mean, for each strip.

    strips: (x, values, colour, marker); ticks: one label per x = 0, 1, ...; lines: horizontal
    reference lines (y, linestyle, colour, label); dividers: x positions of light vertical lines.
    mean_labels writes each mean beside its bar."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=figsize)
    for x, values, colour, marker in strips:
        if not values:
            continue
        ax.scatter([x] * len(values), values, color=colour, marker=marker, s=dot_size, zorder=3)
        mean = statistics.mean(values)
        ax.hlines(mean, x - half_width, x + half_width, color="k")
        if mean_labels:
            ax.text(x + half_width + 0.02, mean, f"{mean:.3f}", va="center", fontsize=7)
    for x in dividers:
        ax.axvline(x, color="lightgrey", lw=0.8)
    lines = list(lines)
    for y, style, colour, label in lines:
        ax.axhline(y, ls=style, color=colour, lw=1, label=label)
    ax.set_xticks(range(len(ticks)), ticks, fontsize=tick_size)
    if xlim:
        ax.set_xlim(*xlim)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_title(title, fontsize=title_size)
    if lines:
        ax.legend(fontsize=7, loc=legend)
    save_figure(fig, path)
