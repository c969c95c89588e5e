"""Atomic outputs: every file or directory a step writes appears whole or not at all.

A step asks for temporary paths beside its final outputs, writes there, and the
context manager renames them into place only when the step finished without error.
On error the temporaries are removed and nothing at the final paths changes (a
`work_directory` may be kept for the next run to resume from, under a hidden name).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from seqclass.errors import InputError


class OutputSet:
    """Temporary paths for a step's outputs, committed together."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []
        self._keep: dict[Path, Callable[[Path], bool]] = {}

    def file(self, final: str | Path) -> Path:
        final = Path(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        os.close(fd)
        self._pending.append((Path(tmp), final))
        return Path(tmp)

    def directory(self, final: str | Path) -> Path:
        final = Path(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
        self._pending.append((tmp, final))
        return tmp

    def work_directory(self, final: str | Path, keep_on_error: Callable[[Path], bool]) -> Path:
        """A temporary directory with a fixed name, `.NAME.partial` beside `final`, that a
        killed or failed step leaves behind when `keep_on_error(directory)` says so (a
        training run's checkpoints), so that the next run can pick up from it. It is
        committed like `directory()`; an existing one is reused as it is.
        """
        final = Path(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = work_path(final)
        tmp.mkdir(exist_ok=True)
        self._pending.append((tmp, final))
        self._keep[tmp] = keep_on_error
        return tmp

    def commit(self) -> None:
        umask = _umask()
        for tmp, final in self._pending:
            # mkstemp/mkdtemp create 0600/0700; give outputs the mode a plain open() would
            os.chmod(tmp, (0o777 if tmp.is_dir() else 0o666) & ~umask)
            if tmp.is_dir():
                if final.exists():
                    old = final.with_name(f".{final.name}.old")
                    shutil.rmtree(old, ignore_errors=True)
                    final.rename(old)
                    tmp.rename(final)
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    tmp.rename(final)
            else:
                os.replace(tmp, final)
        self._pending.clear()

    def discard(self) -> None:
        for tmp, _ in self._pending:
            if tmp in self._keep and tmp.is_dir() and self._keep[tmp](tmp):
                continue
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)
        self._pending.clear()


def work_path(final: str | Path) -> Path:
    """Where `work_directory(final)` lives."""
    final = Path(final)
    return final.with_name(f".{final.name}.partial")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_outputs(inputs: Sequence[str | Path] | None = None,
                   outputs: Sequence[str | Path] | None = None) -> Iterator[OutputSet]:
    """Yield an OutputSet; refuse outputs that would overwrite an input the user gave."""
    given = {Path(p).resolve() for p in (inputs or [])}
    for out in outputs or []:
        if Path(out).resolve() in given:
            raise InputError("output path is also an input; refusing to overwrite it", out)
    outs = OutputSet()
    try:
        yield outs
    except BaseException:
        outs.discard()
        raise
    outs.commit()
