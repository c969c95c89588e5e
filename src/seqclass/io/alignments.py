"""Consensus sequences of reference regions from aligned reads: the `--bam` route of build and predict.

Data contract:

- **Alignments**: one coordinate-sorted, indexed BAM per sample (`samtools index` writes the
  `.bai`). The sample is the SM tag of the file's read groups (one SM per file), else the file
  name without `.bam`; two files of one sample are an error.
- **Regions**: BED (tab-separated chrom, start, end, name; 0-based, end exclusive; further
  columns, the strand among them, are ignored) or CSV/TSV with a header naming
  chrom,start,end,name (1-based, both ends inclusive, as in GFF, VCF and `samtools faidx`),
  told apart by the file name. Names are unique; the file's order is kept.
- **Reference**: the FASTA the reads were aligned to. Regions must lie within its sequences,
  and the BAM header must give each region's chromosome the length the FASTA gives it (reads
  aligned to another assembly are refused).
- **Consensus**, per reference position of a region, on the forward strand: among reads of
  mapping quality >= min_mapq that are not unmapped, secondary, QC-failed or duplicates, the
  bases of quality >= min_baseq and the deletions over that position are counted. Fewer than
  min_depth of them gives `N`; otherwise the most frequent of A, C, G, T and deletion, where a
  deletion or a tie gives `N` too, so that sequences stay over the DNA alphabet. Insertions
  are ignored: position i of a region's consensus is reference position start + i in every
  sample, a fixed layout that the cnn family's one-hot encoding turns into a per-position
  matrix.
- **Records**: per sample, its regions in file order joined by `spacer` Ns (id: the sample),
  or with `per_region` one record per region (id: `<sample>|<region>`).

pysam (the `bam` extra) is imported only here and only when alignments are read, so every
other route of seqclass works without it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqclass.config import option
from seqclass.errors import InputError
from seqclass.io.sequences import is_table, open_text, read_sequences, read_table

REGION_COLUMNS = ("chrom", "start", "end", "name")
# reads samtools mpileup also skips: unmapped, secondary, QC-failed, duplicate
SKIP_FLAGS = 0x4 | 0x100 | 0x200 | 0x400
# the call of each row of the count matrix: the four bases, then deletions, which are called N
CALLS = np.array(list("ACGTN"))
DELETION = 4
_REF_ADVANCING = (0, 3, 7, 8)  # CIGAR M, N, =, X: move along the reference without a deletion
_CIGAR_DEL = 2


@dataclass(kw_only=True)
class ConsensusOptions:
    """The `--bam` flags that build and predict share (their Config dataclasses extend this)."""

    bam: list[Path] = option(
        "aligned reads instead of --input: coordinate-sorted, indexed BAM files, one per sample "
        "(the sample is the read groups' SM tag, else the file name); needs pysam, the `bam` extra",
        [], nargs="+", metavar="BAM")
    regions: Path | None = option(
        "with --bam: regions to call, BED (chrom, 0-based start, end, name) or CSV/TSV with columns "
        "chrom,start,end,name (1-based, inclusive)", None)
    reference: Path | None = option("with --bam: the FASTA the reads were aligned to", None)
    min_mapq: int = option("with --bam: reads of lower mapping quality are not counted", 20)
    min_baseq: int = option("with --bam: bases of lower base quality are not counted", 13)
    min_depth: int = option("with --bam: positions with fewer counted bases and deletions are N", 5)
    per_region: bool = option(
        "with --bam: one record per sample and region (id SAMPLE|REGION) instead of one per "
        "sample with its regions joined", False)
    spacer: int = option("with --bam: Ns between the joined regions of a sample", 20)


@dataclass(frozen=True)
class Region:
    chrom: str
    start: int  # 0-based
    end: int    # exclusive
    name: str


@dataclass
class SampleConsensus:
    """One BAM's consensus over every region, in region order, and what was masked."""

    sample: str
    path: Path
    regions: list[Region]
    sequences: list[str]
    stats: dict

    def records(self, per_region: bool, spacer: int) -> list[tuple[str, str, str]]:
        """(id, region, sequence): one per region, or one with the regions joined by Ns."""
        if per_region:
            return [(f"{self.sample}|{r.name}", r.name, s) for r, s in zip(self.regions, self.sequences)]
        return [(self.sample, "+".join(r.name for r in self.regions), ("N" * spacer).join(self.sequences))]


def check_options(opts: ConsensusOptions) -> None:
    """The --bam flags make sense together (they are read only when --bam is given)."""
    missing = [flag for flag, value in (("--regions", opts.regions), ("--reference", opts.reference))
               if value is None]
    if missing:
        raise InputError(f"--bam needs {' and '.join(missing)}")
    for flag, value, least in (("--min-mapq", opts.min_mapq, 0), ("--min-baseq", opts.min_baseq, 0),
                               ("--min-depth", opts.min_depth, 1), ("--spacer", opts.spacer, 0)):
        if value < least:
            raise InputError(f"{flag} {value}: must be at least {least}")


def read_regions(path: Path) -> list[Region]:
    """Regions of a BED file (0-based, end exclusive) or a CSV/TSV table (1-based, inclusive)."""
    regions = _regions_table(path) if is_table(path) else _regions_bed(path)
    if not regions:
        raise InputError("no regions", path)
    seen: set[str] = set()
    for r in regions:
        if r.name in seen:
            raise InputError("region name given twice", path, r.name)
        seen.add(r.name)
    return regions


def _region(path: Path, where: str, chrom: str, start: str, end: str, name: str, *,
            one_based: bool) -> Region:
    try:
        a, b = int(start), int(end)
    except ValueError:
        raise InputError(f"start and end must be integers, got {start!r}, {end!r}", path, where) from None
    if one_based:
        a -= 1  # 1-based inclusive → 0-based half-open: the end stays
    if not chrom or not name:
        raise InputError("empty chrom or name", path, where)
    if a < 0 or b <= a:
        rule = "1 <= start <= end, 1-based" if one_based else "0 <= start < end, 0-based"
        raise InputError(f"bad coordinates {start}-{end} (need {rule})", path, where)
    return Region(chrom, a, b, name)


def _regions_bed(path: Path) -> list[Region]:
    regions = []
    with contextlib.closing(open_text(path)) as fh:
        try:
            lines = list(fh)
        except (UnicodeDecodeError, EOFError, OSError) as err:
            raise InputError(f"cannot read BED ({err})", path) from None
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        cols = line.rstrip("\r\n").split("\t")
        if len(cols) < 4:
            raise InputError(f"a BED line needs 4 tab-separated columns (chrom, start, end, name), "
                             f"found {len(cols)}", path, f"line {n}")
        regions.append(_region(path, cols[3] or f"line {n}", *cols[:4], one_based=False))
    return regions


def _regions_table(path: Path) -> list[Region]:
    frame = read_table(path, required=REGION_COLUMNS, what="regions table",
                       expected=f"{','.join(REGION_COLUMNS)}, 1-based inclusive")
    return [_region(path, str(row["name"]) or f"row {i + 2}",
                    *(str(row[c]).strip() for c in REGION_COLUMNS), one_based=True)
            for i, row in frame.iterrows()]


def reference_lengths(path: Path) -> dict[str, int]:
    """Sequence name → length of a FASTA, read record by record."""
    return {rec.id: len(rec.sequence) for rec in read_sequences(path)}


def check_regions(regions: list[Region], lengths: dict[str, int], regions_path: Path,
                  reference: Path) -> None:
    for r in regions:
        if r.chrom not in lengths:
            raise InputError(f"chromosome {r.chrom!r} is not in the reference {reference}",
                             regions_path, r.name)
        if r.end > lengths[r.chrom]:
            raise InputError(f"ends at {r.end}, after the end of {r.chrom} ({lengths[r.chrom]} in "
                             f"{reference})", regions_path, r.name)


def _pysam():
    try:
        import pysam
    except ImportError:
        raise InputError("--bam needs pysam: pip install 'seqclass[bam]' (or pip install pysam)") from None
    return pysam


@contextlib.contextmanager
def _quiet(pysam) -> Iterator[None]:
    """htslib writes its own warnings to stderr; the InputError raised instead is the one line."""
    before = pysam.set_verbosity(0)
    try:
        yield
    finally:
        pysam.set_verbosity(before)


def _open(pysam, path: Path):
    if not path.exists():
        raise InputError("file not found", path)
    try:
        bam = pysam.AlignmentFile(str(path), "rb")
    except (ValueError, OSError) as err:
        raise InputError(f"not a readable BAM file, or truncated ({err})", path) from None
    if not bam.is_bam:
        bam.close()
        raise InputError("not a BAM file (convert with `samtools sort -o FILE.bam`)", path)
    if not bam.has_index():
        bam.close()
        raise InputError(f"no index beside it: run `samtools index {path}`", path)
    return bam


def sample_name(bam, path: Path) -> str:
    names = sorted({rg["SM"] for rg in bam.header.to_dict().get("RG", []) if rg.get("SM")})
    if len(names) > 1:
        raise InputError(f"read groups of several samples ({', '.join(names)}); give one BAM per sample",
                         path)
    if names:
        return names[0]
    return path.name[:-4] if path.name.endswith(".bam") else path.name


def _check_header(bam, path: Path, regions: list[Region], lengths: dict[str, int],
                  reference: Path) -> None:
    header = dict(zip(bam.references, bam.lengths))
    for r in regions:
        if r.chrom not in header:
            raise InputError(f"chromosome {r.chrom!r} of region {r.name!r} is not in the BAM header "
                             f"(has {', '.join(list(header)[:5]) or 'none'})", path, r.name)
        if header[r.chrom] != lengths[r.chrom]:
            raise InputError(f"{r.chrom} has length {header[r.chrom]} in the BAM header but "
                             f"{lengths[r.chrom]} in {reference}: aligned to another reference",
                             path, r.name)


def _counts(bam, region: Region, opts: ConsensusOptions) -> np.ndarray:
    """Counted A, C, G, T and deletions at each position of the region.  # (5, L)"""
    def keep(read) -> bool:
        return read.mapping_quality >= opts.min_mapq and not read.flag & SKIP_FLAGS

    length = region.end - region.start
    counts = np.zeros((5, length), dtype=np.int64)
    # count_coverage counts a base when its quality is >= quality_threshold
    counts[:4] = np.asarray(bam.count_coverage(region.chrom, region.start, region.end,
                                               quality_threshold=opts.min_baseq, read_callback=keep))
    for read in bam.fetch(region.chrom, region.start, region.end):
        if not keep(read) or "D" not in (read.cigarstring or ""):
            continue
        pos = read.reference_start
        for op, n in read.cigartuples:
            if op == _CIGAR_DEL:
                a, b = max(pos, region.start), min(pos + n, region.end)
                if a < b:
                    counts[DELETION, a - region.start:b - region.start] += 1
                pos += n
            elif op in _REF_ADVANCING:
                pos += n
    return counts


def call(counts: np.ndarray, min_depth: int) -> tuple[str, dict[str, int]]:
    """The consensus of a (5, L) count matrix and how many positions were masked, and why."""
    depth = counts.sum(axis=0)
    best = counts.argmax(axis=0)
    tie = (counts == counts.max(axis=0)).sum(axis=0) > 1
    low = depth < min_depth
    deletion = ~low & ~tie & (best == DELETION)
    calls = CALLS[best]
    calls[low | tie] = "N"
    return "".join(calls.tolist()), {"low_depth": int(low.sum()), "deletion": int(deletion.sum()),
                                     "tie": int((~low & tie).sum()), "depth_sum": int(depth.sum())}


def read_samples(opts: ConsensusOptions) -> tuple[list[Region], list[str],
                                                   Iterator[SampleConsensus]]:
    """The regions, the sample names and each BAM's consensus, in the order given.

    Every input is checked before the first consensus is computed (regions against the
    reference, each BAM's index, header and sample name, sample names unique), so a bad file
    fails the step at once; the consensus itself is computed one sample at a time.
    """
    check_options(opts)
    assert opts.regions is not None and opts.reference is not None  # check_options made sure
    pysam = _pysam()
    regions = read_regions(opts.regions)
    lengths = reference_lengths(opts.reference)
    check_regions(regions, lengths, opts.regions, opts.reference)
    names: dict[str, Path] = {}
    with _quiet(pysam):
        for path in map(Path, opts.bam):
            with contextlib.closing(_open(pysam, path)) as bam:
                name = sample_name(bam, path)
                _check_header(bam, path, regions, lengths, opts.reference)
            if name in names:
                raise InputError(f"sample {name!r} is also the sample of {names[name]}", path)
            names[name] = path
    return regions, list(names), _consensus_all(pysam, names, regions, opts)


def _consensus_all(pysam, names: dict[str, Path], regions: list[Region],
                   opts: ConsensusOptions) -> Iterator[SampleConsensus]:
    for name, path in names.items():
        with _quiet(pysam), contextlib.closing(_open(pysam, path)) as bam:
            sequences, totals = [], {"low_depth": 0, "deletion": 0, "tie": 0, "depth_sum": 0}
            for region in regions:
                try:
                    seq, stats = call(_counts(bam, region, opts), opts.min_depth)
                except (OSError, ValueError) as err:
                    raise InputError(f"cannot read alignments ({err}); truncated?", path,
                                     region.name) from None
                sequences.append(seq)
                for key, value in stats.items():
                    totals[key] += value
        positions = sum(r.end - r.start for r in regions)
        if totals["low_depth"] == positions:
            raise InputError(f"no position of any region has --min-depth {opts.min_depth} counted "
                             f"bases (mapping quality >= {opts.min_mapq}, base quality >= "
                             f"{opts.min_baseq}): reads of another reference or region?", path)
        yield SampleConsensus(
            name, path, regions, sequences,
            {"positions": positions, "low_depth": totals["low_depth"], "deletion": totals["deletion"],
             "tie": totals["tie"], "mean_depth": round(totals["depth_sum"] / positions, 3)})
