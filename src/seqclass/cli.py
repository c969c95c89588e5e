"""`seqclass <step>`: one command, one module per step under seqclass.steps.

Each step module provides `Config` (a dataclass of its flags), `add_arguments` where it
needs more than Config, and `run(config)`. Only the step being run is imported, so a
command does not pay for the libraries of the others. Bad input ends the command with
one line on stderr and exit status 1; `--debug` shows the traceback instead.

Every failure is one line on stderr, `seqclass STEP: error: ...`: bad input, a bad option value
and an operating-system error (a path that cannot be written, a full disk) exit with status 1,
a command line that cannot be parsed with 2, Ctrl-C with 130 and SIGTERM with 143. Anything
else is an internal error, also one line (its type and message); `--debug` re-raises every one.
On SIGTERM the step unwinds as on an error, so that no temporary output survives it.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, NoReturn

from seqclass import __version__, config
from seqclass.errors import ClusterError, InputError

STEPS = {
    "build": "labelled sequences → dataset.parquet",
    "split": "dataset.parquet → split.parquet with train/valid/test, leakage report",
    "chunk": "split.parquet → chunks.parquet (windows, reads, random stretches)",
    "pretrain": "unlabelled FASTA → k-mer AWD-LSTM language model (LM_DIR) for awd-lstm",
    "train": "split.parquet | chunks.parquet → model directory",
    "evaluate": "model + split.parquet → metrics.json, plots",
    "predict": "model + FASTA/FASTQ/table → predictions.tsv, tracks.tsv",
    "interpret": "model + sequences → ISM and occlusion saliency (TSV, PNG); tracks → plots",
    "report": "outputs of the other steps → MultiQC custom content",
    "versions": "versions.yml for a pipeline process",
}


class Terminated(BaseException):
    """SIGTERM arrived: raised where the step is, so that it unwinds (its temporary outputs are
    removed) as on any error. Not an Exception, so that no `except Exception` swallows it."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors one line (without the usage, which runs over many lines)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def one_line(text: object) -> str:
    """`text` on one line: its lines joined by "; "."""
    return "; ".join(line.strip() for line in str(text).splitlines() if line.strip())


def describe_os_error(err: OSError) -> str:
    """"PATH: reason" of an operating-system error (the destination of a rename or copy)."""
    path = err.filename2 if err.filename2 is not None else err.filename
    reason = err.strerror or one_line(err) or type(err).__name__
    return f"{path}: {reason}" if path is not None and str(path) not in reason else reason


def make_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser, or one whose only complete subcommand is `only`."""
    # no abbreviated flags: a misspelt option in a pipeline's ext.args must fail, not match another
    parser = _Parser(
        prog="seqclass", allow_abbrev=False,
        description="Train, evaluate and apply classifiers of DNA and protein sequences. "
        "Every step reads files and writes files.")
    parser.add_argument("--version", action="version", version=f"seqclass {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="step", required=True, metavar="STEP")
    for name, summary in STEPS.items():
        p = sub.add_parser(name, help=summary, allow_abbrev=False,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if only is not None and name != only:
            continue
        module = importlib.import_module(f"seqclass.steps.{name}")
        p.description = module.__doc__
        if hasattr(module, "add_arguments"):
            module.add_arguments(p)
        else:
            config.add_arguments(p, module.Config)
        p.set_defaults(module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # the step is the first word that is not an option of seqclass itself
    step = next((a for a in argv if not a.startswith("-")), None)
    # no step (--version, --help) or an unknown one: argparse answers without importing any step
    parser = make_parser(step if step in STEPS else "")
    # before parsing, so that a deprecated flag's warning (config._Deprecated) reads like the rest
    logging.basicConfig(level=logging.DEBUG if "--debug" in argv else logging.INFO,
                        format=f"seqclass {step}: %(message)s", stream=sys.stderr, force=True)
    args = parser.parse_args(argv)
    module = args.module
    restore = _raise_on_sigterm()
    try:
        try:
            cfg = module.make_config(args) if hasattr(module, "make_config") else config.from_args(
                module.Config, args)
        except ValueError as err:  # an option out of range (config.OptionError), before any input
            return _fail(args, err, one_line(err))
        module.run(cfg)
    except (InputError, ClusterError) as err:
        return _fail(args, err, one_line(err))
    except OSError as err:  # unwritable or missing paths, a full disk, a read-only file system
        return _fail(args, err, describe_os_error(err))
    except KeyboardInterrupt as err:
        return _fail(args, err, "interrupted", 130)
    except Terminated as err:
        return _fail(args, err, "terminated (SIGTERM)", 143)
    except Exception as err:
        first = next(iter(str(err).strip().splitlines()), "")
        return _fail(args, err, f"internal error: {type(err).__name__}: {first}; rerun with "
                     "--debug for the traceback")
    finally:
        restore()
    return 0


def _fail(args: argparse.Namespace, err: BaseException, message: str, status: int = 1) -> int:
    """Print the one line of a failure, or with --debug re-raise `err` (which is being handled)."""
    if args.debug:
        raise err
    print(f"seqclass {args.step}: error: {one_line(message)}", file=sys.stderr)
    return status


def _raise_on_sigterm() -> Callable[[], None]:
    """Make SIGTERM raise Terminated in the main thread while the step runs; returns the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the clean-up short
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore
