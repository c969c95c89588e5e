"""The package's layers run one way: each imports only the layers below it.

    __main__, cli                 the command (`python -m seqclass`, `seqclass`)
    steps                         one module per `seqclass <step>`
    interpretation, reporting     saliency and tracks; MultiQC content (they use models)
    models                        the families, the registry, model directories
    training                      the training loops, checkpoints, optimizer, devices
    data, evaluation              datasets, splits, chunks; metrics, calls, the predictions table
    io, sequence, spec            files; alphabets, k-mers, windows; the shared types
    config, errors, environment   foundations
    seqclass/__init__             the version

Every import counts, also those inside functions and under TYPE_CHECKING: an import that
runs only when a model trains is still a dependency. Packages in one layer do not import
each other. docs/architecture.md describes the same layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "seqclass"
LAYERS = [
    {"__main__"},
    {"cli"},
    {"steps"},
    {"interpretation", "reporting"},
    {"models"},
    {"training"},
    {"data", "evaluation"},
    {"io", "sequence", "spec"},
    {"config", "errors", "environment"},
    {"__init__"},
]
LEVEL = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _unit(module: str) -> str:
    """`seqclass.models.store` → models; `seqclass` itself → __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _is_module(name: str) -> bool:
    """Whether `from seqclass import name` imports a module (else the package's own attribute)."""
    if (PACKAGE / f"{name}.py").is_file() or (PACKAGE / name).is_dir():
        return True
    assert name == "__version__", f"seqclass has no module {name}"
    return False


def imports() -> list[tuple[str, str, int]]:
    """(importing file, imported seqclass module, line) for every import in the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{rel}:{node.lineno}: relative import"
                base = node.module or ""
                # `from seqclass import config` imports the module seqclass.config
                names = [f"{base}.{a.name}" if base == "seqclass" and _is_module(a.name) else base
                         for a in node.names]
            else:
                continue
            found += [(str(rel), name, node.lineno) for name in names
                      if name == "seqclass" or name.startswith("seqclass.")]
    return found


def _importer(rel: str) -> str:
    parts = Path(rel).with_suffix("").parts  # ("seqclass", "models", "store")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_module_has_a_layer():
    units = {_importer(str(p.relative_to(PACKAGE.parent))) for p in PACKAGE.rglob("*.py")}
    assert units <= set(LEVEL), f"not in LAYERS: {sorted(units - set(LEVEL))}"


def test_no_import_runs_up_a_layer_or_across_one():
    found = imports()
    assert len(found) > 100  # the walk sees the package's imports
    wrong = [f"{rel}:{line} imports {name}" for rel, name, line in found
             if (src := _importer(rel)) != (dst := _unit(name))
             and (LEVEL[dst] < LEVEL[src] or (LEVEL[dst] == LEVEL[src]))]
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_networks_know_no_family():
    """models.networks are plain nn.Modules: the families build them, not the other way round."""
    wrong = [f"{rel}:{line} imports {name}" for rel, name, line in imports()
             if rel.startswith("seqclass/models/networks/")
             and name.startswith("seqclass.models") and not name.startswith("seqclass.models.networks")]
    assert not wrong, "\n".join(wrong)
