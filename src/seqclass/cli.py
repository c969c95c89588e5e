"""`seqclass <step>`: one command, one module per step under seqclass.steps.

Each step module provides `Config` (a dataclass of its flags), `add_arguments` where it
needs more than Config, and `run(config)`. Only the step being run is imported, so a
command does not pay for the libraries of the others. Bad input ends the command with
one line on stderr and exit status 1; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

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


def make_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser, or one whose only complete subcommand is `only`."""
    # no abbreviated flags: a misspelt option in a pipeline's ext.args must fail, not match another
    parser = argparse.ArgumentParser(
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
