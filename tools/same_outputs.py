#!/usr/bin/env python3
"""Did a change alter what seqclass computes? Run the same jobs before and after, compare hashes.

    python tools/same_outputs.py run OUT [--repo DIR]   # the demo pipeline and the recipe chains
    python tools/same_outputs.py diff OUT_BEFORE OUT_AFTER

`run` runs `make demo`'s pipeline (-profile test,local) and each assets/recipes/<name>.sh on
small slices of ../shared/data (tests/recipe_slices.py, the sizes the recipe tests use), with
the repository DIR's main.nf and scripts and whatever `seqclass` the PATH and PYTHONPATH give,
then writes OUT/manifest.tsv: the SHA-256 of every prediction table, metrics file and model
weight file they wrote (the run's own folder written as OUT in the text files). `diff`
hashes two such folders, prints the files that differ or that only one run wrote, and exits
1 if there are any. To check a refactor against the commit before it:

    git worktree add /tmp/before HEAD~1
    PYTHONPATH=/tmp/before/src python tools/same_outputs.py run /tmp/out_before --repo /tmp/before
    python tools/same_outputs.py run /tmp/out_after
    python tools/same_outputs.py diff /tmp/out_before /tmp/out_after
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "tests"))
from recipe_slices import SIZES, arg_query, write_fasta, write_slices  # noqa: E402

# what a user reads as the result of a run; model weights stand for everything trained
COMPARED = ("metrics.json", "predictions*.tsv", "tracks.tsv", "abstain.tsv", "*.safetensors", "labels.json")


def _env(slices: Path) -> dict[str, str]:
    path = os.pathsep.join([str(Path(sys.executable).parent), str(HERE / ".venv" / "bin"),
                            os.environ["PATH"]])
    return {**os.environ, "PATH": path, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "THREADS": "1",
            "DATA": str(slices), "NXF_OFFLINE": "true"}


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    cwd.mkdir(parents=True, exist_ok=True)
    with open(cwd / "log.txt", "w") as log:
        if subprocess.run(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT).returncode:
            sys.exit(f"failed: {' '.join(command)} (log: {cwd / 'log.txt'})")


def run(out: Path, repo: Path) -> None:
    slices = write_slices(out / "data", HERE.parent / "shared" / "data")
    env = _env(slices)
    _run(["nextflow", "run", str(repo / "main.nf"), "-profile", "test,local", "--outdir",
          str(out / "demo" / "results")], out / "demo", env)
    for recipe, sizes in SIZES.items():
        extra = {k: str(v) for k, v in sizes.items()}
        if recipe == "arg":
            write_fasta(out / recipe / "query.fa", arg_query(slices))
            extra["QUERY"] = str(out / recipe / "query.fa")
        _run(["bash", str(repo / "assets" / "recipes" / f"{recipe}.sh")], out / recipe,
             {**env, "OUT": str(out / recipe / "out"), **extra})
    rows = sorted(hashes(out).items())
    (out / "manifest.tsv").write_text("".join(f"{path}\t{sha}\n" for path, sha in rows))
    print(f"{len(rows)} files hashed in {out / 'manifest.tsv'}")


def hashes(out: Path) -> dict[str, str]:
    """SHA-256 of each compared file under `out` (not Nextflow's work/), with the run's own
    folder written as OUT in text files, so that runs in two folders compare."""
    found = {}
    for pattern in COMPARED:
        for path in out.rglob(pattern):
            if "work" in path.relative_to(out).parts:
                continue
            data = path.read_bytes()
            if path.suffix in (".json", ".tsv"):
                data = data.replace(str(out).encode(), b"OUT")
            found[str(path.relative_to(out))] = hashlib.sha256(data).hexdigest()
    return found


def diff(before: Path, after: Path) -> int:
    old, new = hashes(before.resolve()), hashes(after.resolve())
    changed = sorted(p for p in old.keys() | new.keys() if old.get(p) != new.get(p))
    for path in changed:
        state = "only before" if path not in new else "only after" if path not in old else "differs"
        print(f"{state}\t{path}")
    print(f"{len(old.keys() & new.keys()) - len(set(changed) & old.keys() & new.keys())} of "
          f"{len(old.keys() | new.keys())} files identical")
    return 1 if changed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run")
    run_parser.add_argument("out", type=Path)
    run_parser.add_argument("--repo", type=Path, default=HERE)
    diff_parser = sub.add_parser("diff")
    diff_parser.add_argument("before", type=Path)
    diff_parser.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "run":
        run(args.out.resolve(), args.repo.resolve())
        return 0
    return diff(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
