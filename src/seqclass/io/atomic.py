"""Atomic outputs: every file or directory a step writes appears whole or not at all, and
never in place of what the user had.

A step asks for temporary paths beside its final outputs, writes there, and the
context manager renames them into place only when the step finished without error.
On error the temporaries are removed and nothing at the final paths changes (a
`work_directory` may be kept for the next run to resume from, under a hidden name).

Before a step writes anything, `atomic_outputs` refuses (InputError, one line):

- an output that is an input, holds an input, or lies inside an input directory, and two
  outputs that are one path or one inside the other, all compared after resolving symlinks;
- a directory output whose path holds anything but a directory a seqclass step wrote (it
  carries the marker file `.seqclass.json`, written into every directory output), and a file
  output whose path holds a directory;
- an output that another seqclass process is writing: each output is locked (`fcntl.flock`
  on `.NAME.lock` beside it, holding the writer's pid) until its step ends; a lock left by
  a process that died is taken over.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from seqclass import __version__
from seqclass.errors import InputError

MARKER = ".seqclass.json"  # in every directory a step writes: {"step": ..., "version": ...}
NOT_OURS = "exists and was not written by seqclass; choose a new --out or remove it"
# what a killed training run leaves in its work directory (before the marker existed)
_WORK_LEFTOVERS = ("checkpoints", "training_log.jsonl", MARKER)


def _real(path: str | Path) -> Path:
    """The absolute path with every symlink resolved (a missing tail is kept as given)."""
    return Path(os.path.realpath(Path(path).expanduser()))


def written_by_seqclass(path: Path) -> bool:
    """Whether `path` is a directory (not a symlink) that a seqclass step wrote."""
    return not path.is_symlink() and path.is_dir() and (path / MARKER).is_file()


def _refuse_unless_ours(final: Path) -> None:
    """Refuse to replace `final` unless it is missing or a directory seqclass wrote."""
    if (final.exists() or final.is_symlink()) and not written_by_seqclass(final):
        raise InputError(NOT_OURS, final)


class OutputSet:
    """Temporary paths for a step's outputs, committed together."""

    def __init__(self, step: str | None = None, declared: Sequence[Path] | None = None) -> None:
        self._pending: list[tuple[Path, Path]] = []
        self._keep: dict[Path, Callable[[Path], bool]] = {}
        self._step = step
        self._declared = None if declared is None else {_real(p) for p in declared}

    def _check_declared(self, final: Path) -> None:
        if self._declared is not None and _real(final) not in self._declared:
            raise ValueError(f"{final}: not among the outputs given to atomic_outputs")

    def file(self, final: str | Path) -> Path:
        final = Path(final)
        self._check_declared(final)
        if final.is_dir() and not final.is_symlink():
            raise InputError("exists and is a directory; choose a new --out or remove it", final)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        os.close(fd)
        self._pending.append((Path(tmp), final))
        return Path(tmp)

    def directory(self, final: str | Path) -> Path:
        final = Path(final)
        self._check_declared(final)
        _refuse_unless_ours(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
        self._pending.append((tmp, final))
        return tmp

    def work_directory(self, final: str | Path, keep_on_error: Callable[[Path], bool]) -> Path:
        """A temporary directory with a fixed name, `.NAME.partial` beside `final`, that a
        killed or failed step leaves behind when `keep_on_error(directory)` says so (a
        training run's checkpoints), so that the next run can pick up from it. It is
        committed like `directory()`; an existing one is reused as it is when seqclass left
        it (it holds the marker, checkpoints/ or training_log.jsonl, or nothing).
        """
        final = Path(final)
        self._check_declared(final)
        _refuse_unless_ours(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = work_path(final)
        if tmp.is_symlink() or (tmp.exists() and not tmp.is_dir()):
            raise InputError(NOT_OURS, tmp)
        if tmp.is_dir():
            names = {p.name for p in tmp.iterdir()}
            if names and not names & set(_WORK_LEFTOVERS):
                raise InputError(NOT_OURS, tmp)
        tmp.mkdir(exist_ok=True)
        self._pending.append((tmp, final))
        self._keep[tmp] = keep_on_error
        return tmp

    def commit(self) -> None:
        for tmp, final in self._pending:  # once more: anything may have appeared meanwhile
            if tmp.is_dir():
                _refuse_unless_ours(final)
            elif final.is_dir() and not final.is_symlink():
                raise InputError("exists and is a directory; choose a new --out or remove it",
                                 final)
        umask = _umask()
        for tmp, final in self._pending:
            # mkstemp/mkdtemp, and libraries such as safetensors, create 0600/0700; give each
            # output, and everything a directory output holds, the mode a plain open() would
            for path in [tmp, *(tmp.rglob("*") if tmp.is_dir() else ())]:
                if not path.is_symlink():
                    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)
            if tmp.is_dir():
                (tmp / MARKER).write_text(json.dumps({"step": self._step,
                                                      "version": __version__}) + "\n")
                if final.exists():
                    old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old",
                                                dir=final.parent))
                    final.replace(old)  # onto the empty directory just made
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


def lock_path(final: str | Path) -> Path:
    """The lock file of output `final`: `.NAME.lock` beside it (symlinks resolved)."""
    real = _real(final)
    return real.with_name(f".{real.name}.lock")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _inside(path: Path, directory: Path) -> bool:
    return directory in path.parents


def check_paths(inputs: Sequence[str | Path | None], outputs: Sequence[str | Path | None]) -> None:
    """Refuse outputs that are, hold or lie inside an input, or another output."""
    given_in = [(Path(p), _real(p)) for p in inputs if p is not None]
    given_out = [(Path(p), _real(p)) for p in outputs if p is not None]
    for i, (out, real) in enumerate(given_out):
        for inp, real_in in given_in:
            if real == real_in:
                raise InputError("output path is also an input; refusing to overwrite it", out)
            if _inside(real_in, real):
                raise InputError(f"output would hold the input {inp}; refusing to replace it", out)
            if _inside(real, real_in):
                raise InputError(f"output is inside the input {inp}; refusing to write into it",
                                 out)
        for other, real_other in given_out[:i]:
            if real == real_other:
                raise InputError(f"output path is also the output {other}; refusing to write "
                                 "one over the other", out)
            if _inside(real, real_other) or _inside(real_other, real):
                raise InputError(f"output path and the output {other} are one inside the other; "
                                 "refusing to write both", out)


def _read_pid(fd: int) -> str:
    try:
        text = os.pread(fd, 64, 0).decode(errors="replace").strip()
    except OSError:
        return "?"
    return text if text.isdigit() else "?"


def _acquire(out: Path) -> tuple[int, bytes | None] | None:
    """Lock output `out` for this process: the open, locked lock file and, when it was there
    before (left by a process that died), what it held; None where the file system has no
    locks. Raises InputError while another process holds it."""
    lock = lock_path(out)
    while True:
        before: bytes | None = None
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            try:
                fd = os.open(lock, os.O_RDWR)
            except FileNotFoundError:  # its holder just removed it
                continue
            before = b""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            pid = _read_pid(fd)
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise InputError(f"{out} is in use by another seqclass process (pid {pid})") from None
            if before is None:  # no locking here (some network file systems)
                with contextlib.suppress(OSError):
                    lock.unlink()
            return None
        try:  # the holder before us may have removed the file as we opened it: lock the new one
            current = os.stat(lock)
            mine = os.fstat(fd)
            if (current.st_dev, current.st_ino) == (mine.st_dev, mine.st_ino):
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    if before is not None:
        before = os.pread(fd, 64, 0)
    os.ftruncate(fd, 0)  # a stale lock of a process that died is ours now
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd, before


def _release(out: Path, held: tuple[int, bytes | None] | None, done: bool) -> None:
    """Unlock `out`. A stale lock file found at the start stays, as it was, when the step
    failed (it belongs with the work directory the dead process left); else it goes."""
    if held is None:
        return
    fd, before = held
    if done or before is None:
        with contextlib.suppress(OSError):
            lock_path(out).unlink()
    else:
        os.ftruncate(fd, 0)
        os.pwrite(fd, before, 0)
    os.close(fd)


def _make_parents(paths: Sequence[Path]) -> list[Path]:
    """Create the missing parent directories of `paths`; the ones created, deepest first."""
    made: list[Path] = []
    for path in paths:
        missing = [p for p in _real(path).parents if not p.exists()]
        for parent in reversed(missing):
            with contextlib.suppress(FileExistsError):
                parent.mkdir()
                made.append(parent)
    return made[::-1]


@contextlib.contextmanager
def atomic_outputs(inputs: Sequence[str | Path | None] | None = None,
                   outputs: Sequence[str | Path | None] | None = None,
                   step: str | None = None) -> Iterator[OutputSet]:
    """Yield an OutputSet for `outputs` (every path the step writes), which must not be, hold
    or lie in one of `inputs` (every path it reads) or each other; lock them while it runs.

    `step` is recorded in the marker of each directory output.
    """
    ins = list(inputs or [])
    outs_given = [Path(p) for p in outputs or [] if p is not None]
    check_paths(ins, outs_given)
    for out in outs_given:  # a directory seqclass did not write is neither kind of output
        if out.is_dir() and not written_by_seqclass(out):
            raise InputError(NOT_OURS, out)
    made = _make_parents(outs_given)
    locks: list[tuple[Path, tuple[int, bytes | None] | None]] = []
    done = False
    try:
        for out in sorted(outs_given, key=_real):
            locks.append((out, _acquire(out)))
        outs = OutputSet(step, outs_given)
        try:
            yield outs
            outs.commit()
        except BaseException:
            outs.discard()
            raise
        done, made = True, []
    finally:
        for out, held in reversed(locks):
            _release(out, held, done)
        for parent in made:  # the step failed: leave no empty directories behind either
            with contextlib.suppress(OSError):
                parent.rmdir()
