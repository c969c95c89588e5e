"""Small helpers of the command line that the steps share: sidecar file names, provenance
records, the flags of the --bam route and of scoring threads."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from seqclass import __version__, config
from seqclass.evaluation import abstain
from seqclass.io.alignments import ConsensusOptions


def add_arguments_with_bam(parser: argparse.ArgumentParser, cls: type, title: str) -> None:
    """A step's flags, then those of the --bam route (ConsensusOptions, which `cls` extends) in a
    group of their own, so that --help lists the step's own first."""
    bam = {f.name for f in dataclasses.fields(ConsensusOptions)}
    config.add_arguments(parser, cls, set(bam))
    config.add_arguments(parser.add_argument_group(title), ConsensusOptions)


def scoring_threads() -> Any:
    """The --threads field of the steps that score a model (evaluate, predict)."""
    return config.option("CPU threads for scoring: BLAST of a similarity model, PyTorch of a deep "
                         "or Hugging Face one (default: the similarity model's training setting; "
                         "PyTorch's own, one per core)", None)


def trust_remote_code() -> Any:
    """The --trust-remote-code field of the steps that load a model directory."""
    return config.option("let the model directory run the code it carries (a Hugging Face "
                         "auto_map and its Python files), and only if it is the code recorded "
                         "when the model was trained; off unless given", False)


def label_threshold() -> Any:
    """The --threshold field of the steps that call labels (evaluate, predict)."""
    return config.option("multilabel: probability at or above which a label is called",
                         abstain.LABEL_THRESHOLD)


def sidecar(out: Path, suffix: str) -> Path:
    """`results/split.parquet` + `.leakage.tsv` → `results/split.leakage.tsv`."""
    name = out.name
    for ext in (".parquet", ".pq", ".tsv", ".csv"):
        if name.endswith(ext):
            name = name[: -len(ext)]
            break
    return out.with_name(name + suffix)


def provenance(step: str, cfg: Any) -> dict[str, Any]:
    def plain(v: Any) -> Any:  # JSON-ready: paths, also in lists (build --bam), as strings
        return str(v) if isinstance(v, Path) else [plain(x) for x in v] if isinstance(v, list) else v

    options = {k: plain(v) for k, v in dataclasses.asdict(cfg).items()}
    return {"step": step, "seqclass": __version__, "options": options}
