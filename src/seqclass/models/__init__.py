"""Model families behind one registry and one contract (see `base.Classifier`).

Importing this package registers every family module listed in `FAMILY_MODULES`;
a new family is one file here that decorates its class with `@register("name")`.
"""

from __future__ import annotations

import importlib

from seqclass.models.base import Classifier, ModelSpec, family, family_names, register

FAMILY_MODULES = ("kmer_logreg", "gc_logreg")

for _module in FAMILY_MODULES:
    importlib.import_module(f"seqclass.models.{_module}")

__all__ = ["Classifier", "ModelSpec", "family", "family_names", "register"]
