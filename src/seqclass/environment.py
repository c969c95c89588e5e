"""Versions of the software a result was made with, for model directories and versions.yml."""

from __future__ import annotations

import platform
from importlib import metadata

from seqclass import __version__

TRACKED_DISTRIBUTIONS = ("numpy", "scikit-learn", "pyarrow", "torch", "transformers")


def library_versions() -> dict[str, str]:
    versions = {"seqclass": __version__, "python": platform.python_version()}
    for dist in TRACKED_DISTRIBUTIONS:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions
