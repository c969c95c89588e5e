"""Model families behind one registry and one contract (see `base.Classifier`).

Importing this package registers every family module listed in `FAMILY_MODULES`;
a new family is one file here that decorates its class with `@register("name")`.
The deep families (`DEEP_FAMILY_MODULES`) need PyTorch, the `deep` extra; their modules
import it only when a model is trained or loaded, so registering them costs nothing and
a linear family never imports it. Without PyTorch they are not registered, and asking
for one says what to install.
"""

from __future__ import annotations

import importlib
import importlib.util

from seqclass.models.base import (
    UNAVAILABLE,
    Classifier,
    ModelSpec,
    TrainContext,
    family,
    family_names,
    register,
)

FAMILY_MODULES = ("kmer_logreg", "gc_logreg", "similarity")
HF_FAMILY_MODULES = ("hf", "hf_embed")
DEEP_FAMILY_MODULES = ("cnn", "bilstm", "embedding_bag", "transformer", "awd_lstm")


def transformers_available() -> bool:
    try:
        return importlib.util.find_spec("transformers") is not None
    except (ImportError, ValueError):
        return False


def torch_available() -> bool:
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # an import hook refuses it, or a broken entry
        return False


for _module in FAMILY_MODULES:
    importlib.import_module(f"seqclass.models.{_module}")
if torch_available():
    for _module in DEEP_FAMILY_MODULES:
        importlib.import_module(f"seqclass.models.{_module}")
else:
    for _module in DEEP_FAMILY_MODULES:  # module cnn registers "cnn", embedding_bag "embedding-bag"
        UNAVAILABLE[_module.replace("_", "-")] = \
            "needs PyTorch: pip install torch, or pip install 'seqclass[deep]'"
# fine-tuned and frozen Hugging Face models: PyTorch and transformers (the `hf` extra);
# their modules import transformers only when a model is trained or loaded
if torch_available() and transformers_available():
    for _module in HF_FAMILY_MODULES:
        importlib.import_module(f"seqclass.models.{_module}")
else:
    for _module in HF_FAMILY_MODULES:  # module hf_embed registers "hf-embed"
        UNAVAILABLE[_module.replace("_", "-")] = \
            "needs PyTorch and transformers: pip install 'seqclass[deep,hf]'"

__all__ = ["Classifier", "ModelSpec", "TrainContext", "family", "family_names", "register"]
