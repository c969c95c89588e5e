"""`seqclass <step>`: one command, one module per step under seqclass.steps.

Each step module provides `HELP`, `Config` (a dataclass of its flags), `add_arguments`
where it needs more than Config, and `run(config)`. Bad input ends the command with
one line on stderr and exit status 1; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from seqclass import __version__, config
from seqclass.data.cluster import ClusterError
from seqclass.errors import InputError

STEPS = ("build", "split", "chunk", "train", "evaluate", "predict", "report", "versions")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seqclass", description="Train, evaluate and apply classifiers of DNA and protein "
        "sequences. Every step reads files and writes files.")
    parser.add_argument("--version", action="version", version=f"seqclass {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="step", required=True, metavar="STEP")
    for name in STEPS:
        module = importlib.import_module(f"seqclass.steps.{name}")
        p = sub.add_parser(name, help=module.HELP, description=module.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if hasattr(module, "add_arguments"):
            module.add_arguments(p)
        else:
            config.add_arguments(p, module.Config)
        p.set_defaults(module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format=f"seqclass {args.step}: %(message)s", stream=sys.stderr)
    module = args.module
    try:
        cfg = module.make_config(args) if hasattr(module, "make_config") else config.from_args(
            module.Config, args)
        module.run(cfg)
    except (InputError, ClusterError) as err:
        if args.debug:
            raise
        print(f"seqclass {args.step}: error: {err}", file=sys.stderr)
        return 1
    return 0
