"""seqclass: train, evaluate and apply classifiers of DNA and protein sequences."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _installed_version
from pathlib import Path


def _version() -> str:
    """The version of the installed package; the repository's VERSION file (the one place the
    version is written: pyproject.toml and nextflow.config read it too) for a source tree run
    without an install, as bin/seqclass does under -profile conda."""
    try:
        return _installed_version("seqclass")
    except PackageNotFoundError:
        version_file = Path(__file__).resolve().parents[2] / "VERSION"
        return version_file.read_text(encoding="utf-8").strip() if version_file.is_file() else "0+unknown"


__version__ = _version()
