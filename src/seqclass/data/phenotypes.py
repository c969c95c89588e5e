"""Drug-resistance phenotypes per sample, turned into multi-label labels.

Data contract: a CSV/TSV (or Parquet) table in one of two shapes, told apart by its columns:

- long: columns `sample`, `drug`, `resistant`, one row per sample and drug;
- wide: a column `sample` and one column per drug, one row per sample.

Values are `0` (susceptible) or `1` (resistant). A sample's label is the set of drugs it
resists, sorted and `;`-joined; a sample susceptible to every drug has the empty label (an
all-zero target row of the multi-label task), so a model's classes are exactly the drugs.
Each sample needs a value for every drug of the table, because a multi-label target has no
"unknown": an empty value, anything but 0/1, a (sample, drug) pair given twice, a drug name
holding the label separator, a sample without phenotypes or phenotypes of a sample with no
alignments are errors naming the file and record.
"""

from __future__ import annotations

from pathlib import Path

from seqclass.data.labels import LABEL_SEP, join_labels
from seqclass.errors import InputError
from seqclass.io.sequences import read_table

LONG_COLUMNS = ("sample", "drug", "resistant")
VALUES = {"0": 0, "1": 1}


def read_phenotypes(path: Path) -> tuple[list[str], dict[str, dict[str, int]]]:
    """(drugs in table order, sample → drug → 0/1) of a long or wide table."""
    frame = read_table(path, required=("sample",), what="phenotype table",
                       expected="sample,drug,resistant or sample,<drug>,<drug>...")
    if frame.empty:
        raise InputError("phenotype table has no rows", path)
    if all(c in frame.columns for c in LONG_COLUMNS):
        triples = [(str(r["sample"]).strip(), str(r["drug"]).strip(), str(r["resistant"]).strip())
                   for _, r in frame.iterrows()]
    else:
        drugs = [str(c) for c in frame.columns if c != "sample"]
        if not drugs:
            raise InputError("phenotype table has no drug columns", path)
        triples = [(str(r["sample"]).strip(), d, str(r[d]).strip())
                   for _, r in frame.iterrows() for d in drugs]
    drugs_seen: dict[str, None] = {}
    table: dict[str, dict[str, int]] = {}
    for sample, drug, value in triples:
        if not sample:
            raise InputError("empty sample name", path)
        if not drug or LABEL_SEP in drug or drug != drug.strip():
            raise InputError(f"drug name {drug!r} must be non-empty, without {LABEL_SEP!r} or "
                             "surrounding spaces", path, sample)
        if value not in VALUES:
            raise InputError(f"{drug}: expected 0 (susceptible) or 1 (resistant), got {value!r}",
                             path, sample)
        row = table.setdefault(sample, {})
        if drug in row:
            raise InputError(f"{drug} given twice", path, sample)
        row[drug] = VALUES[value]
        drugs_seen[drug] = None
    drugs = list(drugs_seen)
    for sample, row in table.items():
        missing = [d for d in drugs if d not in row]
        if missing:
            raise InputError(f"no phenotype for {', '.join(missing)}", path, sample)
    return drugs, table


def sample_labels(path: Path, samples: list[str]) -> tuple[list[str], dict[str, str]]:
    """(drugs, sample → label) for exactly the given samples."""
    drugs, table = read_phenotypes(path)
    for sample in samples:
        if sample not in table:
            raise InputError("no phenotypes for this sample", path, sample)
    extra = [s for s in table if s not in set(samples)]
    if extra:
        raise InputError(f"phenotypes of {len(extra)} sample(s) without alignments (given: "
                         f"{len(samples)} BAMs)", path, extra[0])
    return drugs, {s: join_labels(d for d, r in table[s].items() if r) for s in samples}
