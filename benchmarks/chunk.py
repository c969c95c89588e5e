"""Benchmark `seqclass chunk` against `seqkit sliding` on the same sequences.

    python benchmarks/chunk.py                      # timing, both settings (~35 s on 2 cores)
    python benchmarks/chunk.py --scaling            # + peak memory on 1x/4x/16x copies (~45 s in all)
    python benchmarks/chunk.py --json out.json      # also write the numbers

Input: the real data in ../shared/data beside the clone when present (E. coli K-12 and
S. epidermidis genomes, arg/*.fasta), otherwise a seeded synthetic FASTA of similar shape
(so it runs from any clone); `--input` overrides (FASTA/FASTQ paths, each optionally
LABEL=PATH, passed to `seqclass build` as given).

What is timed, each `--repeats` times (median wall time reported), interleaved:
  * `seqclass chunk --dataset D --window W --stride S --out C` (run as
    `python -m seqclass`, the interpreter running this script);
  * `seqkit sliding -W W -s S D.fa -o out.fa` and the same with `-g/--greedy`;
  * `seqclass chunk --help`: start-up alone (Python imports), reported as a baseline.
`seqclass build` runs once, untimed in the comparison (its time and memory are shown
apart). seqkit reads a plain FASTA written from the dataset Parquet, so both tools see
exactly the same sequences (after build's normalisation and de-duplication).
Settings: --window/--stride (default 1024/512, NucArg's long-read setting) and the
100-nt read setting (100/100; --reads-window/--reads-stride, --no-reads to skip).

Peak memory is the resident set size (ru_maxrss) of each command's process, read with
os.wait4 in a small launcher process that forks and execs the command (so the figure is
not inflated by this script's own memory); no /usr/bin/time needed.

Window counts differ by design and are checked against the rule of each tool:
  * seqclass: a sequence no longer than W is one chunk of its own length; otherwise
    windows every S, and the last window ends at the sequence end (no ragged tail);
  * seqkit:   full windows every S only; shorter sequences and the tail are dropped;
  * seqkit -g: a window at every start 0, S, 2S... < L, the last ones shorter than W.

--scaling: builds datasets of 4x and 16x copies of the records (new ids, same
sequences, written with seqclass's own Parquet writer, so as one row group like
`seqclass build`) and runs `seqclass chunk` once on each, reporting peak RSS, to show
whether chunk's memory stays flat as the input grows.

Needs: seqkit on PATH (Debian/Ubuntu: `apt-get install seqkit`) or --seqkit PATH, and the
seqclass package installed in the interpreter that runs this script.
"""

from __future__ import annotations

import argparse
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

import launch  # benchmarks/launch.py, beside this script
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
SEQCLASS = [sys.executable, "-m", "seqclass"]


# --- running one command -------------------------------------------------------------

def measure(cmd: list[str], log: Path) -> dict:
    """Run `cmd` once; wall seconds, CPU seconds (user+sys) and peak RSS (MiB) of its process."""
    m = launch.measure(cmd, log)
    if m.pop("rc") != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{log.read_text()[-2000:]}")
    return m


def summarise(runs: list[dict]) -> dict:
    return {"wall_s": statistics.median(r["wall_s"] for r in runs),
            "cpu_s": statistics.median(r["cpu_s"] for r in runs),
            "rss_mib": max(r["rss_mib"] for r in runs),
            "wall_s_all": [round(r["wall_s"], 3) for r in runs]}


# --- input -----------------------------------------------------------------------------

def default_inputs() -> list[str] | None:
    genomes = [SHARED / "genomes" / "e_coli_K12_MG1655.fna.gz",
               SHARED / "genomes" / "s_epidermidis_ST14.fa.gz"]
    if not all(p.exists() for p in genomes):
        return None
    return [str(p) for p in genomes + sorted((SHARED / "arg").glob("*.fasta"))]


def synthetic_inputs(workdir: Path, seed: int) -> list[str]:
    """Seeded stand-in for the real data: two 'genomes' and two classes of gene-length records."""
    rng = np.random.default_rng(seed)
    bases = np.frombuffer(b"ACGT", dtype=np.uint8)

    def dna(n: int, gc: float) -> str:
        p = [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2]
        return rng.choice(bases, size=n, p=p).tobytes().decode()

    files = {
        "synthetic_genome": [(f"contig{i}", dna(n, 0.45)) for i, n in enumerate((2_500_000, 1_200_000))],
        "synthetic_genes_gc50": [(f"ga{i}", dna(int(n), 0.50))
                                 for i, n in enumerate(rng.integers(150, 2500, 3500))],
        "synthetic_genes_gc32": [(f"gb{i}", dna(int(n), 0.32))
                                 for i, n in enumerate(rng.integers(150, 2500, 3500))],
    }
    paths = []
    for name, records in files.items():
        path = workdir / f"{name}.fa"
        with open(path, "w") as fh:
            for rid, seq in records:
                fh.write(f">{rid}\n")
                fh.writelines(seq[i:i + 80] + "\n" for i in range(0, len(seq), 80))
        paths.append(str(path))
    return paths


def write_fasta(dataset: Path, out: Path) -> None:
    with open(out, "w") as fh:
        for batch in pq.ParquetFile(dataset).iter_batches(batch_size=2048, columns=["id", "sequence"]):
            cols = batch.to_pydict()
            fh.writelines(f">{i}\n{s}\n" for i, s in zip(cols["id"], cols["sequence"]))


def replicate(dataset: Path, factor: int, out: Path) -> None:
    """`factor` copies of every record, copies 2.. with new ids, written the way build writes."""
    from seqclass.io.tables import read_meta, write_parquet

    table = pq.read_table(dataset)
    parts = [table] + [table.set_column(table.schema.get_field_index("id"), "id",
                                        pc.binary_join_element_wise(table["id"], f"~copy{i}", ""))
                       for i in range(1, factor)]
    write_parquet(pa.concat_tables(parts), out, read_meta(dataset))


# --- window counts -------------------------------------------------------------------------

def expected_counts(lengths: np.ndarray, w: int, s: int) -> dict[str, int]:
    long = lengths[lengths > w]
    seqclass = int((lengths <= w).sum() + ((long - w) // s + 1 + ((long - w) % s > 0)).sum())
    full = lengths[lengths >= w]
    seqkit = int(((full - w) // s + 1).sum())
    greedy = int((-(-lengths // s)).sum())
    return {"seqclass chunk": seqclass, "seqkit sliding": seqkit, "seqkit sliding -g": greedy}


def count_fasta(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        for line in fh:
            n += line.startswith(b">")
    return n


# --- main ------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", nargs="+", metavar="[LABEL=]PATH",
                    help="FASTA/FASTQ inputs for seqclass build (default: ../shared/data, else synthetic)")
    ap.add_argument("--synthetic", action="store_true",
                    help="use the synthetic input even if shared data exist")
    ap.add_argument("--seed", type=int, default=0, help="seed of the synthetic input")
    ap.add_argument("--window", type=int, default=1024)
    ap.add_argument("--stride", type=int, default=512)
    ap.add_argument("--reads-window", type=int, default=100)
    ap.add_argument("--reads-stride", type=int, default=100)
    ap.add_argument("--no-reads", action="store_true", help="skip the read-length setting")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scaling", action="store_true",
                    help="also measure chunk's peak RSS on 1x/4x/16x copies")
    ap.add_argument("--factors", default="1,4,16", help="copy counts for --scaling")
    ap.add_argument("--seqkit", default=shutil.which("seqkit"), help="seqkit binary")
    ap.add_argument("--workdir", type=Path, help="keep intermediate files here (default: a temp dir)")
    ap.add_argument("--json", type=Path, help="write the numbers here")
    args = ap.parse_args()
    if not args.seqkit:
        sys.exit("seqkit not found: apt-get install seqkit, or pass --seqkit PATH")

    tmp = None
    if args.workdir:
        work = args.workdir
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-chunk-")
        work = Path(tmp.name)
    try:
        run(args, work)
    finally:
        if tmp:
            tmp.cleanup()


def run(args: argparse.Namespace, work: Path) -> None:
    t_start, load_start = time.perf_counter(), os.getloadavg()
    if args.input:
        inputs, source = args.input, "--input"
    elif not args.synthetic and (inputs := default_inputs()):
        source = "shared data (../shared/data)"
    else:
        inputs, source = synthetic_inputs(work, args.seed), f"synthetic (seed {args.seed})"
    seqkit_version = subprocess.run([args.seqkit, "version"], capture_output=True, text=True).stdout.strip()
    print(f"input: {source}")
    for p in inputs:
        print(f"  {p}")

    dataset = work / "dataset.parquet"
    build = measure(SEQCLASS + ["build", "--out", str(dataset), "--input", *inputs], work / "build.log")
    lengths = pq.read_table(dataset, columns=["length"])["length"].to_numpy()
    meta = pq.ParquetFile(dataset).metadata
    fasta = work / "dataset.fa"
    write_fasta(dataset, fasta)
    data = {"records": int(len(lengths)), "residues": int(lengths.sum()), "max_length": int(lengths.max()),
            "parquet_mib": dataset.stat().st_size / 2**20, "row_groups": meta.num_row_groups,
            "fasta_mib": fasta.stat().st_size / 2**20}
    print(f"dataset: {data['records']} records, {data['residues'] / 1e6:.2f} Mb, longest "
          f"{data['max_length']:,} nt; Parquet {data['parquet_mib']:.1f} MiB in "
          f"{data['row_groups']} row group(s); FASTA for seqkit {data['fasta_mib']:.1f} MiB")
    print(f"seqclass build (once, not compared): {build['wall_s']:.2f} s wall, "
          f"peak RSS {build['rss_mib']:.0f} MiB")
    print(f"{seqkit_version}; {os.cpu_count()} CPUs; Python {platform.python_version()}, "
          f"pyarrow {pa.__version__}")

    startup_runs: list[dict] = []
    settings = [(args.window, args.stride)]
    if not args.no_reads:
        settings.append((args.reads_window, args.reads_stride))
    results = []
    for w, s in settings:
        chunks_out, sk_out = work / f"chunks_{w}_{s}.parquet", work / f"seqkit_{w}_{s}.fa"
        cmds = {
            "seqclass chunk": (SEQCLASS + ["chunk", "--dataset", str(dataset), "--window", str(w),
                                           "--stride", str(s), "--out", str(chunks_out)], chunks_out),
            "seqkit sliding": ([args.seqkit, "sliding", "-W", str(w), "-s", str(s), str(fasta),
                                "-o", str(sk_out)], sk_out),
            "seqkit sliding -g": ([args.seqkit, "sliding", "-g", "-W", str(w), "-s", str(s), str(fasta),
                                   "-o", str(sk_out)], sk_out),
        }
        runs: dict[str, list[dict]] = {name: [] for name in cmds}
        counts: dict[str, int] = {}
        for _ in range(args.repeats):
            startup_runs.append(measure(SEQCLASS + ["chunk", "--help"], work / "help.log"))
            for name, (cmd, out) in cmds.items():
                runs[name].append(measure(cmd, work / "cmd.log"))
                counts[name] = (pq.ParquetFile(out).metadata.num_rows if out.suffix == ".parquet"
                                else count_fasta(out))
        expected = expected_counts(lengths, w, s)
        for name in cmds:
            row = {"window": w, "stride": s, "tool": name, "command": " ".join(cmds[name][0]),
                   "windows": counts[name], "expected_windows": expected[name], **summarise(runs[name])}
            results.append(row)

    # --- timing table
    startup = summarise(startup_runs)
    print()
    print(f"median of {args.repeats} runs; start-up = `seqclass chunk --help`, median of "
          f"{len(startup_runs)}: {startup['wall_s']:.2f} s wall, {startup['cpu_s']:.2f} s CPU, "
          f"{startup['rss_mib']:.0f} MiB")
    head = f"{'W/S':>8}  {'tool':<18} {'wall s':>7} {'cpu s':>6} {'cpu-startup':>11} {'peak RSS MiB':>12} " \
           f"{'windows':>9}  check"
    print(head)
    print("-" * len(head))
    for r in results:
        net = f"{r['cpu_s'] - startup['cpu_s']:11.2f}" if r["tool"] == "seqclass chunk" else " " * 11
        ok = "ok" if r["windows"] == r["expected_windows"] else f"EXPECTED {r['expected_windows']}"
        print(f"{r['window']:>4}/{r['stride']:<4} {r['tool']:<18} {r['wall_s']:7.2f} {r['cpu_s']:6.2f} {net} "
              f"{r['rss_mib']:12.0f} {r['windows']:>9}  {ok}")
    print("windows: seqclass = one chunk per sequence <= W + windows every S with the last one "
          "ending at the sequence end;\n         seqkit drops sequences < W and each ragged tail; "
          "seqkit -g keeps every start < L (short tail windows).")

    # --- scaling
    scaling = []
    if args.scaling:
        w, s = args.window, args.stride
        print(f"\nmemory scaling of seqclass chunk ({w}/{s}), one run per size, dataset written "
              "like `seqclass build` (one row group):")
        print(f"{'copies':>6} {'records':>8} {'Mb':>8} {'Parquet MiB':>11} {'wall s':>7} "
              f"{'peak RSS MiB':>12} {'over start-up':>13} {'chunks':>9}")
        for factor in (int(f) for f in args.factors.split(",")):
            path = dataset if factor == 1 else work / f"dataset_x{factor}.parquet"
            if factor != 1:
                replicate(dataset, factor, path)
            out = work / "chunks_scaling.parquet"
            m = measure(SEQCLASS + ["chunk", "--dataset", str(path), "--window", str(w), "--stride",
                                    str(s), "--out", str(out)], work / "cmd.log")
            row = {"copies": factor, "records": data["records"] * factor,
                   "residues": data["residues"] * factor, "parquet_mib": path.stat().st_size / 2**20,
                   "chunks": pq.ParquetFile(out).metadata.num_rows, **m}
            scaling.append(row)
            print(f"{factor:>6} {row['records']:>8} {row['residues'] / 1e6:8.1f} {row['parquet_mib']:11.1f} "
                  f"{m['wall_s']:7.2f} {m['rss_mib']:12.0f} {m['rss_mib'] - startup['rss_mib']:13.0f} "
                  f"{row['chunks']:>9}")
            if factor != 1:
                path.unlink()
            out.unlink()
        for a, b in zip(scaling, scaling[1:]):
            grow = b["rss_mib"] - a["rss_mib"]
            more = (b["residues"] - a["residues"]) / 2**20
            print(f"peak RSS {a['copies']}x -> {b['copies']}x: {grow:+.0f} MiB for {more:+.0f} Mi more "
                  f"residues ({100 * grow / more:+.1f} MiB per 100 Mi residues)")

    # --- ratios
    print()
    ratios = {}
    for w, s in reversed(settings):
        by = {r["tool"]: r for r in results if (r["window"], r["stride"]) == (w, s)}
        chunk, seqkit = by["seqclass chunk"], by["seqkit sliding"]
        ratios[f"{w}/{s}"] = {
            "wall": chunk["wall_s"] / seqkit["wall_s"], "cpu": chunk["cpu_s"] / seqkit["cpu_s"],
            "cpu_without_startup": (chunk["cpu_s"] - startup["cpu_s"]) / seqkit["cpu_s"]}
        print(f"chunk/seqkit CPU ratio: {ratios[f'{w}/{s}']['cpu']:.2f}, without seqclass start-up "
              f"{ratios[f'{w}/{s}']['cpu_without_startup']:.2f} (window {w}/{s})")
    for w, s in reversed(settings):
        print(f"chunk/seqkit time ratio: {ratios[f'{w}/{s}']['wall']:.2f} (window {w}/{s})")
    load = os.getloadavg()
    print(f"(benchmark took {time.perf_counter() - t_start:.0f} s; load average at the start "
          f"{load_start[0]:.1f}, at the end {load[0]:.1f} on {os.cpu_count()} CPUs)", file=sys.stderr)

    if args.json:
        doc = {"input": {"source": source, "paths": inputs, **data},
               "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                           "pyarrow": pa.__version__, "seqkit": seqkit_version,
                           "platform": platform.platform()},
               "load_average": {"start": load_start[0], "end": load[0]},
               "repeats": args.repeats, "build": build, "startup": startup, "results": results,
               "ratios": ratios, "scaling": scaling}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
