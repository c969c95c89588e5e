"""Small slices of ../shared/data in its own layout, for running the recipe scripts in minutes.

Used by tests/test_recipes.py (the chains on a slice) and tools/same_outputs.py (the same
chains before and after a refactor must write the same predictions and metrics).
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from seqclass.io.sequences import read_sequences


def write_fasta(path: Path, records) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt") as fh:
        fh.writelines(f">{rid} {desc}".rstrip() + f"\n{seq}\n" for rid, desc, seq in records)


def read_records(path: Path, keep=lambda i, rec: True, cut: int | None = None) -> list:
    return [(r.id, r.description, r.sequence[:cut]) for i, r in enumerate(read_sequences(path))
            if keep(i, r)]


def _spread(records: list, n: int) -> list:
    """n records evenly spaced through a file (neighbours are often one family)."""
    return records[::max(1, len(records) // n)][:n]


def write_slices(root: Path, data: Path) -> Path:
    """data's layout under root with a few dozen sequences per class, cut short."""
    genes = read_records(data / "arg" / "argannot.fasta", cut=1100)
    by_class = {c: _spread([g for g in genes if f"~~~({c})" in g[0]], 24) for c in ("Bla", "AGly", "MLS")}
    write_fasta(root / "arg" / "argannot.fasta", [g for group in by_class.values() for g in group])
    for name in ("non_arg_orfs_s_epidermidis.fasta", "non_arg_orfs_e_coli_K12.fasta"):
        write_fasta(root / "arg" / name, read_records(data / "arg" / name, lambda i, r: i < 40, cut=1100))
    prom = data / "promoters"
    for name in ("Bacillus_prom.fa", "Bacillus_non_prom.fa"):
        write_fasta(root / "promoters" / name, read_records(prom / name, lambda i, r: i < 60))
    write_fasta(root / "genomes" / "s_epidermidis_ST14.fa.gz",
                read_records(data / "genomes" / "s_epidermidis_ST14.fa.gz", lambda i, r: i == 0, cut=30_000))
    for path in sorted((data / "protein_localization").glob("*.fasta")):
        write_fasta(root / "protein_localization" / path.name,
                    read_records(path, lambda i, r: i < 24, cut=150))
    replicons = read_records(data / "plasmid" / "plasmidfinder.fasta", cut=400)
    families = {f: [r for r in replicons if re.match(p, r[0].split("~~~")[1])]
                for f, p in (("Inc", "Inc"), ("rep", "(?i)rep"), ("Col", "Col"))}
    write_fasta(root / "plasmid" / "plasmidfinder.fasta",
                [r for f in families.values() for r in _spread(f, 20)])
    return root


def arg_query(slices: Path) -> list:
    """A gene of at least the long model's 1024-nt window and two shorter pieces of it."""
    gene = next(g for g in read_records(slices / "arg" / "argannot.fasta") if len(g[2]) >= 1024)
    return [gene, ("piece", "", gene[2][200:500]), ("read", "", gene[2][600:700])]


# recipe -> the scripts' size variables for a tiny run
SIZES = {
    "arg": {},
    "promoter": {"LM_STEPS": 4, "EPOCHS": 2},
    "protein_localization": {"EPOCHS": 2},
    "plasmid": {"K": 4, "EPOCHS": 2},
}
