"""Model families behind one registry and one contract (see `base.Classifier`).

Importing this package imports every module of `seqclass.models.families`: a new family is
one file there whose class is decorated with `@register("name")`. A family that needs more
than the core install says so in `requires` (PyTorch for the deep ones, also transformers
for the Hugging Face ones); where those are missing it is listed as unavailable instead of
registered, and asking for it says what to install. Family modules import PyTorch only when a
model is trained or loaded, so registering them costs nothing and a linear family never
imports it.
"""

from __future__ import annotations

import importlib
import pkgutil

from seqclass.models import families
from seqclass.models.base import Classifier, family, family_names, register

for _module in sorted(m.name for m in pkgutil.iter_modules(families.__path__)):
    importlib.import_module(f"{families.__name__}.{_module}")

__all__ = ["Classifier", "family", "family_names", "register"]
