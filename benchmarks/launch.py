"""Run one command in a fresh process and read its wall time, CPU time and peak memory.

The command is started by a small launcher process, not by the benchmark: on Linux a child's
ru_maxrss keeps the high-water mark of the process it was forked from (exec does not reset
it), so forking straight from a benchmark with pyarrow or torch loaded would report at least
that much for every command. A bare `python -S` launcher is ~10 MiB. Standard library only,
so that importing it adds nothing to what the benchmarks measure.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LAUNCHER = """
import json, os, sys, time
t = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t
rss_kib = ru.ru_maxrss / (1024 if sys.platform == "darwin" else 1)
with open(sys.argv[1], "w") as fh:
    json.dump({"rc": os.waitstatus_to_exitcode(status), "wall_s": wall,
               "cpu_s": ru.ru_utime + ru.ru_stime, "rss_mib": rss_kib / 1024}, fh)
"""


def measure(cmd: list[str], log: Path, env: dict[str, str] | None = None,
            keep_stdout: bool = False) -> dict:
    """Run `cmd` once: rc, wall seconds, CPU seconds (user+sys), peak RSS (MiB) of its process.

    stderr (and stdout with `keep_stdout`) goes to `log`; the figures to `log` with `.json`.
    """
    result = log.with_suffix(".json")
    with open(log, "wb") as err:
        subprocess.run([sys.executable, "-S", "-c", LAUNCHER, str(result), *cmd],
                       stdout=err if keep_stdout else subprocess.DEVNULL, stderr=err, env=env,
                       check=False)
    return json.loads(result.read_text())
