"""Write the versions.yml a pipeline process reports: python, seqclass, torch and CUDA where present."""

from __future__ import annotations

import importlib.util
import runpy
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


def torch_versions(devices: Path = Path("/dev")) -> dict[str, str]:
    """torch's version, and the CUDA version when a GPU is usable ("none" otherwise).

    torch is imported (1.5 s, in every pipeline task) only to ask a CUDA build for a device
    where the NVIDIA driver shows one (/dev/nvidia0, ...): a CPU-only build says so in
    torch/version.py, and without a device node no build can use a GPU.
    """
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return {}
    if spec is None:
        return {}
    version_py = Path(next(iter(spec.submodule_search_locations or []), "")) / "version.py"
    if version_py.is_file():
        built = runpy.run_path(str(version_py))
        if built.get("cuda") is None or not any(devices.glob("nvidia[0-9]*")):
            return {"torch": str(built["__version__"]), "cuda": "none"}
    try:
        import torch
    except ImportError:
        return {}
    return {"torch": str(torch.__version__),  # a TorchVersion, which yaml cannot represent
            "cuda": str(torch.version.cuda) if torch.cuda.is_available() else "none"}


def run(cfg: Config) -> None:
    versions = {**library_versions(), **torch_versions()}
    with atomic_outputs([], [cfg.out], step="versions") as outs:
        outs.file(cfg.out).write_text(yaml.safe_dump({cfg.process: versions}, sort_keys=False))
