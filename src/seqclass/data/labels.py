"""Where labels come from: the file name, a header, a table column, or the ABRicate header forms.

A label source is written `filename`, `argannot`, `plasmidfinder`, `header-key:KEY`,
`header-regex:REGEX` or `column:NAME`. Multi-label values are joined with `;` in sorted order.
`argannot` reads the drug class of an ARG-ANNOT header, `plasmidfinder` the replicon family
of a PlasmidFinder one (see `plasmidfinder_label`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from seqclass.io.sequences import Record

LABEL_SEP = ";"

# ARG-ANNOT drug-class codes: `Flqn` is the fluoroquinolone code as written in combined classes
_ARGANNOT_ALIASES = {"Flqn": "Flq"}
_ARGANNOT_RE = re.compile(r"\(([A-Za-z_]+)\)")
# PlasmidFinder replicon names: Inc groups (IncFII_1, and the F-type FIA/FIB/FII(p...) written
# without the prefix), rep/Rep proteins of Gram-positive plasmids (rep7a_..., RepA_1_...) and
# small Col plasmids (Col440I_1, ColRNAI_1). Other names (p0111_1, pSL483_1) are `other`, kept
# rather than refused so that a user sees them (split --min-class-clusters can drop them).
_PLASMID_FAMILIES = (("Inc", re.compile(r"^(Inc|F(IA|IB|IC|II))")), ("rep", re.compile(r"^rep", re.I)),
                     ("Col", re.compile(r"^Col")))


@dataclass(frozen=True)
class LabelSource:
    kind: str  # filename | argannot | header-key | header-regex | column
    arg: str = ""

    @classmethod
    def parse(cls, text: str) -> LabelSource:
        kind, _, arg = text.partition(":")
        if kind in ("filename", "argannot", "plasmidfinder") and not arg:
            return cls(kind)
        if kind in ("header-key", "column") and arg:
            return cls(kind, arg)
        if kind == "header-regex" and arg:
            try:
                re.compile(arg)
            except re.error as err:
                raise ValueError(f"--label-from {text!r}: bad regular expression ({err})") from None
            return cls(kind, arg)
        raise ValueError(
            f"--label-from {text!r}: expected filename, argannot, plasmidfinder, header-key:KEY, "
            "header-regex:REGEX or column:NAME"
        )

    def from_record(self, record: Record) -> str | None:
        """The record's label, or None where the header does not carry one."""
        header = f"{record.id} {record.description}".strip()
        if self.kind == "argannot":
            return argannot_label(header)
        if self.kind == "plasmidfinder":
            return plasmidfinder_label(header)
        if self.kind == "header-key":
            m = re.search(rf"(?:^|[\s|;]){re.escape(self.arg)}=([^\s|;]+)", header)
            return m.group(1) if m else None
        if self.kind == "header-regex":
            m = re.search(self.arg, header)
            if not m:
                return None
            return m.group(1) if m.groups() else m.group(0)
        raise ValueError(f"label source {self.kind} does not read headers")


def argannot_label(header: str) -> str | None:
    """`argannot~~~(AGly_Flqn)aac(6')-Ib-cr~~~...` → `AGly;Flq`."""
    m = _ARGANNOT_RE.search(header)
    if not m:
        return None
    parts = [_ARGANNOT_ALIASES.get(p, p) for p in m.group(1).split("_") if p]
    return join_labels(parts)


def plasmidfinder_label(header: str) -> str | None:
    """`plasmidfinder~~~IncFII_1~~~AY458016~~~` → `Inc`; `rep7a_1_...` → `rep`; `p0111_1` → `other`.

    None (no label) for a header not in the `db~~~name~~~accession` form."""
    parts = header.split("~~~")
    if len(parts) < 3:
        return None
    return next((family for family, pattern in _PLASMID_FAMILIES if pattern.search(parts[1])), "other")


def join_labels(labels) -> str:
    return LABEL_SEP.join(sorted(set(labels)))


def split_label(label: str) -> list[str]:
    return [x for x in label.split(LABEL_SEP) if x]
