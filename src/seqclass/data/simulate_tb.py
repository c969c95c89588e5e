"""Simulated TB-style drug-resistance data for the aligned-reads route: reads, BAMs, phenotypes.

    python -m seqclass.data.simulate_tb --outdir simulated_tb         # 200 samples, ~1 min on 2 cores
    python -m seqclass.data.simulate_tb --outdir tiny --panel tiny --samples 20 --gene-length 300 \\
        --coverage 20                                                # the tests' set, seconds

Nothing here is M. tuberculosis data. The reference is one random chromosome (`sim_chr`, GC
65% like the TB genome) holding "genes" named after those of the isoniazid practical (katG,
the inhA promoter, ahpC, rpoB, ...), with random intergenic sequence between them. Each gene
gets causal SNPs at random positions (the catalogue); some are shared by two drugs, as the
inhA promoter mutation confers isoniazid and ethionamide resistance. Each sample carries each
causal SNP with probability --resistance-rate, plus --neutral-snps random SNPs in the genes;
it is resistant to a drug exactly when it carries one of the drug's causal SNPs, and
--label-noise then flips each phenotype with that probability. Reads come from wgsim (paired,
--read-length, ~--coverage over the genes and --flank on each side, no extra wgsim mutations),
are aligned with `bwa mem` (read group SM = sample) and sorted and indexed with samtools.
Everything follows from --seed: a rerun writes the same files.

Writes into --outdir:
  reference.fa       the simulated chromosome, indexed for bwa beside it (reference.fa.amb, ...)
  regions.bed        the genes: chrom, 0-based start, end, name, in chromosome order
  catalogue.tsv      causal SNPs: region, position (1-based on sim_chr), ref, alt, drugs (;-joined)
  truth.tsv          every planted SNP: sample, region, position (1-based), ref, alt, drugs (empty: neutral)
  phenotypes.csv     sample and one 0/1 column per drug (after --label-noise)
  samplesheet.csv    sample,fastq_1,fastq_2 (the pipeline's --reads)
  reads/<sample>_1.fq.gz, reads/<sample>_2.fq.gz
  bam/<sample>.bam, bam/<sample>.bam.bai
Needs wgsim, bwa and samtools on PATH (Debian: apt-get install samtools bwa; wgsim comes with
samtools there, or as its own package). Standard library only, like the rest of the data layer
it imports nothing from models, training or steps; tests/test_bam.py and tests/test_pipeline.py
run it as a subprocess.
"""

from __future__ import annotations

import argparse
import gzip
import random
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

CHROM = "sim_chr"
TOOLS = ("wgsim", "bwa", "samtools")
# (region, causal SNPs in it, drugs each of them confers)
PANELS = {
    "full": [("katG", 2, ("isoniazid",)), ("inhA_promoter", 1, ("ethionamide", "isoniazid")),
             ("ahpC", 1, ("isoniazid",)), ("rpoB", 3, ("rifampicin",)), ("embB", 2, ("ethambutol",)),
             ("pncA", 3, ("pyrazinamide",)), ("rpsL", 1, ("streptomycin",)),
             ("gyrA", 2, ("moxifloxacin",))],
    "tiny": [("katG", 1, ("isoniazid",)), ("inhA_promoter", 1, ("ethionamide", "isoniazid")),
             ("rpoB", 2, ("rifampicin",))],
}
FRAGMENT, FRAGMENT_SD = 300, 30  # wgsim outer distance and its standard deviation


@dataclass(frozen=True)
class Snp:
    region: str
    pos: int  # 0-based on CHROM
    ref: str
    alt: str
    drugs: tuple[str, ...]  # empty: neutral


def random_dna(rng: random.Random, n: int, gc: float) -> str:
    return "".join(rng.choices("ACGT", weights=(1 - gc, gc, gc, 1 - gc), k=n))


def other_base(rng: random.Random, base: str) -> str:
    return rng.choice([b for b in "ACGT" if b != base])


def layout(args, rng: random.Random) -> tuple[str, list[tuple[str, int, int]], list[Snp]]:
    """The chromosome, its regions (name, start, end) and the causal SNP catalogue."""
    panel = PANELS[args.panel]
    gap = 2 * args.flank + 400  # reads of neighbouring genes never meet: uncovered stretches between
    regions, pos = [], gap
    for name, _, _ in panel:
        regions.append((name, pos, pos + args.gene_length))
        pos += args.gene_length + gap
    chrom = random_dna(rng, pos, args.gc)
    catalogue = []
    for (name, n_causal, drugs), (_, start, end) in zip(panel, regions):
        for offset in sorted(rng.sample(range(10, end - start - 10), n_causal)):
            p = start + offset
            catalogue.append(Snp(name, p, chrom[p], other_base(rng, chrom[p]), drugs))
    return chrom, regions, catalogue


def samples(args, rng: random.Random, chrom: str, regions, catalogue: list[Snp]):
    """(sample, planted SNPs, phenotype per drug) for each sample."""
    drugs = sorted({d for snp in catalogue for d in snp.drugs})
    causal = {snp.pos for snp in catalogue}
    for i in range(1, args.samples + 1):
        snps = [snp for snp in catalogue if rng.random() < args.resistance_rate]
        for _ in range(args.neutral_snps):
            name, start, end = rng.choice(regions)
            p = rng.choice([q for q in range(start, end) if q not in causal | {s.pos for s in snps}])
            snps.append(Snp(name, p, chrom[p], other_base(rng, chrom[p]), ()))
        resistant = {d for snp in snps for d in snp.drugs}
        phenotype = {d: int((d in resistant) != (rng.random() < args.label_noise)) for d in drugs}
        yield f"sim{i:03d}", sorted(snps, key=lambda s: s.pos), phenotype


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kwargs)


def simulate_sample(args, outdir: Path, chrom: str, regions, sample: str, snps: list[Snp],
                    seed: int) -> None:
    """Reads of one sample's genes (with flanks), aligned, sorted and indexed."""
    genome = list(chrom)
    for snp in snps:
        genome[snp.pos] = snp.alt
    with tempfile.TemporaryDirectory(dir=outdir) as tmp_name:
        tmp = Path(tmp_name)
        windows = [(max(0, s - args.flank), min(len(genome), e + args.flank)) for _, s, e in regions]
        with open(tmp / "windows.fa", "w") as fh:
            for a, b in windows:
                fh.write(f">{sample}_{a}\n{''.join(genome[a:b])}\n")
        pairs = round(args.coverage * sum(b - a for a, b in windows) / (2 * args.read_length))
        run(["wgsim", "-S", str(seed), "-N", str(pairs), "-1", str(args.read_length),
             "-2", str(args.read_length), "-d", str(FRAGMENT), "-s", str(FRAGMENT_SD),
             "-e", str(args.error_rate), "-r", "0", "-R", "0",
             str(tmp / "windows.fa"), str(tmp / "r1.fq"), str(tmp / "r2.fq")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        reads = []
        for mate in (1, 2):
            target = outdir / "reads" / f"{sample}_{mate}.fq.gz"
            with open(tmp / f"r{mate}.fq", "rb") as src, open(target, "wb") as raw, \
                    gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as dst:  # mtime 0: same bytes each run
                shutil.copyfileobj(src, dst)
            reads.append(target)
        bam = outdir / "bam" / f"{sample}.bam"
        # -K: a fixed batch size makes bwa's output independent of the thread count
        align = subprocess.Popen(["bwa", "mem", "-t", "1", "-K", "10000000", "-R",
                                  f"@RG\\tID:{sample}\\tSM:{sample}", str(outdir / "reference.fa"),
                                  *map(str, reads)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert align.stdout is not None  # stdout=PIPE
        run(["samtools", "sort", "-o", str(bam), "-T", str(tmp / "sort"), "-"], stdin=align.stdout,
            stderr=subprocess.DEVNULL)
        align.stdout.close()
        if align.wait() != 0:
            raise RuntimeError(f"bwa mem failed on {sample}")
        run(["samtools", "index", str(bam)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outdir", type=Path, required=True)
    parser.add_argument("--panel", choices=sorted(PANELS), default="full",
                        help="full: 8 genes, 7 drugs; tiny: 3 genes, 3 drugs")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--gene-length", type=int, default=1500)
    parser.add_argument("--gc", type=float, default=0.65)
    parser.add_argument("--resistance-rate", type=float, default=0.15,
                        help="probability that a sample carries each causal SNP")
    parser.add_argument("--neutral-snps", type=int, default=3, help="random SNPs per sample")
    parser.add_argument("--label-noise", type=float, default=0.0,
                        help="probability of flipping each phenotype")
    parser.add_argument("--coverage", type=float, default=30.0)
    parser.add_argument("--read-length", type=int, default=100)
    parser.add_argument("--flank", type=int, default=FRAGMENT,
                        help="bases simulated beyond each gene, so its ends are covered too")
    parser.add_argument("--error-rate", type=float, default=0.002, help="wgsim base error rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="samples simulated at once")
    args = parser.parse_args(argv)
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        print(f"simulate_tb.py: not on PATH: {', '.join(missing)} (apt-get install samtools bwa)",
              file=sys.stderr)
        return 1
    if args.gene_length < 40 or args.samples < 1:
        parser.error("--gene-length must be at least 40 and --samples at least 1")

    rng = random.Random(args.seed)
    out = args.outdir
    for sub in ("reads", "bam"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    chrom, regions, catalogue = layout(args, rng)
    (out / "reference.fa").write_text(f">{CHROM} simulated chromosome (seqclass simulate_tb.py, "
                                      f"seed {args.seed})\n"
                                      + "\n".join(chrom[i:i + 80] for i in range(0, len(chrom), 80)) + "\n")
    run(["bwa", "index", str(out / "reference.fa")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    (out / "regions.bed").write_text("".join(f"{CHROM}\t{s}\t{e}\t{n}\n" for n, s, e in regions))
    (out / "catalogue.tsv").write_text("region\tposition\tref\talt\tdrugs\n" + "".join(
        f"{s.region}\t{s.pos + 1}\t{s.ref}\t{s.alt}\t{';'.join(s.drugs)}\n" for s in catalogue))

    cohort = list(samples(args, rng, chrom, regions, catalogue))
    drugs = sorted({d for snp in catalogue for d in snp.drugs})
    (out / "phenotypes.csv").write_text(",".join(["sample", *drugs]) + "\n" + "".join(
        ",".join([name, *(str(pheno[d]) for d in drugs)]) + "\n" for name, _, pheno in cohort))
    (out / "truth.tsv").write_text("sample\tregion\tposition\tref\talt\tdrugs\n" + "".join(
        f"{name}\t{s.region}\t{s.pos + 1}\t{s.ref}\t{s.alt}\t{';'.join(s.drugs)}\n"
        for name, snps, _ in cohort for s in snps))
    (out / "samplesheet.csv").write_text("sample,fastq_1,fastq_2\n" + "".join(
        f"{name},reads/{name}_1.fq.gz,reads/{name}_2.fq.gz\n" for name, _, _ in cohort))
    with ThreadPoolExecutor(max_workers=max(1, args.threads)) as pool:
        # wgsim takes -S 0 for "seed from the clock": every sample's seed is positive
        jobs = [pool.submit(simulate_sample, args, out, chrom, regions, name, snps,
                            args.seed * 100_003 + i)
                for i, (name, snps, _) in enumerate(cohort, 1)]
        for job in jobs:
            job.result()
    resistant = {d: sum(p[d] for _, _, p in cohort) for d in drugs}
    print(f"simulate_tb.py: {len(cohort)} simulated samples, {len(regions)} regions, "
          f"{len(catalogue)} causal SNPs → {out}; resistant: "
          + ", ".join(f"{d} {n}" for d, n in resistant.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
