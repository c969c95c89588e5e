"""Write the versions.yml a pipeline process reports: python, seqclass, torch and CUDA where present."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from seqclass.config import option
from seqclass.environment import library_versions
from seqclass.io.atomic import atomic_outputs


@dataclass
class Config:
    process: str = option("the process name the versions are filed under (task.process)")
    out: Path = option("YAML file to write", Path("versions.yml"))


def run(cfg: Config) -> None:
    versions = library_versions()
    try:
        import torch

        versions["torch"] = torch.__version__
        versions["cuda"] = torch.version.cuda if torch.cuda.is_available() else "none"
    except ImportError:
        pass
    with atomic_outputs([], [cfg.out]) as outs:
        outs.file(cfg.out).write_text(yaml.safe_dump({cfg.process: versions}, sort_keys=False))
